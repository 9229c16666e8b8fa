"""A mouse selection in a terminal, in absolute line numbers so it stays on its text.

Line numbers count every line since the terminal started (``history_added`` minus the depth of
the scrollback gives the number of the oldest kept line), so output that scrolls the screen does
not move a selection to other text. Columns are cell boundaries (0..columns). Pure: the widget
supplies the lines.
"""

from __future__ import annotations

from collections.abc import Callable

from app.views.container_page.terminal.screen import Line

Point = tuple[int, int]  # (absolute line, column boundary)


class Selection:
    """From an anchor (mouse press) to an end (mouse move), in either direction."""

    def __init__(self) -> None:
        self.anchor: Point | None = None
        self.end: Point | None = None

    def clear(self) -> None:
        self.anchor = self.end = None

    def start(self, point: Point) -> None:
        self.anchor = self.end = point

    def extend(self, point: Point) -> None:
        if self.anchor is not None:
            self.end = point

    def bounds(self) -> tuple[Point, Point] | None:
        """(first, last) point, or None for an empty selection."""
        if self.anchor is None or self.end is None or self.anchor == self.end:
            return None
        return min(self.anchor, self.end), max(self.anchor, self.end)

    def columns_on(self, line: int, columns: int) -> tuple[int, int]:
        """The selected column range on one absolute line ((0, 0): none)."""
        bounds = self.bounds()
        if bounds is None:
            return 0, 0
        (l1, c1), (l2, c2) = bounds
        if line < l1 or line > l2:
            return 0, 0
        return (c1 if line == l1 else 0), (c2 if line == l2 else columns)

    def text(self, line_at: Callable[[int], Line | None], columns: int) -> str:
        """The selected text, rows joined by newlines, trailing blanks of each row dropped."""
        bounds = self.bounds()
        if bounds is None:
            return ""
        (l1, _), (l2, _) = bounds
        rows = []
        for number in range(l1, l2 + 1):
            line = line_at(number)
            if line is None:
                continue
            start, end = self.columns_on(number, columns)
            rows.append("".join(line[x].data for x in range(start, end)).rstrip())
        return "\n".join(rows)
