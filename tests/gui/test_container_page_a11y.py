"""The container page as a screen reader sees it: with each tab shown, and with the commit dialog,
every control has a name and no two share one (rules in ``tests/gui/display/checks.py``).

Opened in the main window the way a user does (click the row, Enter); tabs chosen by clicking
their tab. Also checks the header's controls by the names a user would look for.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from app.views.container_page.commit_dialog import CommitDialog
from tests.gui.display import content, drive
from tests.gui.display.checks import a11y_problems, hidden_nameless
from tests.gui.display.looks import assert_no_problems
from tests.gui.pages import open_container_page

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]

look = drive.look
window = drive.window


def test_every_tab_of_the_page_and_the_commit_dialog_name_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content
) -> None:
    view: Any = window.show_view("containers")
    page = open_container_page(qtbot, view, look.containers["web"])
    header = page.header
    names = {b.accessibleName() for b in header.buttons.values()}
    assert {"Start the container", "Stop the container", "Remove the container"} <= names
    assert "Commit the container to an image" in names
    assert header.back.accessibleName() == "Back to containers"
    assert page.tabs.accessibleName() == "Container tabs"
    problems: dict[str, list[str]] = {}
    bar = page.tabs.tabBar()
    try:
        for i in range(page.tabs.count()):
            qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())
            assert page.tabs.currentIndex() == i
            drive.settle(qtbot, app_ctx)
            found = a11y_problems(window) + hidden_nameless(page.tabs.widget(i))
            if found:
                problems[page.tabs.tabText(i)] = found
        qtbot.mouseClick(header.buttons["commit"], Qt.MouseButton.LeftButton)
        dialog = page.findChild(CommitDialog)
        qtbot.waitExposed(dialog)
        found = a11y_problems(dialog) + hidden_nameless(dialog)
        if found:
            problems["commit dialog"] = found
        dialog.reject()
    finally:
        view.close_page()  # ends every tab's streams before the engine client closes
        drive.settle(qtbot, app_ctx)
    assert_no_problems(problems)
