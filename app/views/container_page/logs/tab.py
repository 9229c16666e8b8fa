"""The Logs tab of the container page (a :class:`~app.views.container_page.tab.PageTab`).

Data flow: a :class:`~.follower.LogFollower` reads the container's logs on the qasync loop and
hands batches of lines to :meth:`LogsTab._lines`, which only appends them to the bounded
:class:`~.buffer.LogBuffer` and schedules the :class:`~.view.LogView`'s draw timer. The toolbar
changes how the buffer is drawn (timestamps, wrap, the line cap, only matching lines) or acts on
it (copy, save, clear, load earlier); its shared part is :class:`~.toolbar.LogToolbar`. The page
calls :meth:`container_changed` after every engine event, which the follower turns into
re-opened streams and notices.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.views.container_page.logs.buffer import DEFAULT_CAP, NOTICE, Line, LogBuffer
from app.views.container_page.logs.follower import DEFAULT_TAIL, LogFollower, now_timestamp
from app.views.container_page.logs.search import SearchBar
from app.views.container_page.logs.toolbar import LogToolbar, tool_button
from app.views.container_page.logs.view import LogView

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.models import ContainerDetails

RECOUNT_MS = 300


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (no half file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LogsTab(QWidget):
    """Live logs of one container: follow, search, filter, timestamps, wrap, save, copy."""

    title: ClassVar[str] = "Logs"

    def __init__(
        self,
        ctx: AppContext,
        container_id: str,
        parent: QWidget | None = None,
        *,
        cap: int = DEFAULT_CAP,
        tail: int | str = DEFAULT_TAIL,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.earlier_count = tail if isinstance(tail, int) else DEFAULT_TAIL
        self.container_id = container_id
        self._tty = False
        self._closed = False
        self.buffer = LogBuffer(cap)
        self.view = LogView(self.buffer)
        self.view.setAccessibleName("Container logs")
        self.follower = LogFollower(ctx, container_id, self._lines, self._notice, tail=tail)

        self.earlier = tool_button(
            "Load earlier", f"Load {self.earlier_count:,} lines before the first one shown"
        )
        self.copy = tool_button("Copy", "Copy the selection, or every shown line when none")
        bar = self.toolbar = LogToolbar(
            self.view,
            follow_tip="Keep the newest lines in view (scroll up to pause)",
            clear_tip="Clear the view (the container's log is kept)",
            save_name=f"{container_id[:12]}.log",
            middle=(self.earlier, self.copy),
        )
        self.follow, self.timestamps, self.wrap = bar.follow, bar.timestamps, bar.wrap
        self.save, self.clear = bar.save, bar.clear
        self.cap = QSpinBox()
        self.cap.setRange(100, 5_000_000)
        self.cap.setSingleStep(1000)
        self.cap.setValue(cap)
        self.cap.setAccessibleName("Lines kept")
        self.cap.setToolTip("The most lines kept; the oldest are dropped")
        cap_label = QLabel("Keep")
        cap_label.setBuddy(self.cap)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.search = SearchBar()

        bar.addSpacing(12)
        bar.addWidget(cap_label)
        bar.addWidget(self.cap)
        bar.addWidget(QLabel("lines"))
        bar.addStretch(1)
        bar.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)

        self.view.follow_changed.connect(self._follow_changed)  # after the toolbar's button
        self.earlier.clicked.connect(self.load_earlier)
        self.copy.clicked.connect(self.copy_lines)
        bar.save_requested.connect(self.save_to)
        self.cap.editingFinished.connect(lambda: self.set_cap(self.cap.value()))
        self.search.changed.connect(self._search_changed)
        self.search.step.connect(self.view.step_match)
        self.view.drawn.connect(self._schedule_recount)
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(RECOUNT_MS)
        self._recount.timeout.connect(self._update_count)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self._focus_search)
        for key, forward in ((QKeySequence.StandardKey.FindNext, True),
                             (QKeySequence.StandardKey.FindPrevious, False)):  # fmt: skip
            step = QShortcut(key, self)
            step.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            step.activated.connect(lambda forward=forward: self.view.step_match(forward))
        follower = self.follower
        self.destroyed.connect(lambda *_: follower.close())  # deleted without close_tab
        self.follower.start()

    def _focus_search(self) -> None:
        self.search.field.setFocus()
        self.search.field.selectAll()

    # -- PageTab -------------------------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Logs are read whether or not the tab is on screen (nothing is missed), but drawn only
        while it is: a flood behind another tab costs the buffering, not the drawing."""
        self.view.set_drawing(active)

    def container_changed(self, details: ContainerDetails | None) -> None:
        if self._closed:
            return
        if details is not None:
            self._tty = details.tty
        self.follower.container_changed(details)
        self._show_state()

    def close_tab(self) -> None:
        self._closed = True
        self.follower.close()
        self.view._timer.stop()

    # -- lines ---------------------------------------------------------------------------------

    def _lines(self, lines: list[Line]) -> None:
        self.buffer.add(lines)
        self.view.schedule()

    def _notice(self, text: str) -> None:
        self.buffer.add([(now_timestamp(), NOTICE, f"— {text} —")])
        self.view.schedule()
        self._show_state()

    def _show_state(self) -> None:
        text = {
            "following": "Following",
            "stopped": "Stopped",
            "removed": "Removed",
            "error": "Stream ended",
        }.get(self.follower.state, "")
        if not self.view.following and self.follower.state == "following":
            text = "Paused (scrolled up)"
        self.status.setText(text)

    def _follow_changed(self, _on: bool) -> None:
        self._show_state()

    def load_earlier(self) -> None:
        first = self.buffer.first_timestamp()
        if not first:
            return
        shown = {(line[1], line[2]) for line in self.buffer.lines if line[0] == first}
        self.earlier.setEnabled(False)
        have = sum(1 for line in self.buffer.lines if line[1] != NOTICE)
        self.follower.load_earlier(
            first, shown, self.earlier_count, self._prepend, have=have, tty=self._tty
        )

    def _prepend(self, lines: list[Line]) -> None:
        self.earlier.setEnabled(True)
        if not lines:
            self._notice("No earlier lines.")
            return
        self.buffer.prepend(lines)
        self.cap.setValue(self.buffer.cap)
        shown = [line for line in lines if self.view.shown(line)]
        self.view.prepend(shown)

    # -- toolbar -------------------------------------------------------------------------------

    def set_cap(self, cap: int) -> None:
        if cap != self.buffer.cap:
            self.buffer.set_cap(cap)
            self.view.redraw()

    def shown_text(self) -> str:
        return self.view.shown_text()

    def copy_lines(self) -> None:
        if self.view.has_selection():
            self.view.copy()
        else:
            QApplication.clipboard().setText(self.shown_text())

    def save_to(self, path: Path) -> None:
        try:
            write_atomically(path, self.shown_text())
        except OSError as exc:
            self._notice(f"Could not save to {path}: {exc.strerror or exc}. Pick another folder.")
            return
        self.status.setText(f"Saved to {path.name}")

    def clear_lines(self) -> None:
        self.toolbar.clear_view()

    # -- search --------------------------------------------------------------------------------

    def _search_changed(self) -> None:
        matcher = self.search.matcher()
        self.view.highlight = matcher
        only = matcher if self.search.only.isChecked() and matcher else None
        if (only is None) != (self.view.only is None) or only is not None:
            self.view.only = only
            self.view.redraw()
        else:
            self.view.viewport().update()
        self._update_count()

    def _schedule_recount(self) -> None:
        if self.view.highlight and not self._recount.isActive():
            self._recount.start()

    def _update_count(self) -> None:
        matcher = self.view.highlight
        self.search.show_count(matcher, self.view.count_matches() if matcher else 0)
