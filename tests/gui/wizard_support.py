"""Helpers for the first-run wizard tests: keys pressed where the user's focus is, page waits.

Keys go to ``QApplication.focusWidget()`` (else the wizard), as a keyboard would send them, so
Enter reaches the default button only when the focus allows it and Alt+S / Alt+N only work when
the button's mnemonic does.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard

ALT = Qt.KeyboardModifier.AltModifier


def press(qtbot: Any, wizard: Any, key: Qt.Key,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``key`` where the keyboard focus is (the wizard when nothing has it)."""
    target = QApplication.focusWidget()
    if target is None or target.window() is not wizard:
        target = wizard
    qtbot.keyClick(target, key, modifier)


def activate(qtbot: Any, wizard: Any) -> None:
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)


def on_page(qtbot: Any, wizard: Any, key: str, timeout: float = 10.0) -> None:
    qtbot.waitUntil(lambda: wizard.page_key() == key, timeout=int(timeout * 1000))


def mnemonic(qtbot: Any, wizard: Any, which: Any, key: Qt.Key) -> None:
    """Alt+``key`` for the wizard button ``which``; waits for its click (a mnemonic clicks the
    button ~100 ms later, as an animated click)."""
    with qtbot.waitSignal(wizard.button(which).clicked, timeout=3000):
        press(qtbot, wizard, key, ALT)


def skip(qtbot: Any, wizard: Any) -> None:
    """Alt+S: the Skip button's mnemonic."""
    mnemonic(qtbot, wizard, QWizard.WizardButton.CustomButton1, Qt.Key.Key_S)


def next_page(qtbot: Any, wizard: Any) -> None:
    """Alt+N: the Next button's mnemonic."""
    mnemonic(qtbot, wizard, QWizard.WizardButton.NextButton, Qt.Key.Key_N)


def closed(wizard: Any) -> bool:
    """The guide closed (a closed guide deletes itself)."""
    return not shiboken6.isValid(wizard) or not wizard.isVisible()
