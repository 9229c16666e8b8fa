"""The log toolbar both log windows use, on a bare view (no engine): each button drives the view,
scrolling turns Follow back, Save… hands the picked path to the owner, and the buttons sit in
the owner's tab order in the order they are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QVBoxLayout, QWidget

from app.views.container_page.logs.buffer import LogBuffer
from app.views.container_page.logs.toolbar import LogToolbar, tool_button
from app.views.container_page.logs.view import LogView

pytestmark = [pytest.mark.gui]


def make(qtbot: Any) -> tuple[QWidget, LogToolbar, LogView, Any]:
    owner = QWidget()
    view = LogView(LogBuffer(10_000))
    extra = tool_button("Copy", "Copy the selection")
    bar = LogToolbar(
        view, follow_tip="Keep the newest lines in view", clear_tip="Clear the view",
        save_name="x.log", middle=(extra,),
    )
    bar.addWidget(QLabel("owner's own"))
    layout = QVBoxLayout(owner)
    layout.addLayout(bar)
    layout.addWidget(view, 1)
    qtbot.addWidget(owner)
    owner.resize(600, 300)
    owner.show()
    qtbot.waitExposed(owner)
    view.buffer.add([("2026-01-01T00:00:00Z", 1, f"line {n}") for n in range(500)])
    view.flush()
    return owner, bar, view, extra


def test_buttons_drive_the_view_and_scrolling_turns_follow_back(qtbot: Any) -> None:
    _owner, bar, view, extra = make(qtbot)
    assert [bar.itemAt(i).widget() for i in range(6)] == [
        bar.follow, bar.timestamps, bar.wrap, extra, bar.save, bar.clear
    ]
    assert bar.follow.isChecked() and view.following
    qtbot.mouseClick(bar.follow, Qt.MouseButton.LeftButton)
    assert not view.following
    view.set_following(True)  # the view scrolled to the end: the button follows it
    assert bar.follow.isChecked()
    view.verticalScrollBar().setValue(0)  # scrolled up: paused, and the button says so
    assert not view.following and not bar.follow.isChecked()

    qtbot.mouseClick(bar.timestamps, Qt.MouseButton.LeftButton)
    assert view.row_text(0).startswith("2026-01-01T00:00:00Z line 0")
    qtbot.mouseClick(bar.wrap, Qt.MouseButton.LeftButton)
    assert view.wrapping
    qtbot.mouseClick(bar.clear, Qt.MouseButton.LeftButton)
    assert view.row_count() == 0 and len(view.buffer.lines) == 0


def test_save_asks_over_the_owner_and_hands_the_path_on(qtbot: Any, monkeypatch: Any) -> None:
    owner, bar, _view, _extra = make(qtbot)
    asked: list[Any] = []

    def ask(parent: Any, title: str, name: str, filters: str) -> tuple[str, str]:
        asked.append((parent, title, name))
        return ("/tmp/picked.log", "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    with qtbot.waitSignal(bar.save_requested) as saved:
        qtbot.mouseClick(bar.save, Qt.MouseButton.LeftButton)
    assert saved.args == [Path("/tmp/picked.log")]
    assert asked == [(owner, "Save logs", "x.log")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: ("", ""))
    with qtbot.assertNotEmitted(bar.save_requested):
        qtbot.mouseClick(bar.save, Qt.MouseButton.LeftButton)  # cancelled: nothing to save


def test_tab_order_is_the_order_shown(qtbot: Any) -> None:
    _owner, bar, _view, extra = make(qtbot)
    bar.follow.setFocus()
    order = [bar.follow]
    for _ in range(5):
        order.append(order[-1].nextInFocusChain())
    assert order == [bar.follow, bar.timestamps, bar.wrap, extra, bar.save, bar.clear]
