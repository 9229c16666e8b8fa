"""The terminal's state: pyte's VT state machine plus scrollback and the alternate screen.

Data flow: bytes from the exec go to :meth:`TermScreen.feed` (a ``pyte.ByteStream``, which
decodes UTF-8 incrementally and parses every escape sequence) and change the cell grid
``screen.buffer``; the widget reads that grid and ``screen.dirty`` (the rows that changed) on its
repaint timer. Lines scrolled off the top of a full-screen scroll region go to ``history``
(a bounded deque); a full-screen program switching to the alternate screen (``CSI ? 1049 h``,
what ``top`` and ``vi`` send) gets a fresh grid and the shell's grid comes back when it leaves.
Answers the terminal owes the program (cursor position reports, device attributes) go out
through ``on_reply``.

Nothing here parses escape sequences by hand: pyte does; this class only keeps what pyte drops.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import pyte
from pyte import charsets, modes
from pyte.screens import Char, Margins, StaticDefaultDict

#: DEC private modes as pyte stores them (shifted left by 5, see ``pyte.modes``).
DECCKM = 1 << 5  # application cursor keys
ALT_SCREEN_MODES = frozenset({47 << 5, 1047 << 5, 1049 << 5})
SAVE_CURSOR_ALT = 1049 << 5
BRACKETED_PASTE = 2004 << 5



class FrozenLine:
    """A scrollback line, compact and in a form the garbage collector can skip.

    pyte keeps a row as a dict of ``Char`` named tuples, which CPython tracks for ever: 5,000
    rows of scrollback were up to ~800k tracked objects (one full collection during a flood held
    the window ~45 ms) and ~100 MB for full-width rows. Here a row is its text (a string, or a
    tuple of strings when wide or combining characters make cells other than one character)
    and its runs of attributes (run starts and attribute tuples): a few hundred bytes, nothing
    the collector tracks. ``Char`` is rebuilt only for the cells painted.
    """

    __slots__ = ("default", "runs", "text")

    def __init__(self, line: StaticDefaultDict[int, Char], columns: int) -> None:
        self.default = line.default
        width = min(columns, max(line, default=-1) + 1)
        data: list[str] = []
        starts: list[int] = []
        styles: list[tuple[object, ...]] = []
        for x in range(width):
            char = line[x]
            data.append(char.data)
            style = tuple(char)[1:]
            if not styles or styles[-1] != style:
                starts.append(x)
                styles.append(style)
        single = all(len(d) == 1 for d in data)
        self.text: str | tuple[str, ...] = "".join(data) if single else tuple(data)
        # Most rows share their runs (one style from column 0): one object for all of them, so a
        # flood leaves one tracked object per row behind, and full collections stay rare.
        runs = (tuple(starts), tuple(styles))
        shared = _RUNS.get(runs)
        if shared is None:
            if len(_RUNS) > 4096:
                _RUNS.clear()
            shared = _RUNS[runs] = runs
        self.runs = shared

    @property
    def starts(self) -> tuple[int, ...]:
        return self.runs[0]

    @property
    def styles(self) -> tuple[tuple[object, ...], ...]:
        return self.runs[1]

    def __getitem__(self, x: int) -> Char:
        if x >= len(self.text):
            return self.default
        starts, styles = self.runs
        return Char._make((self.text[x], *styles[bisect_right(starts, x) - 1]))


#: Runs of attributes shared between scrollback rows (bounded; cleared when full).
_RUNS: dict[tuple[tuple[int, ...], tuple[tuple[object, ...], ...]], Any] = {}


#: A row as the painter and the selection read it: pyte's (on screen) or frozen (scrollback).
Line = StaticDefaultDict[int, Char] | FrozenLine

__all__ = ["Char", "FrozenLine", "Line", "TermScreen"]


class TermScreen(pyte.Screen):
    """A pyte ``Screen`` that keeps scrollback and supports the alternate screen.

    Attributes:
        history: lines scrolled off the top (oldest first), at most ``history_limit``.
        history_added: how many lines ever went to ``history`` (lets a scrolled-back view
            stay on the same text while output arrives).
        on_reply: called with text the terminal must send back to the program.
    """

    def __init__(self, columns: int, lines: int, history_limit: int = 5000) -> None:
        super().__init__(columns, lines)
        self.history: deque[FrozenLine] = deque(maxlen=history_limit)
        self.history_added = 0
        self.on_reply: Callable[[str], None] | None = None
        self._main: tuple[Any, Any] | None = None  # (buffer, cursor) of the shell while alt
        self._cells: dict[Char, dict[str, Char]] = {}  # shared cells of the ASCII fast path
        self._stream = pyte.ByteStream(self)

    # -- input --------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse a chunk of the program's output (any split of UTF-8 or escapes is fine)."""
        self._stream.feed(data)

    @property
    def in_alternate(self) -> bool:
        return self._main is not None

    @property
    def app_cursor_keys(self) -> bool:
        """DECCKM: arrows send ``ESC O A`` instead of ``ESC [ A`` (vi, less, top ask for it)."""
        return DECCKM in self.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    # -- pyte hooks ---------------------------------------------------------------------------
    def draw(self, data: str) -> None:
        """pyte's ``draw``, with a fast path for plain ASCII text (most output by far).

        pyte copies a ``Char`` named tuple for every character it draws, which is most of its
        time. Cells are immutable, so for printable ASCII in the identity charset, outside
        insert mode, one ``Char`` per (character, attributes) is made once and shared; the
        line wrap is pyte's own (``carriage_return`` + ``linefeed``). Anything else is pyte's.
        The result is the same grid (``test_fast_draw_matches_pyte``).
        """
        table = self.g1_charset if self.charset else self.g0_charset
        if (
            table is not charsets.LAT1_MAP
            or not (data.isascii() and data.isprintable())
            or modes.IRM in self.mode
        ):
            super().draw(data)
            return
        cursor = self.cursor
        cache = self._cells.get(cursor.attrs)
        if cache is None:
            if len(self._cells) > 256:
                self._cells.clear()
            cache = self._cells[cursor.attrs] = {}
        make = cursor.attrs._replace
        while data:
            if cursor.x >= self.columns:
                if modes.DECAWM not in self.mode:
                    super().draw(data)  # overwrite the last column, as pyte does
                    return
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            room = self.columns - cursor.x
            part, data = data[:room], data[room:]
            line = self.buffer[cursor.y]
            x = cursor.x
            for char in part:
                cell = cache.get(char)
                if cell is None:
                    cell = cache[char] = make(data=char)
                line[x] = cell
                x += 1
            cursor.x = x
        self.dirty.add(cursor.y)

    def write_process_input(self, data: str) -> None:
        if self.on_reply is not None:
            self.on_reply(data)

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and self._main is None:
            # pyte drops the line (buffer.pop): keep it, frozen
            self.history.append(FrozenLine(self.buffer[top], self.columns))
            self.history_added += 1
        super().index()

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            shifted = {m << 5 for m in modes}
            if shifted & ALT_SCREEN_MODES and self._main is None:
                if SAVE_CURSOR_ALT in shifted:
                    self.save_cursor()
                self._main = (self.buffer, self.cursor)
                self.buffer = defaultdict(lambda: StaticDefaultDict(self.default_char))
                self.cursor = pyte.screens.Cursor(self.cursor.x, self.cursor.y, self.cursor.attrs)
                self.dirty.update(range(self.lines))
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        super().reset_mode(*modes, **kwargs)
        if kwargs.get("private"):
            shifted = {m << 5 for m in modes}
            if shifted & ALT_SCREEN_MODES and self._main is not None:
                self.buffer, self.cursor = self._main
                self._main = None
                if SAVE_CURSOR_ALT in shifted:
                    self.restore_cursor()
                self.mode.difference_update(ALT_SCREEN_MODES)
                self.ensure_hbounds()
                self.ensure_vbounds()
                self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Like a terminal emulator, not like pyte: shrinking keeps the cursor's row.

        pyte always clips rows off the top, leaving the cursor below the text it belonged to;
        here only the rows above the cursor that no longer fit go (into the scrollback), and
        the empty rows below the cursor are cut first.
        """
        lines = lines or self.lines
        columns = columns or self.columns
        if lines < self.lines:
            drop = max(0, self.cursor.y - lines + 1)
            if drop:
                for y in range(drop):
                    if self._main is None:
                        self.history.append(FrozenLine(self.buffer[y], self.columns))
                        self.history_added += 1
                for y in range(self.lines - drop):
                    self.buffer[y] = self.buffer[y + drop]
                self.cursor.y -= drop
            for y in range(lines, self.lines + drop):
                self.buffer.pop(y, None)
            self.lines = lines  # pyte's resize now only deals with the columns
        if self._main is not None:
            saved_cursor = self._main[1]
            saved_cursor.x = min(saved_cursor.x, columns - 1)
            saved_cursor.y = min(saved_cursor.y, lines - 1)
        super().resize(lines, columns)
        self.set_margins()
        self.ensure_vbounds()
        self.dirty.update(range(self.lines))

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        super().erase_in_display(how, *args, **kwargs)
        if how == 3:  # "clear scrollback" (what `clear` sends)
            self.history.clear()

    # -- reading ------------------------------------------------------------------------------
    def line_text(self, line: Line) -> str:
        """A row as plain text (wide characters once, trailing blanks kept to the width)."""
        return "".join(line[x].data for x in range(self.columns))

    def display_with_history(self) -> list[str]:
        """Scrollback then screen, one string per row, trailing blanks removed."""
        rows = [self.line_text(line).rstrip() for line in self.history]
        rows += [self.line_text(self.buffer[y]).rstrip() for y in range(self.lines)]
        return rows
