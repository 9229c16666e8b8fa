"""Colours of terminal cells: pyte's colour names and hex strings to ``QColor``, per theme.

pyte stores a cell's colour as ``"default"``, an ANSI name (``"red"``, ``"brightblue"``; it calls
yellow ``"brown"``) or six hex digits (256-colour and true-colour SGR). The default colours are
the theme's text and base colours (read at paint time, so a Light/Dark switch is live); the 16
ANSI colours are a palette per theme chosen to stay readable on that background.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QColor

from app import theme

_NAMES = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")

#: Tango-like: readable on a white background.
_LIGHT_ANSI = (
    "#000000",
    "#c01c28",
    "#26a269",
    "#a2734c",
    "#12488b",
    "#a347ba",
    "#2aa1b3",
    "#d0cfcc",
    "#5e5c64",
    "#f66151",
    "#33d17a",
    "#e9ad0c",
    "#2a7bde",
    "#c061cb",
    "#33c7de",
    "#ffffff",
)
#: Brighter variants for a dark background.
_DARK_ANSI = (
    "#3b4048",
    "#f0606c",
    "#5fd38d",
    "#e5c07b",
    "#61afef",
    "#d38aea",
    "#56d4e0",
    "#d7dae0",
    "#7f848e",
    "#ff7b86",
    "#7ee2a5",
    "#f2d58f",
    "#82c3ff",
    "#e2a6f5",
    "#7fe3ee",
    "#ffffff",
)


def _index(name: str) -> int | None:
    bright = name.startswith("bright") or name.startswith("bfight")  # pyte's own typo
    base = name[6:] if bright else name
    if base in ("yellow",):
        base = "brown"
    if base not in _NAMES:
        return None
    return _NAMES.index(base) + (8 if bright else 0)


@lru_cache(maxsize=1024)
def _colour(name: str, palette_name: str) -> QColor | None:
    index = _index(name)
    if index is not None:
        table = _DARK_ANSI if palette_name == "dark" else _LIGHT_ANSI
        return QColor(table[index])
    if len(name) == 6:
        colour = QColor("#" + name)
        if colour.isValid():
            return colour
    return None


def default_foreground() -> QColor:
    return QColor(theme.current().text)


def default_background() -> QColor:
    return QColor(theme.current().base)


def cell_colour(name: str, *, foreground: bool, bold: bool = False) -> QColor:
    """The colour to paint for a pyte colour value (``"default"`` follows the theme)."""
    palette = theme.current()
    if name == "default":
        return QColor(palette.text if foreground else palette.base)
    if bold and foreground and name in _NAMES:
        name = "bright" + name  # what xterm does with bold + one of the eight colours
    colour = _colour(name, palette.name)
    if colour is None:
        return QColor(palette.text if foreground else palette.base)
    return colour
