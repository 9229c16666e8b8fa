"""The merged logs window: several containers' logs in one time-ordered, tagged view.

Data flow: one :class:`LogFollower` per container (each on the qasync loop, reading with
``timestamps=1``) hands its batches to :meth:`MergedLogsWindow._lines`, which tags every line with
the container's index and adds the batch to ONE :class:`~.merge.MergedBuffer` (time order across
containers); the shared :class:`LogView` draws it in batches with each line's ``[name]`` tag in
the container's colour. The window listens to ``ctx.engine_event`` for its containers (start,
die, destroy) and gives each follower a fresh inspect, so restarts are followed as on the
container page. A check box per container hides or shows its lines (a redraw from the buffer).
The toolbar (Follow, Timestamps, Wrap, Save…, Clear) is the Logs tab's
:class:`~app.views.container_page.logs.toolbar.LogToolbar`.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import still_alive
from app.views.container_page.logs.buffer import DEFAULT_CAP, NOTICE
from app.views.container_page.logs.follower import DEFAULT_TAIL, LogFollower, now_timestamp
from app.views.container_page.logs.search import SearchBar
from app.views.container_page.logs.tab import write_atomically
from app.views.container_page.logs.toolbar import LogToolbar
from app.views.container_page.logs.view import LogView
from app.views.merged_logs.merge import MergedBuffer
from engine.errors import NotFound

# Tag colours that read on the light and the dark palette, none of them stderr's red.
TAG_COLOURS = (
    "#1e88e5", "#43a047", "#8e24aa", "#fb8c00", "#00897b",
    "#3949ab", "#c0ca33", "#6d4c41", "#d81b60", "#546e7a",
)  # fmt: skip
WATCHED = ("start", "die", "destroy", "restart", "pause", "unpause")


def _close_all(followers: list[LogFollower]) -> None:
    for follower in followers:
        follower.close()


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class MergedLogsWindow(QWidget):
    """The logs of ``containers`` (``[(id, name), …]``) interleaved in time order."""

    def __init__(
        self,
        ctx: Any,
        containers: list[tuple[str, str]],
        parent: QWidget | None = None,
        *,
        cap: int = DEFAULT_CAP,
        tail: int = DEFAULT_TAIL,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.ctx = ctx
        self.containers = containers
        self.setWindowTitle(f"Logs of {', '.join(name for _cid, name in containers)}")
        self.buffer = MergedBuffer(cap)
        self.view = LogView(self.buffer)
        self.view.setAccessibleName("Merged container logs")
        self.view.tags = {
            i: (f"[{name}]", TAG_COLOURS[i % len(TAG_COLOURS)])
            for i, (_cid, name) in enumerate(containers)
        }
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

        title = QLabel(f"Logs of {len(containers)} container{'s' if len(containers) != 1 else ''}")
        title.setObjectName("viewTitle")
        self.boxes: list[QCheckBox] = []
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(QLabel("Show:"))
        for i, (_cid, name) in enumerate(containers):
            box = QCheckBox(name)
            box.setIcon(_swatch(TAG_COLOURS[i % len(TAG_COLOURS)]))
            box.setChecked(True)
            box.setToolTip(f"Show the lines of {name}")
            box.toggled.connect(lambda on, i=i: self.show_source(i, on))
            filters.addWidget(box)
            self.boxes.append(box)
        filters.addStretch(1)
        bar = self.toolbar = LogToolbar(
            self.view,
            follow_tip="Keep the newest lines in view",
            clear_tip="Clear the view (the containers' logs are kept)",
            save_name="merged.log",
        )
        self.follow, self.timestamps, self.wrap = bar.follow, bar.timestamps, bar.wrap
        self.save, self.clear = bar.save, bar.clear
        bar.addStretch(1)
        self.search = SearchBar()
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addLayout(bar)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)

        bar.save_requested.connect(self.save_to)
        self.search.changed.connect(self._search_changed)
        self.search.step.connect(self.view.step_match)
        self.view.drawn.connect(self._update_count)

        self.followers: list[LogFollower] = []
        for i, (cid, name) in enumerate(containers):
            follower = LogFollower(
                ctx,
                cid,
                functools.partial(self._lines, i),
                functools.partial(self._notice, i, name),
                tail=tail,
            )
            self.followers.append(follower)
        ctx.engine_event.connect(self._on_event)
        followers = self.followers
        self.destroyed.connect(lambda *_: _close_all(followers))
        for follower in self.followers:
            follower.start()

    # -- lines ---------------------------------------------------------------------------------

    def _lines(self, source: int, lines: list[Any]) -> None:
        self.buffer.add([(ts, stream, text, source) for ts, stream, text in lines])
        self.view.schedule()

    def _notice(self, source: int, name: str, text: str) -> None:
        self.buffer.add([(now_timestamp(), NOTICE, f"— {name}: {text} —", source)])
        self.view.schedule()

    def show_source(self, source: int, on: bool) -> None:
        if on:
            self.view.hidden_sources.discard(source)
        else:
            self.view.hidden_sources.add(source)
        self.view.redraw()

    # -- engine events -------------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        if self._closed or getattr(event, "type", "") != "container":
            return
        action = str(getattr(event, "action", "") or "")
        if action not in WATCHED:
            return
        actor = str(getattr(event, "actor_id", "") or "")
        for i, (cid, _name) in enumerate(self.containers):
            if actor and (actor == cid or actor.startswith(cid) or cid.startswith(actor)):
                self._refresh(i, removed=action == "destroy")

    def _refresh(self, index: int, *, removed: bool) -> None:
        follower = self.followers[index]

        async def inspect() -> None:
            details = None
            if not removed and self.ctx.client is not None:
                try:
                    details = await self.ctx.client.containers.inspect(follower.container_id)
                except NotFound:
                    details = None
            # deleted with its parent (the window destroyed), no closeEvent: _closed stays False
            if not self._closed and still_alive(self):
                follower.container_changed(details)

        task = asyncio.ensure_future(inspect())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- toolbar -------------------------------------------------------------------------------

    def shown_text(self) -> str:
        return self.view.shown_text()

    def save_to(self, path: Path) -> None:
        try:
            write_atomically(path, self.shown_text())
        except OSError as exc:  # an unwritable folder: say so, never a crash dialog
            QMessageBox.warning(self, "Logs not saved",
                                f"Could not save to {path}: {exc.strerror or exc}. "
                                "Pick another folder.")

    def _search_changed(self) -> None:
        matcher = self.search.matcher()
        self.view.highlight = matcher
        self.view.only = matcher if self.search.only.isChecked() and matcher else None
        self.view.redraw()

    def _update_count(self) -> None:
        matcher = self.view.highlight
        self.search.show_count(matcher, self.view.count_matches() if matcher else 0)

    def close_window(self) -> None:
        """End every stream; idempotent."""
        if self._closed:
            return
        self._closed = True
        for follower in self.followers:
            follower.close()
        for task in list(self._tasks):
            task.cancel()
        self.ctx.engine_event.disconnect(self._on_event)

    def closeEvent(self, event: Any) -> None:
        self.close_window()
        super().closeEvent(event)


def open_merged_logs(
    ctx: Any, containers: list[tuple[str, str]], parent: QWidget
) -> MergedLogsWindow:
    """Open (and return) a merged logs window for ``containers``; it deletes itself on close."""
    window = MergedLogsWindow(ctx, containers, parent)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.resize(1100, 700)
    window.show()
    return window
