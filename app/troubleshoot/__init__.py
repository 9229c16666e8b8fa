"""Troubleshoot: restart the engine, its log, the diagnostics bundle, clean up, purge, reset.

Help ▸ Troubleshoot… (:func:`add_help_item`) opens one :class:`dialog.TroubleshootDialog` per
main window. The modules without Qt — ``files`` (which files belong to the engine in use) and
``reset`` (factory defaults) — are importable from ``portside diagnostics`` and tests; the work
that must not block the window (measuring and deleting data, writing the bundle) runs on worker
threads through the app's runner, and the headless parts live in ``engine/diagnostics``.
"""

from __future__ import annotations

from typing import Any


def open_troubleshoot(window: Any, tab: str = "") -> Any:
    """Show the window's Troubleshoot dialog (made once), on ``tab`` when given."""
    import shiboken6

    from app.troubleshoot.dialog import TroubleshootDialog

    dialog = getattr(window, "troubleshoot_dialog", None)
    if dialog is None or not shiboken6.isValid(dialog):
        dialog = TroubleshootDialog(window.ctx, window.settings, window)
        window.troubleshoot_dialog = dialog
    if tab:
        dialog.show_tab(tab)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def add_help_item(window: Any) -> Any:
    """Help ▸ Troubleshoot… in ``window.help_menu``; returns the action."""
    from PySide6.QtGui import QAction

    action = QAction("Troubleshoot…", window.help_menu)
    action.setToolTip("Restart the engine, read its log, make a diagnostics bundle, clean up, "
                      "purge data or reset to defaults")
    action.triggered.connect(lambda _checked=False: open_troubleshoot(window))
    window.help_menu.addAction(action)
    window.troubleshoot_action = action
    return action
