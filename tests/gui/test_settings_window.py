"""The Settings window: opened with real keys, each tab's effect checked on real files/engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.settings import Settings

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def _window(app_ctx: Any, qtbot: Any, tmp_path: Path) -> MainWindow:
    window = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_ctrl_comma_opens_settings_and_theme_applies_live(
    app_ctx: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import theme

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    window = _window(app_ctx, qtbot, tmp_path)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.sidebar.setFocus()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    settings_window = window.settings_window
    assert settings_window is not None
    qtbot.waitUntil(settings_window.isVisible)
    assert settings_window.windowTitle() == "Settings"
    # the sidebar button and the help menu the other features fill are there
    assert window.settings_button.text() == "Settings"
    assert window.help_menu is window.help_button.menu()

    general = settings_window.show_tab("general")  # type: ignore[attr-defined]
    qapp = QApplication.instance()
    try:
        general.theme_combo.setFocus()
        # real keys on the combo box: "system" -> "light" -> "dark"
        qtbot.keyClick(general.theme_combo, Qt.Key.Key_Down)
        qtbot.keyClick(general.theme_combo, Qt.Key.Key_Down)
        assert general.theme_combo.currentData() == "dark"
        assert theme.current().name == "dark"
        assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < 60
        assert window.theme_actions["dark"].isChecked()  # the sidebar's menu follows
        assert Settings.load(tmp_path / "settings.json").theme == "dark"
    finally:
        theme.reset(qapp)


def test_a_corrupt_settings_file_is_shown_to_the_user(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "dark", "close_to_tray": fal')
    settings = Settings.load(path)
    window = MainWindow(app_ctx, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: getattr(window, "settings_notice_box", None) is not None)
    box = window.settings_notice_box
    assert box.isVisible()
    assert "damaged" in box.text() and str(tmp_path / "settings.json.corrupt") in box.text()
    assert settings.theme == "system"  # defaults
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not box.isVisible())
    # shown once: hiding and showing the window again does not repeat it
    window.hide()
    window.show()
    qapp = QApplication.instance()
    qapp.processEvents()
    assert settings.notices == []
