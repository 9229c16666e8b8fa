"""The switcher where the user is: a button in the window's footer and a submenu in the tray.

Both are built from the window's :class:`app.engines.switcher.EngineSwitcher`: one checkable
action per engine (the current one checked), then **Manage engines…** (the Engines window).
The menus are rebuilt when the switcher says its list or current engine changed, and the list is
read again each time a menu opens (a context created with the docker CLI meanwhile shows up).
Choosing an engine moves the whole app in one step (``EngineSwitcher.switch_to``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QToolButton, QWidget


def fill_menu(menu: QMenu, switcher: Any, open_manager: Callable[[], Any]) -> None:
    """(Re)build ``menu``: one checkable action per engine, then Manage engines…."""
    menu.clear()
    group = QActionGroup(menu)
    group.setExclusive(True)
    for entry in switcher.entries:
        action = QAction(entry.name, menu)
        action.setCheckable(True)
        action.setChecked(entry.id == switcher.current_id)
        action.setToolTip(entry.url)
        action.setData(entry.id)
        action.triggered.connect(lambda _c=False, i=entry.id: switcher.switch_to(i))
        group.addAction(action)
        menu.addAction(action)
    menu.addSeparator()
    manage = QAction("Manage engines…", menu)
    manage.triggered.connect(lambda _c=False: open_manager())
    menu.addAction(manage)


class EngineButton(QToolButton):
    """The footer's "Engine: <name> ▾" button; its menu switches engines."""

    def __init__(self, switcher: Any, open_manager: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.switcher = switcher
        self.open_manager = open_manager
        self.setObjectName("engineSwitcher")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAccessibleName("Switch engine")
        self.menu_ = QMenu(self)
        self.menu_.setAccessibleName("Engines")
        self.menu_.aboutToShow.connect(switcher.reload)
        self.setMenu(self.menu_)
        switcher.changed.connect(self.refresh)
        switcher.busy_changed.connect(lambda _b: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        name = self.switcher.current_name()
        busy = " (switching…)" if self.switcher.busy else ""
        self.setText(f"Engine: {name}{busy}")
        entry = self.switcher.current
        self.setToolTip(
            f"{entry.name}: {entry.url}. Click to switch engines." if entry is not None
            else "Click to switch engines"
        )
        fill_menu(self.menu_, self.switcher, self.open_manager)


def tray_menu(parent_menu: QMenu, switcher: Any, open_manager: Callable[[], Any]) -> QMenu:
    """An "Engine" submenu in the tray menu (before its first separator), kept in step."""
    menu = QMenu("Engine", parent_menu)
    menu.setAccessibleName("Engine")
    menu.aboutToShow.connect(switcher.reload)
    actions = parent_menu.actions()
    before = next((a for a in actions if a.isSeparator()), None)
    if before is not None:
        parent_menu.insertMenu(before, menu)
    else:
        parent_menu.addMenu(menu)

    def rebuild() -> None:
        fill_menu(menu, switcher, open_manager)
        current = switcher.current_name()
        menu.setTitle(f"Engine: {current}")

    switcher.changed.connect(rebuild)
    rebuild()
    return menu
