"""The Troubleshoot window and its confirmations on a real X display, light and dark.

With a private engine of its own (the window restarts and purges it): every tab as it opens, the
Engine tab after a restart, the Diagnostics tab after writing a bundle, the Clean up and Reset
questions, the Purge data list. Texts must fit, nothing may stick out, no dialog may be smaller
than its size hint, every control has a name. Screenshots go to
``$PORTSIDE_SCREENSHOTS/troubleshoot/`` when set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from tests.gui.conftest import run_async, wait_for
from tests.gui.display.looks import (
    Looks,
    _mode,  # noqa: F401 - the mode fixture
)
from tests.gui.test_troubleshoot import own_ctx, wait_box, window  # noqa: F401 - fixtures
from tests.support.engine_fixtures import TEST_IMAGE, import_image

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_troubleshoot_fits(qtbot: Any, window: Any, own_ctx: Any,  # noqa: F811
                           tmp_path: Path, mode: str) -> None:
    from app.troubleshoot import open_troubleshoot

    looks = Looks("troubleshoot", mode)
    run_async(qtbot, import_image(own_ctx.engine.endpoint, TEST_IMAGE), 90)
    window.resize(1280, 720)
    dialog = open_troubleshoot(window)
    qtbot.waitExposed(dialog)

    def look(state: str, widget: QWidget) -> None:
        looks.check(state, widget, sized=True)

    for key in dialog.pages:
        dialog.show_tab(key)
        look(f"tab-{key}", dialog)

    page = dialog.show_tab("engine")
    qtbot.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
    look("engine-restarting", dialog)
    wait_for(qtbot, lambda: "runs again" in page.result_label.text(), 60)
    wait_for(qtbot, lambda: own_ctx.client is not None, 30)
    look("engine-restarted", dialog)

    bundle = dialog.show_tab("diagnostics")
    run_async(qtbot, bundle.write_to(tmp_path / "bundle.zip"), 60)
    wait_for(qtbot, bundle.show_button.isVisible)
    look("diagnostics-done", dialog)

    cleanup = dialog.show_tab("cleanup")
    qtbot.mouseClick(cleanup.button, Qt.MouseButton.LeftButton)
    box = wait_box(qtbot)
    look("cleanup-question", box)
    qtbot.keyClick(box, Qt.Key.Key_Escape)

    data = dialog.show_tab("reset")
    qtbot.mouseClick(data.reset_button, Qt.MouseButton.LeftButton)
    box = wait_box(qtbot)
    assert isinstance(box, QMessageBox)
    look("reset-question", box)
    qtbot.keyClick(box, Qt.Key.Key_Escape)

    qtbot.mouseClick(data.purge_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: data.purge_dialog is not None and data.purge_dialog.isVisible(),
             30)
    look("purge-list", data.purge_dialog)
    data.purge_dialog.confirm.setChecked(True)
    look("purge-list-ticked", data.purge_dialog)
    qtbot.keyClick(data.purge_dialog, Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not data.purge_dialog.isVisible())
    looks.assert_fine()


def test_troubleshoot_attached_fits(qtbot: Any, app_ctx: Any, tmp_path: Path, mode: str) -> None:
    """Attached to an engine Portside does not run: the pages say what cannot be done here."""
    from app.settings import Settings
    from app.troubleshoot.dialog import TroubleshootDialog

    looks = Looks("troubleshoot", mode)
    dialog = TroubleshootDialog(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for key in ("engine", "reset"):
        dialog.show_tab(key)
        looks.check(f"attached-{key}", dialog)
    assert not dialog.engine_page.restart_button.isEnabled()
    assert "does not run" in dialog.engine_page.result_label.text()
    assert not dialog.data_page.purge_button.isEnabled()
    assert dialog.data_page.reset_button.isEnabled()
    looks.assert_fine()
