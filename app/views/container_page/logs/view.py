"""The log view: a :class:`~.canvas.LogCanvas` the user reads with mouse and keyboard.

The canvas takes lines from the buffer, scrolls and paints (see :mod:`.canvas` for that data
flow); this adds what the user does with the rows: a selection of (row, column) pairs made by
mouse drag, Shift+click, double click (a word) or Ctrl+A, copied with Ctrl+C or the context menu
(and put in the X primary selection); the keys that scroll (arrows, Page Up/Down, Home/End,
Ctrl+Home/End); and the search steps that select the next or previous match, scrolling it
into view (the search bar in :mod:`.search` drives them). Screen readers: the view has an
accessible name (set by its owner) and an accessible interface (:mod:`.accessible`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
)
from PySide6.QtWidgets import QApplication, QMenu

from app.views.container_page.logs.canvas import MARGIN, LogCanvas, Pos


class LogView(LogCanvas):
    """Read-only, bounded, virtual log text with follow, search, selection and copy.

    Signals (from :class:`~.canvas.LogCanvas`):
        follow_changed(bool): following the end started (True) or paused (False).
        drawn(): after every batch taken from the buffer (for counts and tests).
    """

    # -- selection and copy --------------------------------------------------------------------

    def has_selection(self) -> bool:
        return self._anchor != self._cursor

    def selection(self) -> tuple[Pos, Pos]:
        """(start, end) of the selection as (row, column), start <= end."""
        return self._selection_range()

    def set_selection(self, anchor: Pos, cursor: Pos) -> None:
        self._anchor, self._cursor = anchor, cursor
        self.viewport().update()

    def selected_text(self) -> str:
        (s_row, s_col), (e_row, e_col) = self._selection_range()
        if (s_row, s_col) == (e_row, e_col):
            return ""
        texts = [self.display_text(line) for line in self._slice(s_row, e_row + 1)]
        if not texts:
            return ""
        texts[-1] = texts[-1][:e_col]
        texts[0] = texts[0][s_col:]
        return "\n".join(texts)

    def selectAll(self) -> None:
        rows = self.row_count()
        if rows:
            self.set_selection((0, 0), (rows - 1, len(self.row_text(rows - 1))))

    def copy(self) -> None:
        if self.has_selection():
            QApplication.clipboard().setText(self.selected_text())

    def pos_at(self, x: float, y: float) -> Pos:
        """The (row, column) under a viewport point; above/below the rows: the first/last."""
        rows = self.row_count()
        if rows == 0:
            return (0, 0)
        x -= MARGIN - (0 if self.wrapping else self.horizontalScrollBar().value())
        last = None
        for index, top, height in self._on_screen():
            last = (index, top, height)
            if y < top + height or (index == self._first_row() and y < top):
                layout = self._layout(index)
                for n in range(layout.lineCount()):
                    tl = layout.lineAt(n)
                    if y - top < tl.y() + tl.height() or n == layout.lineCount() - 1:
                        return (index, tl.xToCursor(max(0.0, x)))
        if last is None:
            return (rows - 1, len(self.row_text(rows - 1)))
        index = last[0]
        return (index, len(self.row_text(index)))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = self.pos_at(event.position().x(), event.position().y())
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._cursor = pos
        else:
            self._anchor = self._cursor = pos
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not event.buttons() & Qt.MouseButton.LeftButton:
            return
        y = event.position().y()
        bar = self.verticalScrollBar()
        if y < 0:
            bar.setValue(bar.value() - 1)
        elif y > self.viewport().height():
            bar.setValue(bar.value() + 1)
        self._cursor = self.pos_at(event.position().x(), y)
        self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        clipboard = QGuiApplication.clipboard()
        if self.has_selection() and clipboard.supportsSelection():
            clipboard.setText(self.selected_text(), clipboard.Mode.Selection)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        row, col = self.pos_at(event.position().x(), event.position().y())
        if self.row_count() == 0:
            return
        text = self.row_text(row)
        start = end = min(col, len(text))
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        self.set_selection((row, start), (row, end))

    def context_menu(self) -> QMenu:
        """Copy and Select all, as a text widget's menu has them."""
        menu = QMenu(self)
        copy = menu.addAction("Copy", self.copy)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setEnabled(self.has_selection())
        select = menu.addAction("Select all", self.selectAll)
        select.setShortcut(QKeySequence.StandardKey.SelectAll)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu()
        menu.exec(event.globalPos())
        menu.deleteLater()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll):
            self.selectAll()
            return
        bar = self.verticalScrollBar()
        hbar = self.horizontalScrollBar()
        key = event.key()
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        moves: dict[Any, int] = {
            Qt.Key.Key_Up: bar.value() - 1,
            Qt.Key.Key_Down: bar.value() + 1,
            Qt.Key.Key_PageUp: bar.value() - bar.pageStep(),
            Qt.Key.Key_PageDown: bar.value() + bar.pageStep(),
        }
        if key in moves:
            bar.setValue(moves[key])
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            target = bar if ctrl else hbar  # Ctrl: the first/last row, else the line's ends
            target.setValue(0 if key == Qt.Key.Key_Home else target.maximum())
        elif key == Qt.Key.Key_Left:
            hbar.setValue(hbar.value() - hbar.singleStep())
        elif key == Qt.Key.Key_Right:
            hbar.setValue(hbar.value() + hbar.singleStep())
        else:
            super().keyPressEvent(event)

    # -- search --------------------------------------------------------------------------------

    def count_matches(self) -> int:
        if not self.highlight:
            return 0
        return self.highlight.count(self.display_text(line) for line in self.visible_lines())

    def step_match(self, forward: bool = True) -> bool:
        """Select the next (previous) match after (before) the selection, wrapping around."""
        matcher = self.highlight
        rows = self.row_count()
        if not matcher or rows == 0:
            return False
        start, end = self._selection_range()
        row, col = end if forward else start
        row = min(row, rows - 1)
        for step in range(rows + 1):
            text = self.row_text(row)
            spans = matcher.spans(text)
            if step == 0:
                spans = (
                    [(s, e) for s, e in spans if s >= col]
                    if forward
                    else [(s, e) for s, e in spans if e <= col]
                )
            if spans:
                s, e = spans[0] if forward else spans[-1]
                self._show_match(row, s, e)
                return True
            row = (row + 1) % rows if forward else (row - 1) % rows
        return False

    def _show_match(self, row: int, start: int, end: int) -> None:
        self.set_following(False)
        self.set_selection((row, start), (row, end))
        bar = self.verticalScrollBar()
        self._scroll_to(max(0, min(bar.maximum(), row - bar.pageStep() // 2)))
        if not self.wrapping:
            char = QFontMetrics(self.font()).horizontalAdvance("M")
            hbar = self.horizontalScrollBar()
            left, right = start * char, end * char + 2 * MARGIN
            if left < hbar.value() or right > hbar.value() + self.viewport().width():
                hbar.setValue(max(0, left - self.viewport().width() // 3))

    def visual_rect(self, row: int) -> QRect:
        """Where a row is in the viewport (empty when it is not on screen)."""
        for index, top, height in self._on_screen():
            if index == row:
                return QRect(0, top, self.viewport().width(), height)
        return QRect()
