"""The Settings window: opened with real keys, each tab's effect checked on real files/engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.settings import Settings
from tests.gui.own_engine import own_engine_window

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
        # and the other way: Ctrl+Shift+L in the main window moves the combo box along
        window.cycle_theme()  # dark -> system
        assert general.theme_combo.currentData() == "system"
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


def _open(window: MainWindow, qtbot: Any, tab: str) -> Any:
    settings_window = window.open_settings(tab)
    qtbot.addWidget(settings_window)
    qtbot.waitExposed(settings_window)
    return settings_window.pages[tab]  # type: ignore[attr-defined]


def _press(qtbot: Any, widget: Any, key: Qt.Key = Qt.Key.Key_Space) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, key)


def test_general_start_at_login_writes_and_removes_the_autostart_entry(
    app_ctx: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "portside.desktop"
    window = _window(app_ctx, qtbot, tmp_path)
    general = _open(window, qtbot, "general")
    assert not general.login_box.isChecked() and not entry.exists()
    _press(qtbot, general.login_box)
    assert entry.is_file() and "Exec=" in entry.read_text()
    assert str(entry) in general.login_where.text()
    saved = Settings.load(tmp_path / "settings.json")
    assert saved.start_at_login is True
    _press(qtbot, general.open_box)
    _press(qtbot, general.tray_box)
    saved = Settings.load(tmp_path / "settings.json")
    assert saved.open_window_on_start is False and saved.close_to_tray is False
    _press(qtbot, general.login_box)
    assert not entry.exists()
    assert Settings.load(tmp_path / "settings.json").start_at_login is False
    # a new window shows what the OS will do: the file, not only the setting
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text("[Desktop Entry]\nType=Application\nName=Portside\nExec=portside\n")
    window.settings_window.close()
    window.settings_window = None
    assert _open(window, qtbot, "general").login_box.isChecked()


def test_engine_and_proxies_tabs_say_why_an_attached_engine_cannot_be_configured(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    window = _window(app_ctx, qtbot, tmp_path)
    tab = _open(window, qtbot, "proxies")
    # attached to an engine Portside does not start: nothing to pass proxies to
    assert not tab.http.isEnabled() and not tab.apply_button.isEnabled()
    assert "does not start" in tab.intro.text()
    engine_tab = window.settings_window.show_tab("engine")
    assert not engine_tab.editor.isEnabled() and not engine_tab.apply_button.isEnabled()
    assert "no daemon.json to edit here" in engine_tab.where.text()


def test_resources_tab_writes_vm_json_bounded_by_the_host_and_keeps_other_keys(
    app_ctx: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os

    home = tmp_path / "engine"
    monkeypatch.setenv("PORTSIDE_HOME", str(home))
    vm_json = home / "vm" / "vm.json"
    vm_json.parent.mkdir(parents=True)
    vm_json.write_text('{"accel": "tcg", "future": {"x": 1}}')
    window = _window(app_ctx, qtbot, tmp_path)
    tab = _open(window, qtbot, "resources")
    assert tab.path == vm_json
    assert tab.cpus.maximum() == os.cpu_count()  # bounded by the host
    assert tab.folders() == [str(Path.home())]  # the default share
    tab.cpus.setFocus()
    qtbot.keyClick(tab.cpus, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(tab.cpus, "1")
    shared = tmp_path / "project"
    shared.mkdir()
    tab.add_folder(str(shared))
    _press(qtbot, tab.apply_button)
    data = json.loads(vm_json.read_text())
    assert data["cpus"] == 1 and data["accel"] == "tcg" and data["future"] == {"x": 1}
    assert data["shares"] == [str(Path.home()), str(shared)]
    assert "next start" in tab.message.text()
    assert json.loads((home / "vm" / "vm.json.bak").read_text())["accel"] == "tcg"
    _press(qtbot, tab.defaults_button)
    data = json.loads(vm_json.read_text())
    assert data == {"accel": "tcg", "future": {"x": 1}}


# qasync, when the engine's sockets close under it during the restart
@pytest.mark.qt_log_ignore("does not support propagateSizeHints", "QSocketNotifier: Invalid socket")
def test_engine_tab_checks_as_you_type_and_rolls_back_a_file_dockerd_refuses(
    qasync_loop: Any, qtbot: Any, own_engine_root: Path, tmp_path: Path
) -> None:
    import json

    from engine.lifecycle import EngineState
    from tests.gui.conftest import run_async, wait_for

    engine, ctx, window, errors = own_engine_window(
        qtbot, own_engine_root, tmp_path / "settings.json"
    )
    try:
        ctx.start()
        wait_for(qtbot, lambda: ctx.client is not None, timeout=60)
        # the views' first listing is done (a restart in the middle of it fails it, as the
        # footer's Restart would)
        wait_for(qtbot, lambda: not ctx.runner.busy, timeout=30)
        tab = _open(window, qtbot, "engine")
        path = engine.paths.daemon_json
        before = path.read_bytes()
        assert tab.editor.toPlainText() == before.decode()
        assert tab.apply_button.isEnabled() and not tab.problems.isVisible()

        # typing: a missing comma is found at once, with its line, and blocks Apply
        tab.editor.setFocus()
        tab.editor.moveCursor(tab.editor.textCursor().MoveOperation.Start)
        qtbot.keyClick(tab.editor, Qt.Key.Key_Down)  # line 2, inside the object
        qtbot.keyClicks(tab.editor, '  "debug": true')
        qtbot.keyClick(tab.editor, Qt.Key.Key_Return)
        assert tab.problems.isVisible() and "line 3" in tab.problems.text()
        assert not tab.apply_button.isEnabled()
        qtbot.keyClick(tab.editor, Qt.Key.Key_Up)
        qtbot.keyClick(tab.editor, Qt.Key.Key_End)
        qtbot.keyClicks(tab.editor, ",")
        assert not tab.problems.isVisible() and tab.apply_button.isEnabled()
        # a key dockerd does not know is a note, not a refusal
        tab.editor.moveCursor(tab.editor.textCursor().MoveOperation.Start)
        qtbot.keyClick(tab.editor, Qt.Key.Key_Down)
        qtbot.keyClicks(tab.editor, '  "no-such-key": 1,')
        qtbot.keyClick(tab.editor, Qt.Key.Key_Return)
        assert tab.warnings.isVisible() and '"no-such-key"' in tab.warnings.text()
        assert tab.apply_button.isEnabled()
        assert json.loads(tab.editor.toPlainText())["no-such-key"] == 1

        old_pid = engine.status.pid
        _press(qtbot, tab.apply_button)
        wait_for(qtbot, lambda: "refused" in tab.result.text(), timeout=90)
        assert "no-such-key" in tab.result.text()  # dockerd's own error
        assert "previous daemon.json is back and the engine runs" in tab.result.text()
        assert tab.engine_log.isVisible() and "no-such-key" in tab.engine_log.toPlainText()
        assert path.read_bytes() == before
        assert tab.editor.toPlainText() == before.decode()  # the editor shows what is in force
        assert engine.status.state is EngineState.RUNNING and engine.status.pid != old_pid
        wait_for(qtbot, lambda: ctx.client is not None, timeout=30)

        # proxies: a password is refused before anything is written
        proxies_tab = window.settings_window.show_tab("proxies")
        proxies_tab.http.setFocus()
        qtbot.keyClicks(proxies_tab.http, "http://bob:hunter2@proxy.invalid:3128")
        assert proxies_tab.problems.isVisible()
        assert "does not store proxy passwords" in proxies_tab.problems.text()
        assert not proxies_tab.apply_button.isEnabled()
        assert not (own_engine_root / "proxies.json").exists()
        assert errors == []
    finally:
        run_async(qtbot, ctx.shutdown(), timeout=60)
    assert engine.status.state == EngineState.STOPPED
