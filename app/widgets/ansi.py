"""ANSI colours in log lines: an SGR-only mapper, not a terminal.

Data flow: :func:`parse` (pure, no Qt) splits one line into ``(text, Style)`` segments. Only SGR
sequences (``ESC [ … m``) are understood, and of those only colours (the 8/16 basic ones, the
256-colour cube and 24-bit), bold, underline and their resets; every other escape sequence
(cursor movement, erase, OSC titles and links, charset switches) is removed and has no effect.
Each line starts from the default style (log lines are read one at a time; a colour left on at
the end of a line does not leak into the next). :func:`char_format` turns a :class:`Style` into a
cached ``QTextCharFormat`` over a base format (stdout/stderr), which the log views insert.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from PySide6.QtGui import QColor, QFont, QTextCharFormat

# CSI (parameters, intermediates, final byte) | OSC … BEL/ST | ESC intermediates final (charset
# designation) | any other two-byte escape | a lone ESC
_ESCAPE = re.compile(
    r"\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]+[0-~]|[0-~]|$)"
)

# xterm's default 16 colours (normal, then bright)
BASIC = (
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
)  # fmt: skip


class Style(NamedTuple):
    """What SGR set: colours as ``#rrggbb`` (``None`` = the base format's), bold, underline."""

    fg: str | None = None
    bg: str | None = None
    bold: bool = False
    underline: bool = False


PLAIN = Style()


def has_escape(text: str) -> bool:
    return "\x1b" in text


def strip(text: str) -> str:
    """The text without any escape sequence."""
    return _ESCAPE.sub("", text) if "\x1b" in text else text


def _colour_256(n: int) -> str:
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return f"#{steps[n // 36]:02x}{steps[n // 6 % 6]:02x}{steps[n % 6]:02x}"
    level = 8 + (n - 232) * 10
    return f"#{level:02x}{level:02x}{level:02x}"


def apply_sgr(style: Style, params: str) -> Style:
    """The style after one ``ESC [ params m`` (unknown codes are ignored)."""
    codes = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")]
    fg, bg, bold, underline = style
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            fg, bg, bold, underline = None, None, False, False
        elif code == 1:
            bold = True
        elif code in (21, 22):
            bold = False
        elif code == 4:
            underline = True
        elif code == 24:
            underline = False
        elif 30 <= code <= 37:
            fg = BASIC[code - 30]
        elif 90 <= code <= 97:
            fg = BASIC[code - 90 + 8]
        elif code == 39:
            fg = None
        elif 40 <= code <= 47:
            bg = BASIC[code - 40]
        elif 100 <= code <= 107:
            bg = BASIC[code - 100 + 8]
        elif code == 49:
            bg = None
        elif code in (38, 48) and i + 1 < len(codes):
            colour = None
            if codes[i + 1] == 5 and i + 2 < len(codes):
                colour = _colour_256(min(codes[i + 2], 255))
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                r, g, b = (min(c, 255) for c in codes[i + 2 : i + 5])
                colour = f"#{r:02x}{g:02x}{b:02x}"
                i += 4
            if code == 38:
                fg = colour
            else:
                bg = colour
        i += 1
    return Style(fg, bg, bold, underline)


def parse(text: str) -> list[tuple[str, Style]]:
    """One line -> its visible text in segments with their style (escapes removed)."""
    if "\x1b" not in text:
        return [(text, PLAIN)] if text else []
    out: list[tuple[str, Style]] = []
    style = PLAIN
    pos = 0
    for match in _ESCAPE.finditer(text):
        if match.start() > pos:
            out.append((text[pos : match.start()], style))
        pos = match.end()
        if match.group(2) == "m":
            style = apply_sgr(style, match.group(1) or "0")
    if pos < len(text):
        out.append((text[pos:], style))
    return out


@lru_cache(maxsize=512)
def _format(style: Style, base_key: tuple[str, bool]) -> QTextCharFormat:
    fmt = QTextCharFormat()
    if base_key[0]:
        fmt.setForeground(QColor(base_key[0]))
    if base_key[1]:
        fmt.setFontItalic(True)
    if style.fg:
        fmt.setForeground(QColor(style.fg))
    if style.bg:
        fmt.setBackground(QColor(style.bg))
    if style.bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    if style.underline:
        fmt.setFontUnderline(True)
    return fmt


def char_format(style: Style, base_colour: str = "", italic: bool = False) -> QTextCharFormat:
    """A (cached) format for ``style`` over a base colour (``""``: the palette's text colour)."""
    return _format(style, (base_colour, italic))
