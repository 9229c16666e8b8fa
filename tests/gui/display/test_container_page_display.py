"""The container page in the main window on a real X display, light and dark, 1280x720 and
1920x1080: header of a running container with a published port and of one killed (137), the
Inspect tab (tree with a masked secret, a search, the raw JSON) and the commit dialog.

Opened the way a user does (a click on the row, Enter). Texts must fit, nothing may stick out,
every control is named; the commit dialog is not smaller than its size hint. Screenshots go to
``$PORTSIDE_SCREENSHOTS/container-page/`` when set.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from app.views.container_page.commit_dialog import CommitDialog
from app.views.container_page.inspect_tree import MASK
from tests.gui.conftest import wait_for
from tests.gui.display import content, drive
from tests.gui.display.looks import (
    WINDOW_SIZES,
    Looks,
    _mode,  # noqa: F401 - the mode fixture
)
from tests.gui.pages import click_tab, open_container_page

pytestmark = [pytest.mark.gui, pytest.mark.engine]

look = drive.look
window = drive.window


@WINDOW_SIZES
def test_container_page_fits(
    window: MainWindow,
    look: content.Content,
    app_ctx: Any,
    containers: Any,
    qtbot: Any,
    mode: str,
    size: tuple[int, int],
) -> None:
    secret = containers.create(
        "secret-env",
        start=True,
        extra={"Env": ["DB_PASSWORD=hunter2", "APP_MODE=production"]},
    )
    looks = Looks("container-page", f"{mode}-{size[0]}x{size[1]}")
    window.resize(*size)
    qtbot.waitExposed(window)
    view: Any = window.show_view("containers")
    wait_for(qtbot, lambda: secret in view.model)

    def shot(name: str, dialog: Any = None) -> None:
        # the window as it is, or a dialog, which must also reach its size hint
        looks.check(name, dialog or window, sized=dialog is not None)

    def open_page(cid: str) -> Any:
        page = open_container_page(qtbot, view, cid)
        drive.settle(qtbot, app_ctx)
        return page

    try:
        page = open_page(look.containers["web"])
        wait_for(qtbot, lambda: "http://127.0.0.1:" in page.header.ports.text())
        shot("web-page")
        qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)

        page = open_page(look.containers["crashy"])
        assert page.header.state.text().startswith("Exited with code 137")
        shot("exited-page")
        qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)

        page = open_page(secret)
        inspect = click_tab(qtbot, page, "Inspect")
        wait_for(qtbot, lambda: inspect.has_document)
        inspect.tree.expand(inspect.proxy.mapFromSource(inspect.model.index_of_path("Config")))
        env = inspect.proxy.mapFromSource(inspect.model.index_of_path("Config.Env"))
        inspect.tree.expand(env)
        last = inspect.proxy.index(inspect.proxy.rowCount(env) - 1, 0, env)
        inspect.tree.scrollTo(last)  # the masked secret on screen
        assert f"DB_PASSWORD={MASK}" in inspect.raw.toPlainText()
        shot("inspect-tree")
        qtbot.keyClicks(inspect.search, "production")
        assert inspect.count.text() == "1 match"
        shot("inspect-search")
        qtbot.mouseClick(inspect.buttons["raw"], Qt.MouseButton.LeftButton)
        shot("inspect-raw")
        qtbot.mouseClick(inspect.buttons["raw"], Qt.MouseButton.LeftButton)

        qtbot.mouseClick(page.header.buttons["commit"], Qt.MouseButton.LeftButton)
        dialog = page.findChild(CommitDialog)
        qtbot.waitExposed(dialog)
        shot("commit-dialog", dialog)
        qtbot.keyClicks(dialog.repository, "Bad Name")
        qtbot.keyClick(dialog.repository, Qt.Key.Key_Return)
        assert dialog.error.isVisible()
        shot("commit-dialog-error", dialog)
        dialog.reject()
        qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)
    finally:
        view.close_page()
    looks.assert_fine()
