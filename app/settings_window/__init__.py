"""The Settings window (Ctrl+, / Preferences): one tab per module of this package.

Data flow: ``MainWindow.open_settings`` builds one :class:`SettingsWindow` (non-modal) with the
app context and the shared :class:`app.settings.Settings`. Each tab is a QWidget built from
``TABS`` when the window opens; a tab edits its own storage and says where it went:

* General -> ``Settings`` (saved at once, atomically) + the OS autostart entry (app/autostart.py);
  the theme is applied live through the main window's ``set_theme``.
* Resources -> the VM's ``vm.json`` (engine/vm/plan.py), used at the next VM start.
* Engine -> ``daemon.json``; "Apply & restart" runs engine/lifecycle/daemon_config.py on the
  runner (write with backup, restart, roll back on failure).
* Proxies -> ``Settings.extra`` (no password) + the keyring; passed to dockerd's environment.
* Accounts / CLI integration -> the existing views (app/views/accounts.py, app/cli_integration.py).

Tabs that need the engine get ``ctx``; none of them polls.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from PySide6.QtWidgets import (
    QDialogButtonBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import PortsideDialog
from app.settings import Settings

log = logging.getLogger(__name__)

# (key, title, module, class)
TABS: tuple[tuple[str, str, str, str], ...] = (
    ("general", "General", "app.settings_window.general", "GeneralTab"),
    ("resources", "Resources", "app.settings_window.resources_tab", "ResourcesTab"),
    ("engine", "Engine", "app.settings_window.engine_tab", "EngineTab"),
    ("proxies", "Proxies", "app.settings_window.proxies_tab", "ProxiesTab"),
    ("accounts", "Accounts", "app.settings_window.accounts_tab", "AccountsTab"),
    ("cli", "CLI integration", "app.settings_window.cli_tab", "CliTab"),
)


class SettingsWindow(PortsideDialog):
    """The Settings window: a tab per area and a Close button (changes apply as they are made)."""

    def __init__(self, ctx: Any, settings: Settings, main_window: Any = None) -> None:
        super().__init__(main_window)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsWindow")
        self.ctx = ctx
        self.settings = settings
        self.main_window = main_window
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        self.pages: dict[str, QWidget] = {}
        for key, title, module, cls in TABS:
            page_cls = getattr(importlib.import_module(module), cls)
            page = page_cls(self)
            self.pages[key] = page
            self.tabs.addTab(page, title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        assert isinstance(close, QPushButton)
        self.close_button = close
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        # (now that every button is inside this dialog) Return goes to one default button
        # (PortsideDialog), never to whichever tab's button Qt would pick as "auto default"
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
        self.set_default_button(close, buttons)
        self.tabs.currentChanged.connect(self._focus_tab)
        # the tab bar first: arrow keys go through the tabs, Tab into the current one
        self.first_field = self.tabs.tabBar()
        hint = self.sizeHint()
        self.resize(max(900, hint.width()), max(620, hint.height()))

    def show_tab(self, key: str) -> QWidget:
        """Switch to tab ``key``; its first field gets the focus (now, or when shown)."""
        page = self.pages[key]
        self.tabs.setCurrentWidget(page)
        first = getattr(page, "first_field", None)
        if isinstance(first, QWidget):
            self.first_field = first
            if self.isVisible():
                first.setFocus()
        return page

    def _focus_tab(self, _index: int) -> None:
        """A tab's own default button (Resources: Apply) or Close takes Return."""
        page = self.tabs.currentWidget()
        button = getattr(page, "default_button", None)
        if not isinstance(button, QPushButton):
            button = self.close_button
        previous = self.default_button()
        if previous is not None and previous is not button:
            previous.setDefault(False)
        self.set_default_button(button)
        first = getattr(page, "first_field", None)
        if isinstance(first, QWidget):
            self.first_field = first  # where the focus goes when the window opens again

    def save_settings(self) -> bool:
        """Write settings.json now; False (and a message on the tab) when it cannot be."""
        try:
            self.settings.save()
        except (OSError, ValueError) as exc:
            log.warning("could not save settings: %s", exc)
            return False
        return True
