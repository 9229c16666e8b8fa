"""Answer a modal question (QMessageBox, QInputDialog) with real key presses while it runs.

A modal ``exec()`` blocks the test where it clicked; :func:`when_modal` polls from a timer (which
runs inside the dialog's own event loop) for the active modal widget and hands it to a callback
that presses keys on it, as a person would. :func:`open_from_help_menu` does the same for the
main window's Help menu: a click on the Help button opens its popup (which blocks the test in
its own loop), a timer clicks the item there, and the dialog the item opens is returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui.conftest import wait_for


def when_modal(callback: Callable[[QWidget], Any], timeout: float = 15.0) -> list[QWidget]:
    """Call ``callback(dialog)`` once a modal dialog is up; returns a list that gets the dialog.

    The list stays empty if none came within ``timeout`` seconds (the test then fails on it).
    """
    seen: list[QWidget] = []
    deadline = time.monotonic() + timeout

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog.isVisible():
            seen.append(dialog)
            callback(dialog)
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)
    return seen


def open_from_help_menu(qtbot: Any, window: Any, item: str) -> Any:
    """Click Help, then the menu's ``<item>_action``; returns the ``<item>_dialog``, shown."""
    clicked: list[bool] = []
    action = getattr(window, f"{item}_action")

    def click_item() -> None:
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(20, click_item)
            return
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        clicked.append(True)

    QTimer.singleShot(20, click_item)
    qtbot.mouseClick(window.help_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: clicked and getattr(window, f"{item}_dialog", None) is not None)
    dialog = getattr(window, f"{item}_dialog")
    wait_for(qtbot, dialog.isVisible)
    return dialog
