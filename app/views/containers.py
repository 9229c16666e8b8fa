"""The Containers view: a tree of containers (Compose projects grouped), actions, stats, details.

Data flow (no polling): ``client_changed`` -> one full list; ``engine_event`` (container events)
-> the ids are collected and re-listed in one ``filters={"id": [...]}`` request (a burst of 200
starts costs a handful of requests), ``destroy`` removes the row. CPU and memory come from one
stats stream per *visible* running row while the view is shown, stopped when it is hidden, the
row scrolls away, the window is minimized, or the container stops. The streams are read off the
GUI thread by ONE :class:`engine.stats_monitor.StatsMonitor` thread over raw sockets, which keeps
only the latest sample per container (TLS endpoints fall back to async streams on the loop).
ONE timer (running only while stats are wanted) takes the latest samples and applies them to the
model once per tick — 1 s, 2 s while the window is not focused — as one ``dataChanged`` range
per parent. Nothing runs on the GUI thread per sample.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.models.containers import (
    ACTIVE_STATES,
    COL,
    GROUP_PREFIX,
    ContainersFilter,
    ContainersModel,
    container_row,
)
from app.models.docker_run import docker_run_command
from app.models.keyed import ID_ROLE
from app.resources import icon
from app.widgets.state_page import EngineStatePage
from engine.endpoint import Endpoint
from engine.errors import EngineError, NotFound
from engine.stats_monitor import StatsMonitor, supports

log = logging.getLogger(__name__)

IGNORED_ACTIONS = {
    "attach",
    "detach",
    "resize",
    "top",
    "export",
    "commit",
    "copy",
    "archive-path",
    "extract-to-dir",
    "exec_create",
    "exec_start",
    "exec_die",
    "exec_detach",
}
ID_BATCH = 100
MAX_STATS_STREAMS = 40
STATS_TICK_MS = 1000  # apply collected stats samples this often (window focused)
STATS_TICK_UNFOCUSED_MS = 2000
LOG_TAIL_LINES = 5000


class ContainerStore(QObject):
    """Keeps :class:`ContainersModel` in step with the engine: resync + event diffs + stats."""

    synced = Signal()  # after every full resync
    row_updated = Signal(str)  # a container id whose row changed through an event

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = ContainersModel(self)
        self._pending: set[str] = set()
        self._flushing = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(15)
        self._flush_timer.timeout.connect(self._flush)
        # Where samples come from while stats are wanted: one background thread reading raw
        # sockets (engine.stats_monitor), or async streams for TLS endpoints.
        self._source: StatsMonitor | AsyncStatsSource | None = None
        self._stats_tick = QTimer(self)
        self._stats_tick.setInterval(STATS_TICK_MS)
        self._stats_tick.timeout.connect(self.apply_stats)
        self.stats_ticks = 0  # ticks that changed the model (for tests and benchmarks)
        self.synced_once = False
        ctx.client_changed.connect(self._on_client)
        ctx.engine_event.connect(self._on_event)
        if ctx.client is not None:
            self.resync()

    # -- resync ---------------------------------------------------------------------------------
    def _on_client(self, client: Any) -> None:
        self.stop_all_stats()
        if client is None:
            return
        self.resync()

    def resync(self) -> None:
        client = self.ctx.client
        if client is None:
            return

        async def _list() -> list[Any]:
            return list(await client.containers.list(all=True))

        self.ctx.runner.run(
            _list,
            key="containers.refresh",
            title="List containers",
            on_done=self._apply_list,
            on_error=self._quiet_when_disconnected,
        )

    def _apply_list(self, summaries: list[Any]) -> None:
        old = {cid: self.model.get(cid) for cid in self.model.ids()}
        rows = {}
        for s in summaries:
            row = container_row(s)
            prev = old.get(s.id)
            if prev is not None and row["state"] == "running":
                row.update(
                    cpu=prev.get("cpu"), mem=prev.get("mem"), mem_limit=prev.get("mem_limit")
                )
            rows[s.id] = row
        self.model.set_rows(rows)
        self.synced_once = True
        self.synced.emit()
        if self._pending:
            self._flush_timer.start()

    def _quiet_when_disconnected(self, exc: BaseException) -> bool:
        # The connection went away mid-request: the state page says so; no dialog.
        return self.ctx.client is None and isinstance(exc, (EngineError, OSError))

    # -- events ---------------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if getattr(event, "type", "") != "container":
            return
        action = str(getattr(event, "action", "")).split(":", 1)[0]
        cid = str(getattr(event, "actor_id", ""))
        if not cid or action in IGNORED_ACTIONS:
            return
        if action == "destroy":
            self._pending.discard(cid)
            self._stop_stats(cid)
            self.model.remove(cid)
            return
        self._pending.add(cid)
        if not self._flushing and not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        client = self.ctx.client
        if client is None or not self._pending or self._flushing:
            return
        ids = sorted(self._pending)[:ID_BATCH]
        self._pending.difference_update(ids)
        self._flushing = True

        async def _list() -> list[Any]:
            return list(await client.containers.list(all=True, filters={"id": ids}))

        def _done(summaries: list[Any]) -> None:
            self._flushing = False
            seen = set()
            for s in summaries:
                seen.add(s.id)
                row = container_row(s)
                prev = self.model.get(s.id)
                if prev is not None and row["state"] == "running":
                    row.update(
                        cpu=prev.get("cpu"), mem=prev.get("mem"), mem_limit=prev.get("mem_limit")
                    )
                if row["state"] != "running":
                    self._stop_stats(s.id)
                self.model.upsert(s.id, row)
                self.row_updated.emit(s.id)
            for cid in ids:
                if cid not in seen:
                    self._stop_stats(cid)
                    self.model.remove(cid)
            if self._pending:
                self._flush_timer.start()

        def _failed(exc: BaseException) -> bool:
            self._flushing = False
            return self._quiet_when_disconnected(exc)

        task = self.ctx.runner.run(
            _list, title="Update containers", on_done=_done, on_error=_failed
        )
        task.add_done_callback(
            lambda t: setattr(self, "_flushing", False) if t.cancelled() else None
        )

    # -- stats ----------------------------------------------------------------------------------
    def set_stats_targets(self, ids: Iterable[str]) -> None:
        """Stream stats for exactly these (running) container ids; stop the others."""
        wanted: list[str] = []
        for cid in ids:
            row = self.model.get(cid)
            if row is not None and row.get("state") == "running":
                wanted.append(cid)
            if len(wanted) >= MAX_STATS_STREAMS:
                break
        gone = [c for c in self.stats_streams if c not in wanted]
        client = self.ctx.client
        if not wanted or client is None:
            self._close_source()
        else:
            if self._source is None:
                self._source = stats_source_for(client)
            self._source.set_targets(wanted)
        self._clear_stats(gone)
        self._update_tick()

    @property
    def stats_streams(self) -> set[str]:
        return self._source.targets if self._source is not None else set()

    def pending_stats(self) -> set[str]:
        """Ids with a stats sample collected since the last tick and not applied yet."""
        return self._source.pending() if self._source is not None else set()

    def drop_pending_stats(self) -> None:
        """Forget the samples collected since the last tick."""
        if self._source is not None:
            self._source.latest()

    @property
    def stats_interval(self) -> int:
        """Milliseconds between two applications of the collected samples."""
        return self._stats_tick.interval()

    def set_stats_interval(self, ms: int) -> None:
        if ms != self._stats_tick.interval():
            self._stats_tick.setInterval(ms)  # restarts an active timer with the new interval

    def _update_tick(self) -> None:
        if self._source is not None and not self._stats_tick.isActive():
            self._stats_tick.start()
        elif self._source is None and self._stats_tick.isActive():
            self._stats_tick.stop()

    def apply_stats(self) -> None:
        """Apply the latest samples collected since the last tick in one model update."""
        source = self._source
        if source is None:
            return
        for cid, exc in source.errors().items():
            log.debug("stats for %s ended: %s", cid[:12], exc)
        samples = source.latest()
        if not samples:
            return
        targets = source.targets
        batch = {
            cid: (float(s.cpu_percent), int(s.memory_usage), int(s.memory_limit))
            for cid, s in samples.items()
            if cid in targets
        }
        if batch and self.model.update_stats(batch):
            self.stats_ticks += 1

    def _close_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def _clear_stats(self, ids: Iterable[str]) -> None:
        self.model.update_stats({cid: (None, None, None) for cid in ids})

    def _stop_stats(self, cid: str) -> None:
        source = self._source
        if source is None or cid not in source.targets:
            self._clear_stats([cid])
            return
        self.set_stats_targets([c for c in source.targets if c != cid])

    def stop_all_stats(self) -> None:
        self.set_stats_targets([])


class AsyncStatsSource:
    """TLS endpoints: one ``client.containers.stats`` stream per container on the GUI loop.

    Same interface as :class:`engine.stats_monitor.StatsMonitor` (which cannot read TLS): each
    stream only records its latest sample; the store's tick takes them.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._latest: dict[str, Any] = {}
        self._errors: dict[str, BaseException] = {}

    def set_targets(self, ids: Iterable[str]) -> None:
        wanted = set(ids)
        for cid in [c for c in self._tasks if c not in wanted]:
            self._tasks.pop(cid).cancel()
            self._latest.pop(cid, None)
        for cid in wanted - set(self._tasks):
            task = asyncio.ensure_future(self._stream(cid))
            self._tasks[cid] = task
            task.add_done_callback(functools.partial(self._done, cid))

    @property
    def targets(self) -> set[str]:
        return set(self._tasks)

    def pending(self) -> set[str]:
        return set(self._latest)

    def latest(self) -> dict[str, Any]:
        out, self._latest = self._latest, {}
        return out

    def errors(self) -> dict[str, BaseException]:
        out, self._errors = self._errors, {}
        return out

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._latest.clear()

    def _done(self, cid: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(cid) is task:
            del self._tasks[cid]

    async def _stream(self, cid: str) -> None:
        try:
            async for sample in self._client.containers.stats(cid, stream=True):
                self._latest[cid] = sample
        except (EngineError, OSError) as exc:
            self._errors[cid] = exc


def stats_source_for(client: Any) -> StatsMonitor | AsyncStatsSource:
    """The one-thread raw-socket monitor where it can read the endpoint, else the async client."""
    endpoint = getattr(client, "endpoint", None)
    if isinstance(endpoint, Endpoint) and supports(endpoint):
        return StatsMonitor(endpoint, getattr(client, "api_version", None))
    return AsyncStatsSource(client)


class LogPane(QPlainTextEdit):
    """A bounded log view: keeps the last LOG_TAIL_LINES lines, appends in batches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(LOG_TAIL_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = self.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.setFont(font)
        self._buffer: list[str] = []
        self._buffered = 0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.flush)

    def feed(self, text: str) -> None:
        self._buffer.append(text)
        self._buffered += len(text)
        if self._buffered > 4_000_000:  # a flood: keep only the tail we would show anyway
            joined = "".join(self._buffer)
            self._buffer = ["\n".join(joined.splitlines()[-LOG_TAIL_LINES:]) + "\n"]
            self._buffered = len(self._buffer[0])
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._buffer:
            self._timer.stop()  # runs only while data arrives
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end:
            bar.setValue(bar.maximum())

    def reset(self) -> None:
        self._buffer.clear()
        self._buffered = 0
        self._timer.stop()
        self.clear()


class DetailsPanel(QWidget):
    """Inspect summary + a live logs tail of one container."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id: str | None = None
        self._logs_task: asyncio.Task[None] | None = None
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close details (Esc)")
        close.clicked.connect(self.close_panel)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(close)

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.logs = LogPane()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.logs, "Logs")
        self.tabs.addTab(self.form_host, "Summary")
        self.tabs.addTab(self.raw, "Inspect")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.tabs)
        QShortcut(
            QKeySequence(Qt.Key.Key_Escape),
            self,
            self.close_panel,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )

    def show_container(self, cid: str) -> None:
        self.stop_logs()
        self.container_id = cid
        self.logs.reset()
        self.title.setText(cid[:12])
        self.show()
        client = self.ctx.client
        if client is None:
            return
        self.ctx.runner.run(
            lambda: client.containers.inspect(cid),
            key="containers.details",
            title="Inspect container",
            on_done=self._fill,
        )
        self._logs_task = asyncio.ensure_future(self._follow_logs(client, cid))

    def _fill(self, details: Any) -> None:
        raw = getattr(details, "raw", {}) or {}
        config = raw.get("Config") or {}
        state = raw.get("State") or {}
        host = raw.get("HostConfig") or {}
        self.title.setText(str(raw.get("Name", "")).lstrip("/") or str(details.id)[:12])
        while self.form.rowCount():
            self.form.removeRow(0)
        ports = ", ".join(
            f"{(h or {}).get('HostPort', '')}→{p}"
            for p, hs in (host.get("PortBindings") or {}).items()
            for h in hs or [{}]
        )
        mounts = "\n".join(
            f"{m.get('Source') or m.get('Name', '')} → {m.get('Destination', '')}"
            for m in raw.get("Mounts") or ()
        )
        rows = [
            ("ID", str(raw.get("Id", ""))),
            ("Image", str(config.get("Image", ""))),
            (
                "State",
                f"{state.get('Status', '')}"
                + (
                    f" (exit code {state.get('ExitCode')})"
                    if state.get("Status") == "exited"
                    else ""
                ),
            ),
            ("Started", str(state.get("StartedAt", ""))),
            ("Command", " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])),
            ("Ports", ports or "none"),
            ("Mounts", mounts or "none"),
            ("Networks", ", ".join((raw.get("NetworkSettings") or {}).get("Networks") or {})),
            ("Restart", str((host.get("RestartPolicy") or {}).get("Name") or "no")),
            ("Environment", f"{len(config.get('Env') or [])} variables"),
        ]
        for label, value in rows:
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            self.form.addRow(label, field)
        self.raw.setPlainText(json.dumps(raw, indent=2, sort_keys=True))

    async def _follow_logs(self, client: Any, cid: str) -> None:
        try:
            async for _kind, text in client.containers.logs(cid, follow=True, tail=LOG_TAIL_LINES):
                self.logs.feed(text)
        except NotFound:
            self.logs.feed("\n[the container was removed]\n")
        except (EngineError, OSError) as exc:
            self.logs.feed(f"\n[log stream ended: {exc}]\n")

    def stop_logs(self) -> None:
        if self._logs_task is not None and not self._logs_task.done():
            self._logs_task.cancel()
        self._logs_task = None

    def close_panel(self) -> None:
        self.stop_logs()
        self.container_id = None
        self.hide()


class ContainersView(QWidget):
    """Containers: search, running/all filter, actions, Compose groups, stats, details."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store = ContainerStore(ctx, self)
        self.model = self.store.model
        self.proxy = ContainersFilter(self)
        self.proxy.setSourceModel(self.model)
        # Dialog hooks (tests replace them; the app asks the user).
        self.confirm: Callable[[str, str], bool] = self._ask
        self.ask_text: Callable[[str, str, str], str | None] = self._ask_text

        # toolbar
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, image, id, label…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("action-search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.textChanged.connect(self.proxy.set_search)
        self.running_only = QCheckBox("Running only")
        self.running_only.toggled.connect(self.proxy.set_running_only)
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, icon_name, handler in (
            ("start", "Start", "action-start", lambda: self.act("start")),
            ("stop", "Stop", "action-stop", lambda: self.act("stop")),
            ("restart", "Restart", "action-restart", lambda: self.act("restart")),
            ("pause", "Pause / unpause", "action-pause", self.toggle_pause),
            ("kill", "Kill", "action-kill", lambda: self.act("kill")),
            ("remove", "Remove…", "action-remove", self.remove_selected),
            ("rename", "Rename…", "action-rename", self.rename_selected),
            ("copy_run", "Copy as docker run", "action-copy", self.copy_run_selected),
            ("details", "Details (Enter)", "action-details", self.open_selected),
        ):
            action = QAction(icon(icon_name), text, self)
            action.setToolTip(text)
            action.triggered.connect(handler)
            self.toolbar.addAction(action)
            self.actions_by_name[name] = action
        self.count_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.running_only)
        top.addWidget(self.toolbar)
        top.addWidget(self.count_label)

        # tree
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(COL["name"], Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.doubleClicked.connect(lambda _i: self.open_selected())
        self.tree.clicked.connect(self._on_clicked)
        self.tree.setMouseTracking(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL["name"], QHeaderView.ResizeMode.Stretch)
        for key, width in (
            ("image", 220),
            ("state", 120),
            ("ports", 150),
            ("created", 110),
            ("cpu", 70),
            ("mem", 90),
        ):
            col = COL.get(key, COL.get(f"{key}_text", -1))
            if col >= 0:
                header.resizeSection(col, width)
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.proxy.rowsInserted.connect(self._expand_groups)
        self.proxy.layoutChanged.connect(self._schedule_stats)
        self.proxy.rowsInserted.connect(self._schedule_stats)
        self.proxy.rowsRemoved.connect(self._schedule_stats)
        self.model.rowsInserted.connect(self._update_count)
        self.model.rowsRemoved.connect(self._update_count)
        self.tree.verticalScrollBar().valueChanged.connect(self._schedule_stats)
        self.tree.expanded.connect(self._schedule_stats)
        self.tree.collapsed.connect(self._schedule_stats)
        self.tree.viewport().installEventFilter(self)
        self.store.row_updated.connect(self._on_row_updated)
        self.store.synced.connect(self._schedule_stats)

        self.details = DetailsPanel(ctx)
        self.details.hide()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        table_page = QWidget()
        tl = QVBoxLayout(table_page)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(top)
        tl.addWidget(splitter)
        self.empty_hint = QLabel(
            "No containers yet. Run one from the Images view, or with `docker run` "
            "against this engine."
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        tl.addWidget(self.empty_hint)

        self.state_page = EngineStatePage(ctx, what="containers")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.state_page)
        self.stack.addWidget(table_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._watched_window: QWidget | None = None
        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(150)
        self._stats_timer.timeout.connect(self._update_stats_targets)

        for seq, slot in (
            (QKeySequence.StandardKey.Find, self.focus_search),
            (QKeySequence(Qt.Key.Key_Delete), self.remove_selected),
            (QKeySequence(Qt.Key.Key_Return), self.open_selected),
            (QKeySequence(Qt.Key.Key_Enter), self.open_selected),
        ):
            QShortcut(seq, self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        ctx.client_changed.connect(self._on_client)
        self._on_client(ctx.client)
        self._update_actions()
        self._update_count()

    # -- state ----------------------------------------------------------------------------------
    def _on_client(self, client: Any) -> None:
        self.stack.setCurrentIndex(1 if client is not None else 0)
        if client is None:
            self.details.close_panel()

    def _update_count(self, *_: Any) -> None:
        n = len(self.model)
        running = sum(
            1 for c in self.model.ids() if (self.model.get(c) or {}).get("state") in ACTIVE_STATES
        )
        self.count_label.setText(f"{running} running · {n} total")
        self.empty_hint.setVisible(n == 0 and self.store.synced_once)

    def _on_row_updated(self, cid: str) -> None:
        self._update_count()
        self._update_actions()
        self._schedule_stats()

    def _expand_groups(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        for r in range(first, last + 1):
            idx = self.proxy.index(r, 0)
            if self.proxy.rowCount(idx):
                self.tree.expand(idx)

    # -- stats for visible rows -----------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        window = self.window()
        if window is not self._watched_window:
            # Minimizing does not hide child widgets, and focus sets the refresh rate.
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self)
            window.installEventFilter(self)
            self._watched_window = window
        self._schedule_stats()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        window_change = watched is self._watched_window and kind in (
            QEvent.Type.WindowStateChange,
            QEvent.Type.ActivationChange,
        )
        if window_change or (kind == QEvent.Type.Resize and watched is self.tree.viewport()):
            self._schedule_stats()
        return False

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._stats_timer.stop()
        self.store.set_stats_targets([])

    def _schedule_stats(self, *_: Any) -> None:
        if not self._stats_timer.isActive():
            self._stats_timer.start()

    def visible_ids(self) -> list[str]:
        """Container ids of the rows currently in the viewport."""
        viewport = self.tree.viewport()
        idx = self.tree.indexAt(viewport.rect().topLeft())
        if not idx.isValid():
            idx = self.proxy.index(0, 0)
        out: list[str] = []
        height = viewport.height()
        while idx.isValid():
            rect = self.tree.visualRect(idx)
            if rect.top() > height:
                break
            key = idx.data(ID_ROLE)
            if key and not str(key).startswith(GROUP_PREFIX):
                out.append(str(key))
            idx = self.tree.indexBelow(idx)
        return out

    def stats_wanted(self) -> bool:
        """Stats only while this view is on screen: visible, window not minimized."""
        return self.isVisible() and not self.window().isMinimized() and self.ctx.client is not None

    def _update_stats_targets(self) -> None:
        if not self.stats_wanted():
            self.store.set_stats_targets([])
            return
        focused = self.window().isActiveWindow()
        self.store.set_stats_interval(STATS_TICK_MS if focused else STATS_TICK_UNFOCUSED_MS)
        self.store.set_stats_targets(self.visible_ids())

    # -- selection ------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        """Selected container ids; a selected Compose group stands for all its containers."""
        out: list[str] = []
        for idx in self.tree.selectionModel().selectedRows(0):
            key = str(idx.data(ID_ROLE) or "")
            ids = self.model.children_of(key) if key.startswith(GROUP_PREFIX) else [key]
            out.extend(i for i in ids if i and i not in out)
        return out

    def select(self, keys: Iterable[str]) -> None:
        sel = self.tree.selectionModel()
        sel.clearSelection()
        for key in keys:
            idx = self.proxy.mapFromSource(self.model.index_for(key))
            if idx.isValid():
                sel.select(idx, sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
                self.tree.setCurrentIndex(idx)

    def _update_actions(self) -> None:
        ids = self.selected_ids()
        states = [(self.model.get(i) or {}).get("state") for i in ids]
        any_sel = bool(ids)
        a = self.actions_by_name
        a["start"].setEnabled(any(s not in ("running", "paused") for s in states))
        a["stop"].setEnabled(any(s in ACTIVE_STATES for s in states))
        a["restart"].setEnabled(any_sel)
        a["pause"].setEnabled(any(s in ("running", "paused") for s in states))
        a["kill"].setEnabled(any(s in ACTIVE_STATES for s in states))
        a["remove"].setEnabled(any_sel)
        a["rename"].setEnabled(len(ids) == 1)
        a["copy_run"].setEnabled(len(ids) == 1)
        a["details"].setEnabled(len(ids) == 1)

    # -- actions --------------------------------------------------------------------------------
    def act(self, verb: str, ids: list[str] | None = None) -> asyncio.Task[None] | None:
        """Run ``verb`` (start/stop/restart/pause/unpause/kill) on the given/selected containers."""
        ids = self.selected_ids() if ids is None else ids
        client = self.ctx.client
        if not ids or client is None:
            return None
        names = [str((self.model.get(i) or {}).get("name") or i[:12]) for i in ids]

        async def _do() -> None:
            method = getattr(client.containers, verb)
            errors: list[str] = []
            for cid, name in zip(ids, names, strict=True):
                try:
                    await method(cid)
                except EngineError as exc:
                    errors.append(f"{name}: {exc}")
            if errors:
                raise EngineError("\n".join(errors))

        title = f"{verb.capitalize()} {names[0] if len(names) == 1 else f'{len(names)} containers'}"
        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title=title, notify_when_hidden=len(ids) > 3
        )
        return task

    def toggle_pause(self) -> None:
        ids = self.selected_ids()
        paused = [i for i in ids if (self.model.get(i) or {}).get("state") == "paused"]
        running = [i for i in ids if (self.model.get(i) or {}).get("state") == "running"]
        if paused:
            self.act("unpause", paused)
        if running:
            self.act("pause", running)

    def remove_selected(self) -> asyncio.Task[None] | None:
        ids = self.selected_ids()
        client = self.ctx.client
        if not ids or client is None:
            return None
        running = [i for i in ids if (self.model.get(i) or {}).get("state") in ACTIVE_STATES]
        names = [str((self.model.get(i) or {}).get("name") or i[:12]) for i in ids]
        what = names[0] if len(ids) == 1 else f"{len(ids)} containers ({', '.join(names[:5])}"
        if len(ids) > 1:
            what += ", …)" if len(ids) > 5 else ")"
        text = f"Remove {what}?"
        if running:
            text += f"\n\n{len(running)} running: they will be stopped (killed) first."
        if not self.confirm("Remove containers", text):
            return None

        async def _do() -> None:
            errors = []
            for cid, name in zip(ids, names, strict=True):
                try:
                    await client.containers.remove(cid, force=cid in running)
                except NotFound:
                    continue
                except EngineError as exc:
                    errors.append(f"{name}: {exc}")
            if errors:
                raise EngineError("\n".join(errors))

        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title="Remove containers", notify_when_hidden=True
        )
        return task

    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        old = str((self.model.get(ids[0]) or {}).get("name") or "")
        new = self.ask_text("Rename container", "New name:", old)
        if new and new.strip() and new.strip() != old:
            self.rename(ids[0], new.strip())

    def rename(self, cid: str, new_name: str) -> asyncio.Task[None] | None:
        client = self.ctx.client
        if client is None:
            return None
        task: asyncio.Task[None] = self.ctx.runner.run(
            lambda: client.containers.rename(cid, new_name), title=f"Rename to {new_name}"
        )
        return task

    def copy_run_selected(self) -> asyncio.Task[str] | None:
        ids = self.selected_ids()
        client = self.ctx.client
        if len(ids) != 1 or client is None:
            return None
        cid = ids[0]

        async def _build() -> str:
            details = await client.containers.inspect(cid)
            raw = getattr(details, "raw", {}) or {}
            image_raw = None
            with contextlib.suppress(NotFound):
                image = await client.images.inspect(str(raw.get("Image") or details.image))
                image_raw = getattr(image, "raw", None)
            return docker_run_command(raw, image_raw)

        def _copy(command: str) -> None:
            QApplication.clipboard().setText(command)
            if not self.ctx.window_visible():
                self.ctx.notify("Copied", "The docker run command is on the clipboard.")

        task: asyncio.Task[str] = self.ctx.runner.run(
            _build, title="Copy as docker run", on_done=_copy
        )
        return task

    def open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.details.show_container(ids[0])

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def group_action(self, group_key: str, verb: str) -> None:
        ids = self.model.children_of(group_key)
        if verb == "remove":
            self.select([group_key])
            self.remove_selected()
        else:
            self.act(verb, ids)

    # -- ports ----------------------------------------------------------------------------------
    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() != COL["ports_text"]:
            return
        key = str(index.data(ID_ROLE) or "")
        row = self.model.get(key) or {}
        ports = sorted(
            {int(p["public_port"]) for p in row.get("ports") or () if p.get("public_port")}
        )
        if len(ports) == 1:
            self.open_port(ports[0])
        elif ports:
            menu = QMenu(self)
            for port in ports:
                menu.addAction(f"Open http://localhost:{port}", lambda p=port: self.open_port(p))
            menu.popup(self.tree.viewport().mapToGlobal(self.tree.visualRect(index).bottomLeft()))

    def open_port(self, port: int) -> bool:
        return bool(QDesktopServices.openUrl(QUrl(f"http://localhost:{port}")))

    # -- menus / dialogs ------------------------------------------------------------------------
    def _context_menu(self, pos: Any) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        key = str(index.data(ID_ROLE) or "")
        menu = QMenu(self)
        if key.startswith(GROUP_PREFIX):
            project = key[len(GROUP_PREFIX) :]
            menu.addSection(f"Compose project {project}")
            for verb, text, icon_name in (
                ("start", "Start all", "action-start"),
                ("stop", "Stop all", "action-stop"),
                ("restart", "Restart all", "action-restart"),
                ("remove", "Remove all…", "action-remove"),
            ):
                menu.addAction(icon(icon_name), text, lambda v=verb, k=key: self.group_action(k, v))
        else:
            for name in (
                "start",
                "stop",
                "restart",
                "pause",
                "kill",
                "remove",
                "rename",
                "copy_run",
                "details",
            ):
                menu.addAction(self.actions_by_name[name])
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, label: str, value: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, label, text=value)
        return text if ok else None
