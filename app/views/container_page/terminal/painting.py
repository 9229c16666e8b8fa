"""Painting pyte's cells: the font's cell grid, runs of same-looking cells, the cursor.

Data flow: :class:`TerminalWidget.paintEvent` asks a :class:`GridPainter` (made once per font)
to paint each exposed row. A row is split into runs of cells with the same colours, attributes
and selection state; each run is one background rectangle (only where it differs from the
default background, which the widget fills first) and one ``drawText``. Wide and non-Latin
characters are drawn one by one at their own cell. Colours come from :mod:`.colours` at paint
time, so a theme switch shows on the next repaint.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QPainter

from app import theme
from app.views.container_page.terminal.colours import cell_colour
from app.views.container_page.terminal.screen import Char, Line

#: Characters below this are drawn in runs (Latin, punctuation…); box drawing and beyond are
#: drawn one per cell, as fallback fonts may give them other widths.
_RUN_LIMIT = 0x2500


def _style(char: Char, selected: bool) -> tuple[object, ...]:
    return (
        char.fg, char.bg, char.bold, char.italics, char.underscore, char.strikethrough,
        char.reverse, selected,
    )


def runs(
    line: Line, columns: int, sel_from: int = 0, sel_to: int = 0
) -> Iterator[tuple[int, int, str, Char, bool]]:
    """(first column, cells, text, look, selected) for each run of cells in a row."""
    x = 0
    while x < columns:
        char = line[x]
        selected = sel_from <= x < sel_to
        start = x
        text = [char.data]
        x += 1
        if len(char.data) == 1 and ord(char.data) < _RUN_LIMIT:
            style = _style(char, selected)
            while x < columns:
                nxt = line[x]
                if not (len(nxt.data) == 1 and ord(nxt.data) < _RUN_LIMIT):
                    break
                if _style(nxt, sel_from <= x < sel_to) != style:
                    break
                text.append(nxt.data)
                x += 1
        elif x < columns and line[x].data == "":
            x += 1  # a wide character covers its second cell
        yield start, x - start, "".join(text), char, selected


class GridPainter:
    """Cell metrics of one font and the painting of rows and the cursor in them."""

    def __init__(self, font: QFont) -> None:
        # Cells are whole pixels; the font's advance usually is not (7.8 px…), and a run drawn
        # with it would drift off the grid (a 50-cell run ends a cell early or late). Letter
        # spacing makes every glyph advance exactly one cell.
        advance = QFontMetricsF(font).horizontalAdvance("M")
        self.cw = max(1, math.ceil(advance - 0.01))
        font = QFont(font)
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, self.cw - advance)
        self.font = font
        self.bold = QFont(font)
        self.bold.setBold(True)
        metrics = QFontMetrics(font)
        self.ch = max(1, metrics.height())
        self.ascent = metrics.ascent()

    def paint_row(
        self, painter: QPainter, line: Line, view_y: int, columns: int, sel: tuple[int, int]
    ) -> None:
        top = view_y * self.ch
        for column, cells, text, char, selected in runs(line, columns, *sel):
            self._paint_run(painter, column, cells, top, text, char, selected)

    def _paint_run(
        self, painter: QPainter, column: int, cells: int, top: int, text: str, char: Char,
        selected: bool,
    ) -> None:
        bold = bool(char.bold)
        fg = cell_colour(char.fg, foreground=True, bold=bold)
        bg = cell_colour(char.bg, foreground=False)
        if char.reverse:
            fg, bg = bg, fg
        rect = QRect(column * self.cw, top, cells * self.cw, self.ch)
        if selected:
            palette = theme.current()
            painter.fillRect(rect, QColor(palette.selection))
            fg = QColor(palette.selection_text)
        elif char.bg != "default" or char.reverse:
            painter.fillRect(rect, bg)
        if not text.strip():
            return
        font = self.bold if bold else self.font
        if char.italics or char.underscore or char.strikethrough:
            font = QFont(font)
            font.setItalic(bool(char.italics))
            font.setUnderline(bool(char.underscore))
            font.setStrikeOut(bool(char.strikethrough))
        painter.setFont(font)
        painter.setPen(fg)
        painter.drawText(column * self.cw, top + self.ascent, text)

    def paint_cursor(self, painter: QPainter, char: Char, x: int, y: int, focused: bool) -> None:
        """A block (focused: the character in the background colour) or a hollow box."""
        rect = QRect(x * self.cw, y * self.ch, self.cw, self.ch)
        colour = cell_colour("default", foreground=True)
        if focused:
            painter.fillRect(rect, colour)
            if char.data.strip():
                painter.setFont(self.bold if char.bold else self.font)
                painter.setPen(cell_colour("default", foreground=False))
                painter.drawText(rect.left(), rect.top() + self.ascent, char.data)
        else:
            painter.setPen(colour)
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
