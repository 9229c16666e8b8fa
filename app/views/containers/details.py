"""The details pane of one container: a live logs tail, an inspect summary, the raw inspect.

``show_container`` inspects the container (runner task keyed ``containers.details``) and starts
ONE ``logs(follow=True)`` reader (:mod:`.logs`) that feeds the :class:`LogPane`; showing another
container or closing the pane cancels it. The view calls :meth:`DetailsPanel.refresh` when the
store re-lists the shown container (an event), so the summary is never older than the row, and
:meth:`DetailsPanel.show_state` when the row's State text changes ("stopping…").

Ctrl+F inside the pane opens ITS find bar (searching the Logs or Inspect text), not the list's
search: the shortcut's context is this pane and its children.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.views.container_page.inspect_tree import build_tree, masked_value
from app.views.containers.keys import shortcut
from app.views.containers.logs import LOG_TAIL_LINES, LogPane, follow_logs, read_end

STALL_GRACE_MS = 1500


def started_text(value: Any) -> str:
    """The engine's RFC 3339 StartedAt as local date and time ("" for never)."""
    from app.models.images import parse_created

    seconds = parse_created(value)
    if seconds <= 0:
        return ""
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


class FindBar(QWidget):
    """Find in a text pane: a field, previous/next, "3 of 12"; Enter = next, Esc closes."""

    def __init__(self, target: Callable[[], QPlainTextEdit]) -> None:
        super().__init__()
        self._target = target
        self.field = QLineEdit()
        self.field.setPlaceholderText("Find in logs or inspect…")
        self.field.setAccessibleName("Find in details")
        self.field.returnPressed.connect(self.find_next)
        self.field.textChanged.connect(lambda _t: self.find_next(from_start=True))
        self.previous = QToolButton()
        self.previous.setText("Previous")
        self.previous.setAccessibleName("Previous match")
        self.previous.clicked.connect(self.find_previous)
        self.next = QToolButton()
        self.next.setText("Next")
        self.next.setAccessibleName("Next match")
        self.next.clicked.connect(lambda: self.find_next())
        self.result = QLabel()
        self.result.setAccessibleDescription("Matches")
        self.close_button = QToolButton()
        self.close_button.setText("Close")
        self.close_button.setAccessibleName("Close find bar")
        self.close_button.clicked.connect(self.close_bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field, 1)
        for w in (self.previous, self.next, self.result, self.close_button):
            layout.addWidget(w)
        self.hide()  # Esc: the pane's shortcut closes this bar first (one shortcut, no ambiguity)

    def open_bar(self) -> None:
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self._target().setFocus()

    def _find(self, backward: bool, from_start: bool = False) -> bool:
        text = self.field.text()
        pane = self._target()
        if not text:
            self.result.setText("")
            return False
        flags = QTextDocument.FindFlag(0)
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        if from_start:
            cursor = pane.textCursor()
            cursor.movePosition(cursor.MoveOperation.Start)
            pane.setTextCursor(cursor)
        found = pane.find(text, flags)
        if not found:  # wrap around
            cursor = pane.textCursor()
            cursor.movePosition(
                cursor.MoveOperation.End if backward else cursor.MoveOperation.Start
            )
            pane.setTextCursor(cursor)
            found = pane.find(text, flags)
        total = pane.toPlainText().lower().count(text.lower())
        self.result.setText(f"{total} match{'es' if total != 1 else ''}" if found else "No match")
        return bool(found)

    def find_next(self, from_start: bool = False) -> bool:
        return self._find(False, from_start)

    def find_previous(self) -> bool:
        return self._find(True)


class DetailsPanel(QWidget):
    """Inspect summary + a live logs tail of one container.

    Signals:
        open_page_requested(str): the "Open page" button (the view opens the container page).
    """

    open_page_requested = Signal(str)

    def __init__(
        self,
        ctx: Any,
        parent: QWidget | None = None,
        *,
        state_text: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id: str | None = None
        self._state_text = state_text
        self._logs_task: asyncio.Task[None] | None = None
        self._state_field: QLabel | None = None
        self._started = ""
        # The run (State.StartedAt) the log stream follows: None until the first inspect says,
        # "" for a stream opened while the container was not running.
        self._stream_run: str | None = None
        self._running = False  # what the newest inspect said
        self.title = QLabel()
        self.title.setAccessibleDescription("Container")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Close details")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Close details (Esc)")
        self.close_button.clicked.connect(self.close_panel)
        self.open_page_button = QToolButton()
        self.open_page_button.setText("Open page")
        self.open_page_button.setAccessibleName("Open the container page")
        self.open_page_button.setToolTip(
            "Logs, terminal, stats, inspect and files of this container (Enter on its row)"
        )
        self.open_page_button.clicked.connect(self._open_page)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.open_page_button)
        head.addWidget(self.close_button)

        self.form_host = QWidget()
        self.form_host.setAccessibleName("Summary")
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setAccessibleName("Inspect (JSON)")
        self.logs = LogPane()
        self.logs.setAccessibleName("Logs")
        self.logs.setPlaceholderText("No output from this container yet.")  # not a blank box
        self.tabs = QTabWidget()
        self.tabs.addTab(self.logs, "Logs")
        self.tabs.addTab(self.form_host, "Summary")
        self.tabs.addTab(self.raw, "Inspect")
        self.find_bar = FindBar(self._find_target)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.tabs)
        shortcut(QKeySequence.StandardKey.Find, self, self.open_find)
        shortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close_panel)

    def _open_page(self) -> None:
        if self.container_id is not None:
            self.open_page_requested.emit(self.container_id)

    # -- find -----------------------------------------------------------------------------------
    def _find_target(self) -> QPlainTextEdit:
        if self.tabs.currentWidget() is self.form_host:
            self.tabs.setCurrentWidget(self.raw)  # the summary's values are all in Inspect
        current = self.tabs.currentWidget()
        return current if isinstance(current, QPlainTextEdit) else self.logs

    def open_find(self) -> None:
        self._find_target()
        self.find_bar.open_bar()

    # -- showing a container --------------------------------------------------------------------
    def show_container(self, cid: str) -> None:
        self.stop_logs()
        self.container_id = cid
        self._stream_run = None
        self._running = False
        self.logs.reset()
        self.raw.clear()
        while self.form.rowCount():
            self.form.removeRow(0)
        self._state_field = None
        self.title.setText(cid[:12])
        self.show()
        client = self.ctx.client
        if client is None:
            return
        self.refresh()
        self._logs_task = asyncio.ensure_future(
            follow_logs(client, cid, self.logs, tail=LOG_TAIL_LINES)
        )

    def refresh(self) -> None:
        """Inspect the shown container again (its row changed); restart a log stream that ended."""
        cid = self.container_id
        client = self.ctx.client
        if cid is None or client is None:
            return
        self.ctx.runner.run(
            lambda: client.containers.inspect(cid),
            key="containers.details",
            title="Inspect container",
            on_done=guarded(self, self._fill),  # the pane may be gone by the answer
            on_error=guarded(self, self._gone),
        )

    def _gone(self, exc: BaseException) -> bool:
        from engine.errors import NotFound

        return isinstance(exc, NotFound)  # removed meanwhile: the view closes or moves on

    def show_state(self) -> None:
        """Show the row's State text (pending "stopping…" included) in the summary."""
        if self._state_field is not None and self.container_id and self._state_text:
            text = self._state_text(self.container_id)
            if text.startswith("Up ") and self._started:
                # The row's "Up 9 seconds" ages on every repaint; a snapshot of it here would
                # soon lag the row. The start time does not age.
                health = text[text.index(" (") :] if " (" in text else ""
                text = f"running since {self._started}{health}"
            if text:
                self._state_field.setText(text)

    def _fill(self, details: Any) -> None:
        raw = getattr(details, "raw", {}) or {}
        if raw.get("Id") != self.container_id:
            return  # an answer about the container shown before
        config = raw.get("Config") or {}
        state = raw.get("State") or {}
        host = raw.get("HostConfig") or {}
        self.title.setText(str(raw.get("Name", "")).lstrip("/") or str(details.id)[:12])
        current = self.tabs.currentIndex()
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
        self._started = started_text(state.get("StartedAt")) if state.get("Running") else ""
        status = str(state.get("Status", ""))
        if status == "exited":
            status += f" (exit code {state.get('ExitCode')})"
        rows = [
            ("ID", str(raw.get("Id", ""))),
            ("Image", str(config.get("Image", ""))),
            ("State", status),
            ("Started", started_text(state.get("StartedAt"))),
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
            field.setAccessibleDescription(label)
            self.form.addRow(label, field)
            if label == "State":
                self._state_field = field
        self.show_state()
        scroll = self.raw.verticalScrollBar().value()
        # secret-looking environment variables masked, as in the container page's Inspect tab
        shown = masked_value(build_tree(raw), set())
        self.raw.setPlainText(json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False))
        self.raw.verticalScrollBar().setValue(scroll)
        self.tabs.setCurrentIndex(current)
        self._follow_run(str(raw["Id"]), state)

    def _follow_run(self, cid: str, state: dict[str, Any]) -> None:
        """Keep ONE log stream on the container's current run.

        A stream opened before the container started (the details of a created or stopped
        container) may never deliver that run's lines: the engine's follow reader of a stopped
        container ends or stalls. So a run the stream does not follow gets a new stream from the
        container's last lines, as showing it anew would; a stream still open after the
        container stopped is replaced by a read of the end (a flood can stall it).
        """
        running = bool(state.get("Running"))
        run = str(state.get("StartedAt") or "") if running else ""
        self._running = running
        if self._stream_run is None:
            self._stream_run = run  # the stream show_container opened follows this run
        client = self.ctx.client
        task = self._logs_task
        if running and client is not None:
            if task is None or task.done() or self._stream_run != run:
                self.stop_logs()
                self.logs.reset()
                self._stream_run = run
                self._logs_task = asyncio.ensure_future(
                    follow_logs(client, cid, self.logs, tail=LOG_TAIL_LINES)
                )
        elif not running and task is not None and not task.done():
            # Stopped, but its follow stream is still open: the engine ends it at once
            # normally; one that stalled under a flood is replaced by a read of the end.
            QTimer.singleShot(STALL_GRACE_MS, self, lambda: self._unstick(task, cid))

    def _unstick(self, task: asyncio.Task[None], cid: str) -> None:
        client = self.ctx.client
        if task is not self._logs_task or task.done() or client is None or self._running:
            return  # ended, replaced, or the container runs again (that stream is needed)
        task.cancel()
        self._logs_task = asyncio.ensure_future(read_end(client, cid, self.logs))

    def stop_logs(self) -> None:
        if self._logs_task is not None and not self._logs_task.done():
            self._logs_task.cancel()
        self._logs_task = None

    def close_panel(self) -> None:
        focus = QApplication.focusWidget()
        if self.find_bar.isVisible() and focus is not None and self.find_bar.isAncestorOf(focus):
            self.find_bar.close_bar()
            return
        self.stop_logs()
        self.container_id = None
        self.hide()
