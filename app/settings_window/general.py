"""Settings > General: start at login, open the window on start, keep running in the tray, theme.

Every control writes ``Settings`` at once (atomically, app/settings.py). "Start Portside when I
log in" also writes or removes the OS entry (app/autostart.py) and shows where it is; the check
box shows what the OS will really do (``autostart.is_enabled``), not only the saved setting. The
theme goes through the main window's ``set_theme`` (live: palette, stylesheet, icons).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QVBoxLayout, QWidget

from app import autostart, theme
from app.dialogs.frame import WrapLabel, grow_to_fit, name_form_fields

log = logging.getLogger(__name__)


class GeneralTab(QWidget):
    """Start-up and look."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window_ = window
        self.settings = window.settings
        self.theme_combo = QComboBox()
        for mode in theme.MODES:
            self.theme_combo.addItem(theme.MODE_TITLES[mode], mode)
        self.theme_combo.setCurrentIndex(theme.MODES.index(theme.normalise_mode(self.settings.theme)))
        self.theme_combo.currentIndexChanged.connect(self._on_theme)
        self.login_box = QCheckBox("Start Portside when I log in")
        self.login_box.setChecked(autostart.is_enabled())
        self.login_box.toggled.connect(self._on_login)
        self.open_box = QCheckBox("Open the window when Portside starts")
        self.open_box.setChecked(self.settings.open_window_on_start)
        self.open_box.toggled.connect(self._on_open)
        self.tray_box = QCheckBox("Keep running in the tray when the window is closed")
        self.tray_box.setChecked(self.settings.close_to_tray)
        self.tray_box.toggled.connect(self._on_tray)
        # a path as long as the user's home makes it: wrapped (at its slashes), never cut and
        # never widening the window past the screen
        self.login_where = WrapLabel()
        self.login_where.setObjectName("muted")
        self.message = WrapLabel()
        self.message.setObjectName("fieldError")
        self.message.hide()
        form = QFormLayout()
        form.addRow("Theme:", self.theme_combo)
        name_form_fields(form)
        layout = QVBoxLayout(self)
        layout.addWidget(self.login_box)
        layout.addWidget(self.login_where)
        layout.addWidget(self.open_box)
        layout.addWidget(self.tray_box)
        layout.addSpacing(theme.Sizes.GAP)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.first_field: QWidget = self.login_box
        self._show_login_where()
        # the sidebar's Appearance menu (Ctrl+Shift+L) may switch while this is open
        theme.notifier().changed.connect(self._follow_theme)

    def _follow_theme(self, _palette: str) -> None:
        mode = theme.normalise_mode(self.settings.theme)
        if self.theme_combo.currentData() != mode:
            self.theme_combo.blockSignals(True)
            self.theme_combo.setCurrentIndex(theme.MODES.index(mode))
            self.theme_combo.blockSignals(False)

    def _show_login_where(self) -> None:
        if self.login_box.isChecked():
            where = (
                autostart.linux_entry_path()
                if sys.platform.startswith("linux")
                else "the OS's login items"
            )
            self.login_where.setText(f"Starts from {where}")
        else:
            self.login_where.setText("Portside starts only when you open it")

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        grow_to_fit(self)

    def _save(self) -> None:
        if self.window_.save_settings():
            self.message.hide()
        else:
            self._fail(f"Could not save {self.settings.path}: check that the folder is writable.")

    def _on_theme(self, index: int) -> None:
        mode = str(self.theme_combo.itemData(index))
        main = self.window_.main_window
        if main is not None and hasattr(main, "set_theme"):
            main.set_theme(mode)
        else:
            from PySide6.QtWidgets import QApplication

            self.settings.theme = mode
            qt_app = QApplication.instance()
            if isinstance(qt_app, QApplication):
                theme.apply(qt_app, mode)
        self._save()

    def _on_open(self, on: bool) -> None:
        self.settings.open_window_on_start = on
        self._save()

    def _on_tray(self, on: bool) -> None:
        self.settings.close_to_tray = on
        self._save()

    def _on_login(self, on: bool) -> None:
        try:
            if on:
                where = autostart.enable()
                log.info("start at login: %s", where)
            else:
                autostart.disable()
        except OSError as exc:
            self.login_box.blockSignals(True)
            self.login_box.setChecked(not on)
            self.login_box.blockSignals(False)
            self._fail(f"Could not {'add' if on else 'remove'} the login entry: {exc}")
            return
        self.settings.start_at_login = on
        self._show_login_where()
        self._save()
