"""The log canvas: paints only the rows on screen, straight from a :class:`~.buffer.LogBuffer`.

Data flow: the stream callback adds lines to the buffer and calls :meth:`LogCanvas.schedule`;
ONE timer (every :data:`FLUSH_MS` while lines arrive, stopped when a tick finds nothing) takes
what is pending, updates the scroll bars and asks for a repaint. There is no text document: the
buffer's ``deque`` is the only store (with "only matching lines" or hidden containers, a list
of the shown lines of it), so a draw costs the same for 10 lines or 100,000, and memory is
bounded by the buffer's cap. :meth:`paintEvent` lays out the rows in the viewport with one
``QTextLayout`` each (ANSI colours from :mod:`app.widgets.ansi`, stderr in the theme's danger
colour, notices muted, container tags, search matches, the selection) — ~50 rows, whatever the
size of the log.

Rows are the scroll unit (the vertical bar's value is the first row shown), so wrapped rows
need no height table: with wrap on, the rows drawn from the top are laid out at the viewport's
width, and only the last rows' heights are measured to know how far the bar goes. Follow: while
the bar is at the end, new lines scroll into view; scrolling up pauses (``follow_changed``),
the end resumes. The selection is held here as (row, column) pairs because painting draws it
and new or dropped rows move it; :class:`~.view.LogView` adds what the user does with it (mouse,
keys, copy, search steps). Screen readers get the rows on screen (:meth:`screen_text`,
:mod:`.accessible`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from app import theme
from app.views.container_page.logs import accessible
from app.views.container_page.logs.buffer import NOTICE, Line, LogBuffer
from app.views.container_page.logs.search import Matcher
from app.widgets import ansi

FLUSH_MS = 100
STDERR = 2
MARGIN = 4  # pixels left of the text
_HEIGHTS_KEPT = 4096  # wrapped-row line counts remembered (cleared when the width changes)

Pos = tuple[int, int]  # (row, column in the row's display text)


class LogCanvas(QAbstractScrollArea):
    """Read-only, bounded, virtual log text with follow and search highlight; draws a selection.

    Signals:
        follow_changed(bool): following the end started (True) or paused (False).
        drawn(): after every batch taken from the buffer (for counts and tests).
    """

    follow_changed = Signal(bool)
    drawn = Signal()

    def __init__(self, buffer: LogBuffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.show_timestamps = False
        self.only: Matcher | None = None  # show only lines that match
        self.highlight = Matcher("")
        self.hidden_sources: set[int] = set()
        self.tags: dict[int, tuple[str, str]] = {}  # source -> (label, colour), merged view
        self.longest_draw_ms = 0.0  # for the benchmark: the longest flush or paint
        self.drawing = True
        self.wrapping = False
        self._following = True
        self._programmatic = False
        self._filtered: list[Line] | None = None  # the shown lines while a filter is on
        self._seen_dropped = buffer.dropped
        self._max_chars = 0
        self._heights: dict[Line, int] = {}
        self._anchor: Pos = (0, 0)
        self._cursor: Pos = (0, 0)
        accessible.install()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAutoFillBackground(True)
        self.viewport().setBackgroundRole(QPalette.ColorRole.Base)
        font = self.font()
        font.setFamily("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self._a11y_timer = QTimer(self)  # the accessible text follows what is on screen
        self._a11y_timer.setSingleShot(True)
        self._a11y_timer.setInterval(250)
        self._a11y_timer.timeout.connect(self._announce)
        bar = self.verticalScrollBar()
        bar.setSingleStep(1)
        bar.valueChanged.connect(self._on_scroll)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.viewport().update())

    # -- rows ----------------------------------------------------------------------------------

    def _rows(self) -> Sequence[Line]:
        return self._filtered if self._filtered is not None else self.buffer.lines

    def row_count(self) -> int:
        """Rows the view holds (drawn lines; lines still pending in the buffer are not yet)."""
        if self._filtered is not None:
            return len(self._filtered)
        return len(self.buffer.lines) - self.buffer.pending_count

    def row(self, index: int) -> Line:
        return self._rows()[index]

    def _slice(self, start: int, stop: int) -> Iterator[Line]:
        return islice(self._rows(), max(0, start), max(0, min(stop, self.row_count())))

    def row_text(self, index: int) -> str:
        return self.display_text(self.row(index))

    def toPlainText(self) -> str:
        """Every row as shown, one per line (for tests and small logs; not used for painting)."""
        return "\n".join(self.display_text(line) for line in self._slice(0, self.row_count()))

    def _filtering(self) -> bool:
        return bool(self.hidden_sources) or (self.only is not None and bool(self.only))

    def shown(self, line: Line) -> bool:
        if self.hidden_sources and len(line) > 3 and line[3] in self.hidden_sources:
            return False
        if self.only is not None and self.only and line[1] != NOTICE:
            return self.only.matches(self.display_text(line))
        return True

    def prefix(self, line: Line) -> str:
        ts = line[0] if self.show_timestamps and line[0] and line[1] != NOTICE else ""
        return f"{ts} " if ts else ""

    def _tag(self, line: Line) -> str:
        return f"{self.tags[line[3]][0]} " if len(line) > 3 and line[3] in self.tags else ""

    def display_text(self, line: Line) -> str:
        """The line as drawn, without styling (what search, copy and save see)."""
        return self.prefix(line) + self._tag(line) + ansi.strip(line[2])

    def visible_lines(self) -> Iterable[Line]:
        return (line for line in self.buffer.lines if self.shown(line))

    def shown_text(self) -> str:
        """Every shown log line (notices left out), as drawn, one per line (copy and save)."""
        return "".join(
            self.display_text(line) + "\n" for line in self.visible_lines() if line[1] != NOTICE
        )

    # -- follow --------------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        return self._following

    def set_following(self, on: bool) -> None:
        if on:
            self._scroll_to(self.verticalScrollBar().maximum())
        if on != self._following:
            self._following = on
            self.follow_changed.emit(on)

    def _scroll_to(self, value: int) -> None:
        self._programmatic = True
        self.verticalScrollBar().setValue(value)
        self._programmatic = False
        self.viewport().update()

    def _on_scroll(self, value: int) -> None:
        self.viewport().update()
        self._a11y_timer.start()
        if self._programmatic:
            return
        at_end = value >= self.verticalScrollBar().maximum()
        if at_end != self._following:
            self._following = at_end
            self.follow_changed.emit(at_end)

    # -- taking lines from the buffer ----------------------------------------------------------

    def set_drawing(self, on: bool) -> None:
        """Off while the view is not on screen: lines are only buffered (within the cap), and
        taken when it is back."""
        self.drawing = on
        if on and self.buffer.has_pending:
            self.schedule()

    def schedule(self) -> None:
        """Lines were added to the buffer: take them at the next tick."""
        if self.drawing and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self.drawing or not self.buffer.has_pending:
            self._timer.stop()  # runs only while lines arrive
            return
        start = time.perf_counter()
        lines, restart = self.buffer.take()
        dropped = self.buffer.dropped - self._seen_dropped
        self._seen_dropped = self.buffer.dropped
        if restart:
            self._rebuild()
        else:
            if self._filtered is not None:
                if dropped:
                    self._rebuild()  # some shown lines fell off the store
                else:
                    self._filtered.extend(line for line in lines if self.shown(line))
            elif dropped:
                self._shift(-dropped)
            self._grow_width(lines)
        self._update_bars()
        self.viewport().update()
        self.longest_draw_ms = max(self.longest_draw_ms, (time.perf_counter() - start) * 1000)
        self.drawn.emit()

    def redraw(self) -> None:
        """Show the whole buffer again (timestamps, filter, cap or tags changed)."""
        self.buffer.take()
        self._seen_dropped = self.buffer.dropped
        self._rebuild()
        self._update_bars()
        self.viewport().update()
        self.drawn.emit()

    def prepend(self, lines: list[Line]) -> None:
        """Older lines were put before the first one (in the buffer): keep the view in place."""
        if self._filtered is not None:
            self._filtered[:0] = lines
        self._grow_width(lines)
        self._shift(len(lines))
        self._update_bars()
        self.viewport().update()
        self.drawn.emit()

    def _rebuild(self) -> None:
        self._heights.clear()
        self._filtered = (
            [line for line in self.buffer.lines if self.shown(line)] if self._filtering() else None
        )
        self._max_chars = 0
        self._grow_width(self._rows())
        self._anchor = self._cursor = (0, 0)

    def _shift(self, rows: int) -> None:
        """Rows were added (>0) or dropped (<0) above: the selection and a paused view move."""

        def moved(pos: Pos) -> Pos:
            row = pos[0] + rows
            return (row, pos[1]) if row >= 0 else (0, 0)

        self._anchor, self._cursor = moved(self._anchor), moved(self._cursor)
        if not self._following:
            bar = self.verticalScrollBar()
            value = max(0, bar.value() + rows)
            if value > bar.maximum():
                self._programmatic = True
                bar.setMaximum(value)
                self._programmatic = False
            self._scroll_to(value)

    def _grow_width(self, lines: Iterable[Line]) -> None:
        """The widest row in characters (escapes counted: a little too wide at worst)."""
        texts = [line[2] for line in lines]
        if texts:
            extra = (31 if self.show_timestamps else 0) + (24 if self.tags else 0)
            self._max_chars = max(self._max_chars, max(map(len, texts)) + extra)

    # -- geometry ------------------------------------------------------------------------------

    def _line_height(self) -> int:
        return QFontMetrics(self.font()).lineSpacing()

    def _text_width(self) -> int:
        return max(10, self.viewport().width() - 2 * MARGIN)

    def _height(self, index: int) -> int:
        """The row's height in text lines (1 unless wrap is on)."""
        if not self.wrapping:
            return 1
        line = self.row(index)
        count = self._heights.get(line)
        if count is None:
            count = self._layout(index).lineCount()
            if len(self._heights) > _HEIGHTS_KEPT:
                self._heights.clear()
            self._heights[line] = count
        return count

    def _update_bars(self) -> None:
        rows = self.row_count()
        lh = self._line_height()
        fit = max(1, self.viewport().height() // lh)
        if self.wrapping:
            used, first = 0, rows
            while first > 0 and used + self._height(first - 1) <= fit:
                used += self._height(first - 1)
                first -= 1
            maximum = min(first, max(0, rows - 1))
        else:
            maximum = max(0, rows - fit)
        self._programmatic = True
        bar = self.verticalScrollBar()
        bar.setRange(0, maximum)
        bar.setPageStep(fit)
        hbar = self.horizontalScrollBar()
        if self.wrapping:
            hbar.setRange(0, 0)
        else:
            char = QFontMetrics(self.font()).horizontalAdvance("M")
            hbar.setRange(0, max(0, self._max_chars * char + 2 * MARGIN - self.viewport().width()))
            hbar.setPageStep(self.viewport().width())
            hbar.setSingleStep(char * 4)
        if self._following:
            bar.setValue(maximum)
        self._programmatic = False
        self._a11y_timer.start()

    def set_wrap(self, on: bool) -> None:
        self.wrapping = on
        self._heights.clear()
        self._update_bars()
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._heights.clear()
        self._update_bars()

    # -- layout and painting -------------------------------------------------------------------

    def _formats(self, line: Line, text: str) -> list[QTextLayout.FormatRange]:
        """Format ranges of one row: stream colour, timestamp, tag, ANSI styles."""
        palette = theme.current()
        stream = line[1]
        base_colour = palette.danger if stream == STDERR else ""
        if stream == NOTICE:
            base = ansi.char_format(ansi.PLAIN, palette.muted, italic=True)
        else:
            base = ansi.char_format(ansi.PLAIN, base_colour)
        out = [_range(0, len(text), base)] if stream in (STDERR, NOTICE) else []
        pos = len(self.prefix(line))
        tag = self._tag(line)
        if tag:
            out.append(_range(pos, len(tag) - 1, _tag_format(self.tags[line[3]][1])))
            pos += len(tag)
        if "\x1b" in line[2]:
            for segment, style in ansi.parse(line[2]):
                if style != ansi.PLAIN:
                    out.append(_range(pos, len(segment), ansi.char_format(style, base_colour)))
                pos += len(segment)
        return out

    def _layout(self, index: int, extra: list[QTextLayout.FormatRange] | None = None) -> Any:
        line = self.row(index)
        text = self.display_text(line)
        layout = QTextLayout(text, self.font())
        option = QTextOption()
        option.setWrapMode(
            QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
            if self.wrapping
            else QTextOption.WrapMode.NoWrap
        )
        layout.setTextOption(option)
        formats = self._formats(line, text)
        if extra:
            formats.extend(extra)
        if formats:
            layout.setFormats(formats)
        width = self._text_width()
        layout.beginLayout()
        y = 0.0
        while True:
            tl = layout.createLine()
            if not tl.isValid():
                break
            if self.wrapping:
                tl.setLineWidth(width)
            tl.setPosition(QPointF(0, y))
            y += tl.height()
        layout.endLayout()
        return layout

    def _on_screen(self) -> Iterator[tuple[int, int, int]]:
        """(row, top y, height in pixels) of each row in the viewport, top to bottom."""
        lh = self._line_height()
        bottom = self.viewport().height()
        first = self._first_row()
        rows = self.row_count()
        y = 0
        index = first
        while index < rows and y < bottom:
            height = self._height(index) * lh
            yield index, y, height
            y += height
            index += 1

    def _first_row(self) -> int:
        first = self.verticalScrollBar().value()
        if self._filtered is None and not self._following:
            first -= self.buffer.dropped - self._seen_dropped  # lines fell off since the flush
        return max(0, first)

    def _selection_range(self) -> tuple[Pos, Pos]:
        return min(self._anchor, self._cursor), max(self._anchor, self._cursor)

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.perf_counter()
        painter = QPainter(self.viewport())
        palette = self.palette()
        painter.setPen(palette.text().color())
        x = MARGIN - (0 if self.wrapping else self.horizontalScrollBar().value())
        (s_row, s_col), (e_row, e_col) = self._selection_range()
        selecting = (s_row, s_col) != (e_row, e_col)
        selected = QTextCharFormat()
        selected.setBackground(palette.highlight())
        selected.setForeground(palette.highlightedText())
        found = _match_format()
        for index, top, _height in self._on_screen():
            extra: list[QTextLayout.FormatRange] = []
            if self.highlight:
                text = self.row_text(index)
                extra = [_range(s, e - s, found) for s, e in self.highlight.spans(text)]
            if selecting and s_row <= index <= e_row:
                begin = s_col if index == s_row else 0
                end = e_col if index == e_row else len(self.row_text(index)) + 1
                extra.append(_range(begin, max(0, end - begin), selected))
            self._layout(index, extra).draw(painter, QPointF(x, top))
        painter.end()
        self.longest_draw_ms = max(self.longest_draw_ms, (time.perf_counter() - start) * 1000)

    def highlighted_count(self) -> int:
        """Search matches in the rows on screen (the ones painted highlighted)."""
        if not self.highlight:
            return 0
        return sum(len(self.highlight.spans(self.row_text(i))) for i, _y, _h in self._on_screen())

    def char_format_at(self, index: int, column: int) -> QTextCharFormat:
        """The format a row's character is painted with (selection and matches left out)."""
        line = self.row(index)
        fmt = QTextCharFormat()
        for item in self._formats(line, self.display_text(line)):
            if item.start <= column < item.start + item.length:
                fmt.merge(item.format)
        return fmt

    def screen_text(self) -> str:
        """The rows on screen, as a screen reader gets them."""
        return "\n".join(self.row_text(i) for i, _y, _h in self._on_screen())

    def _announce(self) -> None:
        accessible.text_changed(self)


def _range(start: int, length: int, fmt: QTextCharFormat) -> QTextLayout.FormatRange:
    item = QTextLayout.FormatRange()
    item.start, item.length, item.format = start, length, fmt
    return item


def _match_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setBackground(QColor("#ffd54f"))
    fmt.setForeground(QColor("#000000"))
    return fmt


def _tag_format(colour: str) -> QTextCharFormat:
    return ansi.char_format(ansi.Style(fg=colour, bold=True))
