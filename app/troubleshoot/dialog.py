"""The Troubleshoot window (Help ▸ Troubleshoot…): one tab per kind of repair.

Tabs: Engine (restart, live log, save it: ``engine_page``), Diagnostics (the bundle:
``bundle_page``), Clean up (prune: ``cleanup_page``), Reset (purge data, factory defaults:
``data_page``). Non-modal, one per main window (``open_troubleshoot``); each tab runs its work on
the app's runner, so closing the window never cancels a restart or a purge half-way.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialogButtonBox, QTabWidget, QVBoxLayout, QWidget

from app.dialogs.frame import PortsideDialog
from app.troubleshoot.bundle_page import BundlePage
from app.troubleshoot.cleanup_page import CleanupPage
from app.troubleshoot.data_page import DataPage
from app.troubleshoot.engine_page import EnginePage


class TroubleshootDialog(PortsideDialog):
    """Restart and log, diagnostics bundle, clean up, purge and reset — each on its own tab."""

    def __init__(self, ctx: Any, settings: Any, main_window: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else main_window)
        self.setWindowTitle("Troubleshoot")
        self.setObjectName("troubleshootWindow")
        self.ctx = ctx
        self.engine_page = EnginePage(ctx)
        self.bundle_page = BundlePage(ctx, settings)
        self.cleanup_page = CleanupPage(ctx)
        self.data_page = DataPage(ctx, settings, main_window)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Troubleshoot sections")
        self.pages: dict[str, QWidget] = {
            "engine": self.engine_page,
            "diagnostics": self.bundle_page,
            "cleanup": self.cleanup_page,
            "reset": self.data_page,
        }
        titles = {"engine": "Engine", "diagnostics": "Diagnostics", "cleanup": "Clean up",
                  "reset": "Reset"}
        for key, page in self.pages.items():
            self.tabs.addTab(page, titles[key])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.set_default_button(close, buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)
        self.first_field = self.tabs
        self.resize(820, 600)

    def show_tab(self, key: str) -> QWidget:
        page = self.pages[key]
        self.tabs.setCurrentWidget(page)
        return page
