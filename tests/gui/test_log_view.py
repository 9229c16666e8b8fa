"""The virtual log view on its own (no engine): it paints only the rows on screen, so a big
buffer costs no more to draw than a small one; wrap, selection, keys and what a screen reader
gets. Lines are put into its buffer directly, as the stream callback does.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication

from app.views.container_page.logs.buffer import LogBuffer
from app.views.container_page.logs.view import LogView

pytestmark = [pytest.mark.gui]


def make_view(qtbot: Any, lines: list[Any], cap: int = 10_000) -> LogView:
    buffer = LogBuffer(cap)
    view = LogView(buffer)
    view.setAccessibleName("Container logs")
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    buffer.add(lines)
    view.flush()
    return view


def test_a_big_buffer_paints_as_fast_as_a_small_one(qtbot: Any) -> None:
    view = make_view(qtbot, [("", 1, f"line {n}") for n in range(200_000)], cap=200_000)
    assert view.row_count() == 200_000 and view.following
    assert view.row_text(view.row_count() - 1) == "line 199999"
    assert view.visual_rect(199_999).isValid() and not view.visual_rect(0).isValid()
    start = time.perf_counter()
    for _ in range(5):
        view.viewport().repaint()
    assert (time.perf_counter() - start) / 5 < 0.05  # ~20 rows laid out, not 200,000
    # appending to a full store: the oldest fall off, the view stays on the newest
    view.buffer.add([("", 1, "newest")])
    view.flush()
    assert view.row_text(view.row_count() - 1) == "newest"
    assert view.row_text(0) == "line 1" and view.row_count() == 200_000


def test_keys_scroll_pause_and_resume_follow(qtbot: Any) -> None:
    view = make_view(qtbot, [("", 1, str(n)) for n in range(1000)])
    bar = view.verticalScrollBar()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert not view.following and bar.value() == bar.maximum() - bar.pageStep()
    value = bar.value()
    top = view.row_text(value)
    view.buffer.add([("", 1, "more")])
    view.flush()
    assert bar.value() == value and view.row_text(value) == top  # paused: the view stays
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert bar.value() == value - 1
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert bar.value() == 0 and view.visual_rect(0).isValid()
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.following and view.visual_rect(view.row_count() - 1).isValid()


def test_wrap_makes_long_rows_taller_and_removes_sideways_scrolling(qtbot: Any) -> None:
    long = "x" * 400
    view = make_view(qtbot, [("", 1, "short"), ("", 2, long), ("", 1, "end")])
    height = view.visual_rect(0).height()
    assert view.visual_rect(1).height() == height
    assert view.horizontalScrollBar().maximum() > 0
    view.set_wrap(True)
    assert view.horizontalScrollBar().maximum() == 0
    assert view.visual_rect(1).height() >= 5 * height  # 400 chars in a 500-pixel row
    assert view.visual_rect(2).top() == view.visual_rect(1).bottom() + 1
    # a click on the wrapped row's third line lands in its text, past the first line's end
    rect = view.visual_rect(1)
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, rect.top() + 2 * height + 2)
    )
    row, column = view.selection()[0]
    assert row == 1 and column > 2 * (500 // 10)
    view.set_wrap(False)
    assert view.visual_rect(1).height() == height


def test_drag_selects_across_rows_and_ctrl_c_copies(qtbot: Any) -> None:
    view = make_view(qtbot, [("", 1, "alpha one"), ("", 2, "beta two"), ("", 1, "gamma")])
    top, bottom = view.visual_rect(0), view.visual_rect(2)
    vp = view.viewport()
    char = view.fontMetrics().horizontalAdvance("M")
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=QPoint(4 + 6 * char + 1, top.center().y()))
    qtbot.mouseMove(vp, QPoint(4 + 3 * char + 1, bottom.center().y()))
    qtbot.mouseRelease(
        vp, Qt.MouseButton.LeftButton, pos=QPoint(4 + 3 * char + 1, bottom.center().y())
    )
    assert view.selected_text() == "one\nbeta two\ngam"
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == "one\nbeta two\ngam"
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_text() == "alpha one\nbeta two\ngamma"
    # the context menu has Copy (enabled with a selection) and Select all
    menu = view.context_menu()
    actions = {action.text(): action for action in menu.actions()}
    assert actions["Copy"].isEnabled()
    view.set_selection((0, 0), (0, 0))
    assert not view.context_menu().actions()[0].isEnabled()
    actions["Select all"].trigger()
    assert view.selected_text() == "alpha one\nbeta two\ngamma"
    # double-click selects a word
    qtbot.mouseDClick(
        vp, Qt.MouseButton.LeftButton, pos=QPoint(4 + 2 * char, view.visual_rect(1).center().y())
    )
    assert view.selected_text() == "beta"


def test_a_screen_reader_gets_the_name_and_the_rows_on_screen(qtbot: Any) -> None:
    view = make_view(qtbot, [("", 1, f"row {n}") for n in range(500)])
    iface = QAccessible.queryAccessibleInterface(view)
    assert iface is not None
    assert iface.text(QAccessible.Text.Name) == "Container logs"
    assert iface.role() == QAccessible.Role.Document
    text = iface.text(QAccessible.Text.Value).splitlines()
    assert text[-1] == "row 499" and "row 0" not in text and len(text) < 40
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert iface.text(QAccessible.Text.Value).splitlines()[0] == "row 0"
