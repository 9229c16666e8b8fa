"""Help ▸ About Portside: opened with real clicks on the main window's Help menu."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.settings import Settings
from engine import __version__
from tests.gui.conftest import run_async, wait_for
from tests.gui.modals import open_from_help_menu

pytestmark = [pytest.mark.gui, pytest.mark.engine]


# on the test itself: the conftest's per-item marker would win over a module-level one
@pytest.mark.qt_log_ignore("does not support raise", "does not support grabbing",
                           "does not support propagateSizeHints")
def test_about_shows_every_version_and_copies_them(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    settings = Settings(path=tmp_path / "settings.json")
    settings.first_run_done = True
    window = MainWindow(app_ctx, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    dialog = open_from_help_menu(qtbot, window, "about")

    engine_version = run_async(qtbot, app_ctx.client.version())
    labels = {name: label.text() for name, label in dialog.value_labels.items()}
    assert labels["Portside"] == __version__
    assert labels["Qt"].startswith(qVersion())
    assert labels["Python"].startswith(platform.python_version())
    assert labels["Engine"].startswith(f"Docker {engine_version.version} (API ")
    assert labels["VM image"]  # built, shipped or "not built", never empty
    assert dialog.focusWidget() is not None and dialog.focusWidget().text() == "Close"

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QApplication.clipboard().text()
    assert copied.startswith(f"Portside: {__version__}\n")
    assert f"Docker {engine_version.version}" in copied
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not dialog.isVisible())
