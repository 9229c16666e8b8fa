"""The terminal widget without an engine: key bytes, pyte screen extras, batching, painting, I/O.

The engine-backed tests (a real shell through exec) are in test_container_page_terminal.py.
"""

from __future__ import annotations

import gc
import os
import random
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyte
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.views.container_page.terminal import widget as widget_module
from app.views.container_page.terminal.colours import cell_colour
from app.views.container_page.terminal.keys import key_bytes
from app.views.container_page.terminal.screen import Char, FrozenLine, TermScreen
from app.views.container_page.terminal.system_terminal import (
    NoTerminalError,
    docker_exec_argv,
    find_terminal,
    open_system_terminal,
    terminal_argv,
)
from app.views.container_page.terminal.widget import REPAINT_DELAY_MS, TerminalWidget

pytestmark = pytest.mark.gui

K = Qt.Key
M = Qt.KeyboardModifier


@pytest.mark.parametrize(
    ("key", "mods", "text", "app", "expected"),
    [
        (K.Key_Up, M.NoModifier, "", False, b"\x1b[A"),
        (K.Key_Up, M.NoModifier, "", True, b"\x1bOA"),
        (K.Key_Left, M.ControlModifier, "", False, b"\x1b[1;5D"),
        (K.Key_Right, M.ShiftModifier, "", True, b"\x1b[1;2C"),
        (K.Key_Home, M.NoModifier, "", False, b"\x1b[H"),
        (K.Key_End, M.NoModifier, "", True, b"\x1bOF"),
        (K.Key_PageUp, M.NoModifier, "", False, b"\x1b[5~"),
        (K.Key_PageDown, M.NoModifier, "", False, b"\x1b[6~"),
        (K.Key_Delete, M.NoModifier, "", False, b"\x1b[3~"),
        (K.Key_Insert, M.NoModifier, "", False, b"\x1b[2~"),
        (K.Key_F1, M.NoModifier, "", False, b"\x1bOP"),
        (K.Key_F4, M.NoModifier, "", False, b"\x1bOS"),
        (K.Key_F5, M.NoModifier, "", False, b"\x1b[15~"),
        (K.Key_F12, M.NoModifier, "", False, b"\x1b[24~"),
        (K.Key_F2, M.ShiftModifier, "", False, b"\x1b[1;2Q"),
        (K.Key_Tab, M.NoModifier, "\t", False, b"\t"),
        (K.Key_Backtab, M.ShiftModifier, "", False, b"\x1b[Z"),
        (K.Key_Backspace, M.NoModifier, "\x08", False, b"\x7f"),
        (K.Key_Return, M.NoModifier, "\r", False, b"\r"),
        (K.Key_Enter, M.KeypadModifier, "\r", False, b"\r"),
        (K.Key_Escape, M.NoModifier, "\x1b", False, b"\x1b"),
        (K.Key_C, M.ControlModifier, "\x03", False, b"\x03"),
        (K.Key_D, M.ControlModifier, "", False, b"\x04"),
        (K.Key_Z, M.ControlModifier, "", False, b"\x1a"),
        (K.Key_Space, M.ControlModifier, "", False, b"\x00"),
        (K.Key_BracketRight, M.ControlModifier, "", False, b"\x1d"),
        (K.Key_B, M.AltModifier, "b", False, b"\x1bb"),
        (K.Key_A, M.NoModifier, "a", False, b"a"),
        (K.Key_E, M.NoModifier, "é", False, "é".encode()),
        (K.Key_Shift, M.ShiftModifier, "", False, None),
    ],
)
def test_keys_send_what_xterm_sends(
    key: Qt.Key, mods: Qt.KeyboardModifier, text: str, app: bool, expected: bytes | None
) -> None:
    assert key_bytes(key, mods, text, app_cursor=app) == expected


def test_screen_keeps_scrollback_and_the_shell_screen_under_a_full_screen_program() -> None:
    screen = TermScreen(20, 5)
    screen.feed(b"".join(b"line%d\r\n" % n for n in range(8)) + b"$ ")
    assert [screen.line_text(line).rstrip() for line in screen.history] == [
        "line0", "line1", "line2", "line3"
    ]
    screen.feed(b"\x1b[?1049h\x1b[?1h\x1b[2J\x1b[HTOP")  # what top/vi send on start
    assert screen.in_alternate and screen.app_cursor_keys
    assert screen.display_with_history()[-5] == "TOP"
    assert len(screen.history) == 4  # the program's screen does not scroll into history
    screen.feed(b"\x1b[?1l\x1b[?1049l")
    assert not screen.in_alternate and not screen.app_cursor_keys
    assert screen.display_with_history()[-2:] == ["line7", "$"]
    assert (screen.cursor.x, screen.cursor.y) == (2, 4)


def test_scrollback_lines_keep_their_look_and_leave_the_garbage_collector_alone() -> None:
    screen = TermScreen(20, 2)
    screen.feed(b"\x1b[1;31mred\x1b[0m \x1b[7mrev\x1b[0m\r\nnext\r\nlast")
    line = screen.history[0]
    assert isinstance(line, FrozenLine)
    assert screen.line_text(line).rstrip() == "red rev"
    assert line[0] == Char("r", fg="red", bold=True)
    assert line[4] == Char("r", reverse=True)
    assert line[19] == screen.default_char
    gc.collect()
    gc.collect()  # (an outer tuple is untracked once its inner ones were, a pass later)
    # 5,000 such lines cost a full collection nothing
    assert not any(gc.is_tracked(part) for part in (line.text, line.starts, line.styles))
    screen.feed("\r\n中a\r\n\r\n".encode())  # a wide character: two cells, the second empty
    wide = screen.history[-1]
    assert screen.line_text(wide).rstrip() == "中a" and wide[1].data == "" and wide[2].data == "a"


FRAGMENTS = [
    b"hello world ", b"x" * 37, b"\r\n", b"\r", b"\n", b"\x08", b"\t", b"\x1b[31m",
    b"\x1b[1;44m", b"\x1b[0m", b"\x1b[7m", b"\x1b[38;5;208m", b"\x1b[5;10H", b"\x1b[K",
    b"\x1b[2J", b"\x1b[4h", b"\x1b[4l", b"\x1b[?7l", b"\x1b[?7h", b"\x1b(0lqqk\x1b(B",
    b"\x0e", b"\x0f", "中文".encode(), "é".encode(), b"e\xcc\x81", b"\x1b[3C", b"\x1b[A",
    b"\x1b[1;1H", b"\x1b[40G", b"~!@#$%^&*()_+{}|:<>?", b"\x1b[2P", b"\x1b[3@", b"\x1b[S",
    b"\x1b%@", b"\x1b%G",  # out of UTF-8 (then charsets apply) and back
]


def test_fast_draw_matches_pyte() -> None:
    """The ASCII fast path of TermScreen.draw leaves exactly the grid pyte's own draw does."""
    rng = random.Random(10)
    for _ in range(300):
        data = b"".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 40)))
        ours, theirs = TermScreen(40, 6), pyte.Screen(40, 6)
        ours.feed(data)
        pyte.ByteStream(theirs).feed(data)
        for y in range(6):
            assert [ours.buffer[y][x] for x in range(40)] == [
                theirs.buffer[y][x] for x in range(40)
            ], data
        assert (ours.cursor.x, ours.cursor.y) == (theirs.cursor.x, theirs.cursor.y), data


def test_screen_shrinks_like_a_terminal_keeping_the_cursor_row() -> None:
    screen = TermScreen(20, 6)
    screen.feed(b"a\r\nb\r\nc\r\n$ ")  # cursor on row 3 of 6
    screen.resize(4, 20)
    assert screen.display_with_history() == ["a", "b", "c", "$"]
    assert screen.cursor.y == 3
    screen.resize(2, 20)  # now two rows above the cursor must go into the scrollback
    assert [screen.line_text(line).rstrip() for line in screen.history] == ["a", "b"]
    assert screen.display_with_history() == ["a", "b", "c", "$"]
    assert screen.cursor.y == 1


def test_screen_answers_cursor_position_reports_and_decodes_split_utf8() -> None:
    screen = TermScreen(20, 5)
    replies: list[str] = []
    screen.on_reply = replies.append
    screen.feed(b"ab\x1b[6n")
    assert replies == ["\x1b[1;3R"]
    data = "é€".encode()
    screen.feed(data[:1])
    screen.feed(data[1:4])
    screen.feed(data[4:])
    assert screen.display_with_history()[0] == "abé€"


def _shown_terminal(qtbot: Any, height: int = 400) -> TerminalWidget:
    """A terminal widget 640 px wide, on screen (closed by qtbot after the test)."""
    widget = TerminalWidget()
    qtbot.addWidget(widget)
    widget.resize(640, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_output_is_parsed_per_chunk_and_repainted_once_per_batch(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    widget = _shown_terminal(qtbot)
    qtbot.waitUntil(lambda: widget.idle)
    flushes = widget.flushes
    for n in range(200):  # 200 chunks arrive before the loop turns
        widget.feed(b"x%d " % n)
    assert widget.flushes == flushes  # nothing repainted per chunk
    assert any("x199" in row for row in widget.visible_text())  # parsed at once
    qtbot.waitUntil(lambda: widget.flushes == flushes + 1)
    invalidated = widget.rows_invalidated
    widget.feed(b"\r\nz")  # one new character on the next row
    qtbot.waitUntil(lambda: widget.flushes == flushes + 2)
    assert widget.rows_invalidated - invalidated <= 3  # that row and the cursor's, not all rows
    # after a quiet spell the next change (a typed key's echo) is painted on the next turn of
    # the loop; right after a repaint, the next one waits for the frame interval (the widget's
    # clock is a fake here: a loaded machine may take longer than a frame between two lines)
    now = [widget._last_flush + 1.0]  # a second after the last repaint
    monkeypatch.setattr(widget_module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    widget.feed(b"k")
    assert widget._timer.interval() == 1
    qtbot.waitUntil(lambda: widget.flushes == flushes + 3)
    now[0] += REPAINT_DELAY_MS / 2000  # half a frame later
    widget.feed(b"l")
    assert widget._timer.interval() == REPAINT_DELAY_MS
    assert widget.rows > 10


def _pixel(widget: TerminalWidget, column: int, row: int) -> QColor:
    cw, ch = widget.cell_size
    image = widget.viewport().grab().toImage()
    return image.pixelColor(QPoint(column * cw + cw // 2, row * ch + 1))


def test_colours_reverse_and_the_cursor_are_painted(qtbot: Any) -> None:
    widget = _shown_terminal(qtbot)
    widget.feed(b"\x1b[41m  \x1b[0m\x1b[7m  \x1b[0m\x1b[48;2;1;2;3m  \x1b[0m\r\n\x1b[?25l")
    qtbot.waitUntil(lambda: widget.idle)
    assert _pixel(widget, 0, 0) == cell_colour("red", foreground=False)
    assert _pixel(widget, 2, 0) == cell_colour("default", foreground=True)  # reversed blank
    assert _pixel(widget, 4, 0) == QColor(1, 2, 3)
    assert _pixel(widget, 8, 0) == cell_colour("default", foreground=False)
    widget.setFocus()
    widget.feed(b"\x1b[?25h")  # cursor shown again, on row 1 column 0: a block when focused
    qtbot.waitUntil(lambda: widget.hasFocus() and widget.idle)
    assert _pixel(widget, 0, 1) == cell_colour("default", foreground=True)


def test_keys_selection_copy_paste_and_scrollback(qtbot: Any) -> None:
    widget = _shown_terminal(qtbot, height=300)
    sent: list[bytes] = []
    widget.send.connect(sent.append)
    widget.setFocus()
    qtbot.keyClicks(widget, "ls")
    qtbot.keyClick(widget, K.Key_Tab)
    qtbot.keyClick(widget, K.Key_Up)
    qtbot.keyClick(widget, K.Key_C, M.ControlModifier)
    qtbot.keyClick(widget, K.Key_Escape)
    assert b"".join(sent) == b"ls\t\x1b[A\x03\x1b"

    widget.feed(b"".join(b"row %d\r\n" % n for n in range(100)))
    qtbot.waitUntil(lambda: widget.idle)
    bottom = widget.visible_text()
    typed = len(sent)
    wheel = QWheelEvent(
        QPointF(20, 20), QPointF(20, 20), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, M.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(widget.viewport(), wheel)  # one notch up: three lines back
    assert widget.scroll_offset == 3
    assert widget.visible_text()[-1] == bottom[-4]
    qtbot.keyClick(widget, K.Key_End, M.ShiftModifier)
    assert widget.scroll_offset == 0
    qtbot.keyClick(widget, K.Key_PageUp, M.ShiftModifier)
    assert widget.scroll_offset == widget.rows - 1
    assert widget.visible_text() != bottom
    cw, ch = widget.cell_size
    first = widget.visible_text()[0]
    qtbot.mousePress(widget.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(1, ch // 2))
    qtbot.mouseMove(widget.viewport(), QPoint(len(first) * cw, ch + ch // 2))
    qtbot.mouseRelease(
        widget.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(len(first) * cw, ch + ch // 2)
    )
    assert widget.selected_text() == "\n".join(widget.visible_text()[:2])
    qtbot.keyClick(widget, K.Key_C, M.ControlModifier | M.ShiftModifier)
    assert QGuiApplication.clipboard().text() == widget.selected_text()
    assert len(sent) == typed  # copying sent nothing to the program

    QGuiApplication.clipboard().setText("echo one\necho two")
    qtbot.keyClick(widget, K.Key_V, M.ControlModifier | M.ShiftModifier)
    assert sent[-1] == b"echo one\recho two"
    assert widget.scroll_offset == 0  # input brings the view back to the live screen
    widget.feed(b"\x1b[?2004h")  # bracketed paste asked for by the shell
    widget.paste("x")
    assert sent[-1] == b"\x1b[200~x\x1b[201~"
    menu = widget.context_menu()
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Copy", "Paste", "Select all", "Clear scrollback"
    ]


def test_resizing_the_widget_resizes_the_screen_and_says_so(qtbot: Any) -> None:
    widget = _shown_terminal(qtbot)
    with qtbot.waitSignal(widget.size_changed) as blocker:
        widget.resize(400, 250)
    rows, cols = blocker.args
    assert (rows, cols) == (widget.term.lines, widget.term.columns)
    cw, ch = widget.cell_size
    assert rows == widget.viewport().height() // ch
    assert cols == widget.viewport().width() // cw


def test_system_terminal_command_lines(tmp_path: Path) -> None:
    docker = docker_exec_argv("/usr/bin/docker", "abc", ["bash", "-l"], "app")
    assert docker == ["/usr/bin/docker", "exec", "-it", "-u", "app", "abc", "bash", "-l"]
    argv = terminal_argv(("/usr/bin/gnome-terminal", ("--",)), docker)
    assert argv[:4] == ["/usr/bin/gnome-terminal", "--", "/bin/sh", "-c"]
    assert argv[-len(docker):] == docker

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("konsole", "xterm", "docker"):
        path = bin_dir / name
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": str(bin_dir)}
    assert find_terminal(env) == (str(bin_dir / "konsole"), ("-e",))
    assert find_terminal({**env, "TERMINAL": "xterm"}) == (str(bin_dir / "xterm"), ("-e",))
    (bin_dir / "konsole").unlink()
    (bin_dir / "xterm").unlink()
    assert find_terminal(env) is None
    with pytest.raises(NoTerminalError, match="No terminal emulator found"):
        open_system_terminal("unix:///x.sock", "abc", ["sh"], env=env)
    with pytest.raises(NoTerminalError, match="docker CLI is not on PATH"):
        open_system_terminal("unix:///x.sock", "abc", ["sh"], env={"PATH": os.devnull})
