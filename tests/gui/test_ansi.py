"""The SGR-only mapper: colours, bold, underline and resets; every other escape removed."""

from __future__ import annotations

import pytest

from app.widgets.ansi import PLAIN, Style, apply_sgr, parse, strip

pytestmark = pytest.mark.gui


def test_colours_bold_underline_and_reset() -> None:
    assert parse("\x1b[31mred\x1b[0m plain \x1b[1;4;92mboth\x1b[22m under") == [
        ("red", Style(fg="#cd0000")),
        (" plain ", PLAIN),
        ("both", Style(fg="#00ff00", bold=True, underline=True)),
        (" under", Style(fg="#00ff00", underline=True)),
    ]


def test_256_and_24_bit_colours() -> None:
    assert apply_sgr(PLAIN, "38;5;196") == Style(fg="#ff0000")
    assert apply_sgr(PLAIN, "48;5;244") == Style(bg="#808080")
    assert apply_sgr(PLAIN, "38;2;1;2;3") == Style(fg="#010203")
    assert apply_sgr(Style(fg="#010203", bold=True), "39") == Style(bold=True)


def test_everything_else_is_stripped_not_interpreted() -> None:
    text = "\x1b[2J\x1b[H\x1b]0;title\x07a\x1b[5Ab\x1b(Bc\x1b[?25ld\x1b"
    assert strip(text) == "abcd"
    assert parse(text) == [("a", PLAIN), ("b", PLAIN), ("c", PLAIN), ("d", PLAIN)]
    assert parse("no escapes") == [("no escapes", PLAIN)]
