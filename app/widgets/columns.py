"""Column widths that follow the window: every column as wide as its content when there is room,
the chosen ones (a long image reference) elided first when there is not.

Data flow: a :class:`ColumnFitter` watches one table or tree — the viewport's resize, rows
inserted or removed, a reset or a new layout — and, at most once per event-loop turn (a 0 ms
single-shot timer), asks the view for each visible column's content width
(``sizeHintForColumn``: the rows on screen only, so it stays cheap on long lists) and sets the
sections, never narrower than the widths the view's author set before installing it. The
header's stretch column keeps taking what is left. Value updates (stats ticks) are looked at
most once a second and only in the columns that changed: when a value no longer fits (a memory
figure grew), the columns are fitted again. Once the user drags a column edge, the fitter leaves
that view alone.

Usage::

    ColumnFitter.install(tree, elide_first=[COL["image"], COL["ports_text"]])
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QTableView,
    QTreeView,
)

MIN_ELIDED = 90  # a column elided first never gets narrower than this
PADDING = 6


class ColumnFitter(QObject):
    """Keeps one view's column widths fitted to content and window (see module doc)."""

    @classmethod
    def install(cls, view: QAbstractItemView, elide_first: Iterable[int] = ()) -> ColumnFitter:
        return cls(view, elide_first)

    def __init__(self, view: QAbstractItemView, elide_first: Iterable[int] = ()) -> None:
        super().__init__(view)
        self.view = view
        self.elide_first = list(elide_first)
        self.user_resized = False
        self._applying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        self._slow = QTimer(self)
        self._slow.setSingleShot(True)
        self._slow.setInterval(1000)
        self._slow.timeout.connect(self._check_changed)
        self._changed: set[int] = set()
        # the author's widths are floors: a column never gets narrower than it was set up
        header = self.header
        self.floor = {c: header.sectionSize(c) for c in range(header.count())}
        view.viewport().installEventFilter(self)
        self.header.sectionResized.connect(self._on_section_resized)
        self._model: QObject | None = None
        self._watch_model()

    @property
    def header(self) -> QHeaderView:
        if isinstance(self.view, QTreeView):
            return self.view.header()
        assert isinstance(self.view, QTableView)
        return self.view.horizontalHeader()

    def _watch_model(self) -> None:
        model = self.view.model()
        if model is None or model is self._model:
            return
        self._model = model
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.layoutChanged):
            signal.connect(self.schedule)
        model.dataChanged.connect(self._schedule_slow)
        self.schedule()

    def _schedule_slow(self, top_left: QModelIndex, bottom_right: QModelIndex, *_: object) -> None:
        if self.user_resized:
            return
        self._changed.update(range(top_left.column(), bottom_right.column() + 1))
        if not self._slow.isActive():
            self._slow.start()

    def _check_changed(self) -> None:
        columns, self._changed = self._changed, set()
        header = self.header
        if any(
            not header.isSectionHidden(c)
            and header.sectionResizeMode(c) != QHeaderView.ResizeMode.Stretch
            and self.view.sizeHintForColumn(c) + PADDING > header.sectionSize(c)
            for c in columns
            if c < header.count()
        ):
            self.fit()

    def schedule(self, *_args: object) -> None:
        if not self.user_resized:
            self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.schedule()
        return False

    def _on_section_resized(self, *_args: object) -> None:
        # a drag by the user (not our own resizeSection, not the stretch column following)
        if (
            not self._applying
            and self.header.underMouse()
            and QApplication.mouseButtons() & Qt.MouseButton.LeftButton
        ):
            self.user_resized = True

    def widths(self) -> dict[int, int]:
        """Each visible column's content width (header text included)."""
        header = self.header
        result = {}
        for col in range(header.count()):
            if header.isSectionHidden(col):
                continue
            content = max(self.view.sizeHintForColumn(col), header.sectionSizeHint(col)) + PADDING
            result[col] = max(content, self.floor.get(col, 0))
        return result

    def fit(self) -> None:
        """Set the sections: content widths when they fit, elide the chosen columns first."""
        if self.user_resized or not self.view.isVisible():
            return
        self._watch_model()
        header = self.header
        wanted = self.widths()
        if not wanted:
            return
        stretch = [
            c for c in wanted if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch
        ]
        if header.stretchLastSection():
            stretch.append(max(wanted, key=header.visualIndex))
        room = self.view.viewport().width()
        over = sum(wanted.values()) - room
        for col in self.elide_first:
            if over <= 0:
                break
            if col in wanted and col not in stretch:
                give = min(over, max(wanted[col] - MIN_ELIDED, 0))
                wanted[col] -= give
                over -= give
        self._applying = True
        try:
            for col, width in wanted.items():
                if col not in stretch and header.sectionSize(col) != width:
                    header.resizeSection(col, width)
        finally:
            self._applying = False
