"""Answer a modal question (QMessageBox, QInputDialog) with real key presses while it runs.

A modal ``exec()`` blocks the test where it clicked; :func:`when_modal` polls from a timer (which
runs inside the dialog's own event loop) for the active modal widget and hands it to a callback
that presses keys on it, as a person would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget


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
