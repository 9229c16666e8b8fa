"""Put the engines switcher into a main window (and its tray): the one call the shell makes.

``install(window)`` creates the window's :class:`EngineSwitcher` (``window.engine_switcher``),
makes every switch forget the old engine's pages, rows and windows (:mod:`app.engines.forget`),
puts the :class:`app.engines.menus.EngineButton` into the footer after the state text and gives
the window ``open_engines()`` (the Engines window, one per main window). ``install_tray``
adds the Engine submenu to the tray's menu.
"""

from __future__ import annotations

from typing import Any

import shiboken6

from app.engines import forget, links
from app.engines.dialog import EnginesDialog
from app.engines.menus import EngineButton, tray_menu
from app.engines.switcher import EngineSwitcher


def install(window: Any) -> EngineSwitcher:
    """The switcher for ``window``: footer button, Engines window, forgetting on switch."""
    switcher = EngineSwitcher(window.ctx, window.settings, window)
    window.engine_switcher = switcher
    forget.install(window.ctx, window)
    links.follow(window.ctx)
    window.engines_dialog = None

    def open_engines() -> EnginesDialog:
        dialog: EnginesDialog | None = window.engines_dialog
        if dialog is None or not shiboken6.isValid(dialog):
            dialog = EnginesDialog(switcher, window)
            window.engines_dialog = dialog
        else:
            dialog.refresh()
        if dialog.isVisible():
            dialog.raise_()  # already open behind the main window: bring it forward
        dialog.show()
        dialog.activateWindow()
        return dialog

    window.open_engines = open_engines
    button = EngineButton(switcher, open_engines)
    layout = window.footer.layout()
    index = layout.indexOf(window.footer.state_label)
    layout.insertWidget(index + 1 if index >= 0 else 0, button)
    window.engine_button = button
    return switcher


def install_tray(tray: Any, window: Any) -> Any:
    """The tray menu's Engine submenu, driven by ``window``'s switcher."""
    switcher = getattr(window, "engine_switcher", None)
    if switcher is None:
        return None

    def open_engines() -> Any:
        window.show()
        window.raise_()
        return window.open_engines()

    return tray_menu(tray.menu, switcher, open_engines)
