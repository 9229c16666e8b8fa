"""The Logs tab against the session's real engine, driven by real key presses and clicks.

Containers print known lines (ANSI colours, stderr, a UTF-8 character written in two pieces);
the tab must show exactly them, styled; follow a restart without losing or repeating a line;
count and filter search matches (case, regex); load earlier lines; keep to its cap; save a
file that holds exactly the shown lines.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from app import theme
from app.views.container_page.logs.buffer import LogBuffer
from app.views.container_page.logs.tab import LogsTab
from tests.gui.conftest import run_async, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_the_buffer_hands_out_bounded_draws_and_starts_over_after_an_overflow() -> None:
    buf = LogBuffer(cap=5)
    buf.add([("", 1, str(n)) for n in range(4)])
    assert buf.take(limit=3) == ([("", 1, "0"), ("", 1, "1"), ("", 1, "2")], False)
    assert buf.has_pending and buf.take(limit=3) == ([("", 1, "3")], False)
    buf.add([("", 1, str(n)) for n in range(4, 12)])  # more than the cap before the next draw
    assert buf.dropped == 7 and [ln[2] for ln in buf.lines] == ["7", "8", "9", "10", "11"]
    lines, restart = buf.take(limit=3)
    assert restart and [ln[2] for ln in lines] == ["7", "8", "9"]
    assert buf.take(limit=3) == ([("", 1, "10"), ("", 1, "11")], False)
    assert not buf.has_pending


def lines_of(tab: LogsTab) -> list[str]:
    return tab.view.toPlainText().splitlines()


def log_lines(tab: LogsTab) -> list[str]:
    return [line for line in lines_of(tab) if not line.startswith("— ")]


def open_tab(qtbot: Any, app_ctx: Any, cid: str, **kw: Any) -> LogsTab:
    tab = LogsTab(app_ctx, cid, **kw)
    qtbot.addWidget(tab)
    tab.resize(1000, 600)
    tab.show()
    return tab


def script_tab(qtbot: Any, app_ctx: Any, containers: Any, name: str, script: str) -> LogsTab:
    """The Logs tab, shown, of a new container running the shell ``script`` (it writes the log)."""
    cid = containers.create(name, cmd=["sh", "-c", script], start=True)
    return open_tab(qtbot, app_ctx, cid)


class PageEvents:
    """What the container page does for its tabs: a fresh inspect after each event."""

    def __init__(self, app_ctx: Any, qtbot: Any, tab: LogsTab, cid: str) -> None:
        self.ctx, self.tab, self.cid = app_ctx, tab, cid
        self.closed = False
        self.tasks: set[asyncio.Task[None]] = set()
        app_ctx.engine_event.connect(self._event)

    def _event(self, event: Any) -> None:
        if getattr(event, "id", None) != self.cid and self.cid not in str(event):
            return

        async def refresh() -> None:
            try:
                details = await self.ctx.client.containers.inspect(self.cid)
            except Exception:
                details = None
            if not self.closed:
                self.tab.container_changed(details)

        task = asyncio.ensure_future(refresh())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def close(self) -> None:
        self.closed = True
        self.ctx.engine_event.disconnect(self._event)


def colour_at(tab: LogsTab, line_no: int, column: int) -> str:
    """The colour the view paints a character with."""
    return tab.view.char_format_at(line_no, column).foreground().color().name()


def test_known_lines_appear_exactly_with_ansi_stderr_and_a_split_character(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    script = (
        "printf 'plain line\\n'; "
        "printf '\\033[31mred\\033[0m and \\033[1;4mbold\\033[0m \\033[2Jgone\\n'; sleep 0.2; "
        "printf 'to stderr\\n' >&2; sleep 0.2; "
        "printf 'caf\\303'; sleep 0.3; printf '\\251 split\\n'; echo done"
    )
    tab = script_tab(qtbot, app_ctx, containers, "ansi", script)
    wait_for(qtbot, lambda: "done" in log_lines(tab))
    assert log_lines(tab) == ["plain line", "red and bold gone", "to stderr", "café split", "done"]
    palette = theme.current()
    assert colour_at(tab, 1, 0) == "#cd0000"  # "red" in SGR 31
    bold = tab.view.char_format_at(1, len("red and b") - 1)
    assert bold.fontUnderline() and bold.fontWeight() > 400
    assert not tab.view.char_format_at(1, len("red and")).fontUnderline()
    assert colour_at(tab, 2, 0) == palette.danger.lower()  # stderr
    assert colour_at(tab, 0, 0) != palette.danger.lower()
    # the container exits: the tab says so
    wait_for(qtbot, lambda: any("exit code 0" in line for line in lines_of(tab)))
    # timestamps toggle: every log line gets the engine's RFC 3339 time in front
    qtbot.mouseClick(tab.timestamps, Qt.MouseButton.LeftButton)
    stamped = log_lines(tab)
    assert len(stamped) == 5
    assert all(line[:2] == "20" and line[10] == "T" for line in stamped)
    assert stamped[3].endswith("Z café split")
    tab.close_tab()


def test_follow_survives_a_restart_without_losing_or_repeating_lines(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    script = (
        "n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; "
        "echo run $n begins; sleep 0.5; echo run $n middle; sleep 300"
    )
    tab = script_tab(qtbot, app_ctx, containers, "restart", script)
    cid = tab.container_id
    page = PageEvents(app_ctx, qtbot, tab, cid)
    wait_for(qtbot, lambda: "run 1 middle" in log_lines(tab))
    run_async(qtbot, app_ctx.client.containers.restart(cid, timeout=0))
    wait_for(qtbot, lambda: "run 2 middle" in log_lines(tab), timeout=30)
    assert log_lines(tab) == ["run 1 begins", "run 1 middle", "run 2 begins", "run 2 middle"]
    text = lines_of(tab)
    stopped = next(i for i, line in enumerate(text) if "stopped" in line)
    started = next(i for i, line in enumerate(text) if "started" in line)
    assert text.index("run 1 middle") < stopped < started < text.index("run 2 begins")
    # the stream keeps following the new run
    run_async(qtbot, app_ctx.client.containers.stop(cid, timeout=0))
    wait_for(qtbot, lambda: tab.status.text() == "Stopped")
    page.close()
    tab.close_tab()


def test_search_counts_steps_and_filters_with_case_and_regex(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    words = ["Alpha one", "alpha two", "ALPHA three", "beta", "error 42", "error 7 alpha"]
    script = "; ".join(f"echo '{w}'" for w in words)
    tab = script_tab(qtbot, app_ctx, containers, "search", script)
    wait_for(qtbot, lambda: "error 7 alpha" in log_lines(tab))
    qtbot.keyClick(tab.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert tab.search.field.hasFocus()
    qtbot.keyClicks(tab.search.field, "alpha")
    assert tab.search.count.text() == "4 matches"
    wait_for(qtbot, lambda: tab.view.highlighted_count() == 4)  # all of them are on screen
    qtbot.keyClick(tab.search.field, Qt.Key.Key_Return)
    first = tab.view.selection()
    assert tab.view.selected_text().lower() == "alpha"
    assert tab.view.row_text(first[0][0]) == "Alpha one" and first[0][1] == 0
    qtbot.mouseClick(tab.search.next, Qt.MouseButton.LeftButton)
    second = tab.view.selection()
    assert second[0] > first[0] and tab.view.selected_text() == "alpha"
    qtbot.mouseClick(tab.search.previous, Qt.MouseButton.LeftButton)
    assert tab.view.selection() == first
    qtbot.mouseClick(tab.search.case, Qt.MouseButton.LeftButton)
    assert tab.search.count.text() == "2 matches"  # "alpha two", "error 7 alpha"
    qtbot.mouseClick(tab.search.case, Qt.MouseButton.LeftButton)
    tab.search.field.clear()
    qtbot.keyClicks(tab.search.field, r"error \d+")
    assert tab.search.count.text() == "0 matches"  # not a regex yet: the text itself
    qtbot.mouseClick(tab.search.regex, Qt.MouseButton.LeftButton)
    assert tab.search.count.text() == "2 matches"
    qtbot.mouseClick(tab.search.only, Qt.MouseButton.LeftButton)
    assert log_lines(tab) == ["error 42", "error 7 alpha"]
    qtbot.keyClicks(tab.search.field, "(")
    assert tab.search.count.text() == "Invalid regex"
    assert "regular expression" in tab.search.count.toolTip()
    qtbot.mouseClick(tab.search.only, Qt.MouseButton.LeftButton)
    assert log_lines(tab) == words
    tab.close_tab()


def test_load_earlier_cap_clear_and_save_round_trip(
    app_ctx: Any, containers: Any, qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    cid = containers.create("earlier", cmd=["sh", "-c", "seq 1 2500"], start=True)
    run_async(qtbot, app_ctx.client.containers.wait(cid))
    tab = open_tab(qtbot, app_ctx, cid, tail=1000)
    wait_for(qtbot, lambda: "2500" in log_lines(tab))
    assert log_lines(tab) == [str(n) for n in range(1501, 2501)]
    qtbot.mouseClick(tab.earlier, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: log_lines(tab)[0] == "501")
    assert log_lines(tab) == [str(n) for n in range(501, 2501)]
    qtbot.mouseClick(tab.earlier, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: log_lines(tab)[0] == "1")
    assert log_lines(tab) == [str(n) for n in range(1, 2501)]
    qtbot.mouseClick(tab.earlier, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "No earlier lines" in tab.view.toPlainText())

    # save: the file holds exactly the shown lines (the notices are not log output)
    target = tmp_path / "saved.log"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(tab.save, Qt.MouseButton.LeftButton)
    assert target.read_text() == "".join(f"{n}\n" for n in range(1, 2501))
    assert tab.status.text() == "Saved to saved.log"
    # copy: every shown line without a selection, the selection when there is one
    qtbot.mouseClick(tab.copy, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == target.read_text()
    # a mouse drag over the first row on screen selects it; Ctrl+C and the Copy button copy it
    view = tab.view
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    row = next(i for i in range(view.row_count()) if view.row_text(i) == "1")
    rect = view.visual_rect(row)
    assert rect.isValid()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(1, rect.center().y()))
    qtbot.mouseMove(view.viewport(), QPoint(rect.right() - 2, rect.center().y()))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=QPoint(rect.right() - 2, rect.center().y()))  # fmt: skip
    assert view.selected_text() == "1"
    QApplication.clipboard().clear()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "1"
    QApplication.clipboard().clear()
    qtbot.mouseClick(tab.copy, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "1"
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == view.toPlainText()
    # wrap (long rows: see test_log_view.py)
    qtbot.mouseClick(tab.wrap, Qt.MouseButton.LeftButton)
    assert view.wrapping
    qtbot.mouseClick(tab.wrap, Qt.MouseButton.LeftButton)
    assert not view.wrapping

    # a smaller cap drops the oldest lines at once, and keeps new ones within it
    tab.cap.selectAll()
    qtbot.keyClicks(tab.cap, "100")
    qtbot.keyClick(tab.cap, Qt.Key.Key_Return)
    assert len(tab.buffer.lines) == 100
    assert log_lines(tab)[-1] == "2500"
    assert tab.view.row_count() <= 101  # and the "No earlier lines" notice is gone or kept

    qtbot.mouseClick(tab.clear, Qt.MouseButton.LeftButton)
    assert tab.view.toPlainText() == ""
    tab.close_tab()


def test_scrolling_up_pauses_follow_and_the_end_resumes_it(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    script = "seq 1 300; while true; do echo tick; sleep 0.1; done"
    tab = script_tab(qtbot, app_ctx, containers, "follow", script)
    wait_for(qtbot, lambda: "tick" in log_lines(tab))
    bar = tab.view.verticalScrollBar()
    assert bar.value() == bar.maximum() and tab.follow.isChecked()
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: not tab.follow.isChecked())
    assert tab.status.text() == "Paused (scrolled up)"
    value = bar.value()
    top = tab.view.row_text(bar.value())
    count = tab.view.row_count()
    wait_for(qtbot, lambda: tab.view.row_count() > count + 3)
    assert bar.value() == value and tab.view.row_text(value) == top  # the view did not move
    qtbot.keyClick(tab.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, tab.follow.isChecked)
    count = tab.view.row_count()
    wait_for(qtbot, lambda: tab.view.row_count() > count + 3)
    assert bar.value() == bar.maximum()
    assert tab.view.visual_rect(tab.view.row_count() - 1).isValid()  # the newest row on screen
    tab.close_tab()


def test_a_tab_off_screen_buffers_and_draws_when_back(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    script = "echo first; sleep 1.5; seq 1 50; echo last; sleep 300"
    tab = script_tab(qtbot, app_ctx, containers, "offscreen", script)
    wait_for(qtbot, lambda: log_lines(tab) == ["first"])
    tab.set_active(False)  # what the page does when another tab is shown
    wait_for(qtbot, lambda: any(line[2] == "last" for line in tab.buffer.lines))
    qtbot.wait(300)
    assert log_lines(tab) == ["first"]  # buffered, not drawn
    tab.set_active(True)
    wait_for(qtbot, lambda: log_lines(tab)[-1:] == ["last"])
    assert log_lines(tab) == ["first", *map(str, range(1, 51)), "last"]
    tab.close_tab()
