"""Every Settings tab on a real X display, light and dark: nothing cut off, every control named,
the window not smaller than its size hint, the focus on a control of the shown tab, and Return's
default button the one that makes sense there (Close; Apply on Resources).

The window runs on a context with a NativeEngine that is not started (so the Engine and Proxies
tabs are the editable ones a user of Portside's own engine sees) and is shown at its own size.
Each tab is also looked at in its state with the longest texts: Engine after a refused apply
(dockerd's error and the log), Proxies with a refused password, General with start at login
on (the path of its entry) and after a failed save;
the Accounts count must fit the moment it changes, before any layout pass.
Screenshots go to ``$PORTSIDE_SCREENSHOTS/settings/`` when set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QPushButton

from app.context import AppContext
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from app.widgets.view_header import ViewHeader
from engine.lifecycle import EnginePaths, NativeEngine
from engine.lifecycle.daemon_config import ApplyResult
from tests.gui.display.checks import clipped_texts
from tests.gui.display.looks import (
    Looks,
    _mode,  # noqa: F401 - the mode fixture
)

pytestmark = [pytest.mark.gui]

TABS = ("general", "resources", "engine", "proxies", "accounts", "cli")

REFUSED_TAIL = (
    'time="2026-11-29T22:40:01Z" level=info msg="Starting up"\n'
    "unable to configure the Docker daemon with file /tmp/pst-x/daemon.json: the following "
    "directives don't match any configuration option: no-such-key\n"
)


def test_every_settings_tab_fits_and_has_the_focus_and_default_it_should(
    qasync_loop: Any, qtbot: Any, own_engine_root: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    # deep enough that "Starts from <its autostart entry>" is wider than the window
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg" / ("a-long-folder-name-" * 5)))
    monkeypatch.setenv("PORTSIDE_HOME", str(own_engine_root))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    looks = Looks("settings", mode)
    engine = NativeEngine(EnginePaths.at(own_engine_root), iptables=False)
    ctx = AppContext(engine, attached=False, runner=Runner(show_dialogs=False))
    window = MainWindow(ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settings_window: Any = window.open_settings()
    qtbot.waitExposed(settings_window)
    qtbot.waitUntil(settings_window.isActiveWindow, timeout=5000)
    # opened: the focus is on the tab bar (arrows switch tabs), Return closes
    assert QApplication.focusWidget() is settings_window.tabs.tabBar()

    def look(state: str, tab: str) -> None:
        looks.check(state, settings_window, sized=True)

    for tab in TABS:
        page = settings_window.show_tab(tab)
        if tab == "accounts":
            # loaded = its count is shown. Not "refresh not in flight": the task is done() a loop
            # turn before its on_done sets the texts, so the look could run while "0 logins"
            # arrived, and measure it in the empty label's 6 px
            qtbot.waitUntil(lambda p=page: bool(p.view.header.count.text()), timeout=20000)
        if tab == "cli":
            qtbot.waitUntil(lambda p=page: p.panel.facts is not None, timeout=30000)
        focus = QApplication.focusWidget()
        assert focus is not None and page.isAncestorOf(focus), (tab, focus)
        expected = page.apply_button if tab == "resources" else settings_window.close_button
        assert settings_window.default_button() is expected, tab
        buttons = settings_window.findChildren(QPushButton)
        defaults = [b.text() for b in buttons if b.isDefault()]
        assert defaults == [expected.text()], (tab, defaults)
        look(tab, tab)
        if tab == "accounts":
            assert_count_has_room_at_once(settings_window, page.view.header)

    # the longest texts each tab can show
    general = settings_window.show_tab("general")
    general.login_box.setChecked(True)  # writes $XDG_CONFIG_HOME/autostart (under tmp_path)
    assert general.login_where.text().startswith("Starts from /")
    width = settings_window.width()
    look("general-login", "general")
    assert settings_window.width() == width, "a long path widened the window: wrap it"
    engine_tab = settings_window.show_tab("engine")
    engine_tab._applied(ApplyResult(
        ok=False, rolled_back=True, running=True,
        error="unable to configure the Docker daemon with file /tmp/pst-x/daemon.json: the "
        "following directives don't match any configuration option: no-such-key",
        log_tail=REFUSED_TAIL,
    ))
    assert engine_tab.engine_log.isVisible()
    look("engine-refused", "engine")
    proxies_tab = settings_window.show_tab("proxies")
    proxies_tab.http.setText("http://bob:hunter2@proxy.example.com:3128")
    assert proxies_tab.problems.isVisible()
    look("proxies-password", "proxies")
    settings_window.show_tab("general")
    general._fail(f"Could not save {tmp_path / 'settings.json'}: check that the folder is "
                  "writable.")
    look("general-error", "general")
    looks.assert_fine()


def assert_count_has_room_at_once(window: Any, header: ViewHeader) -> None:
    """Each count the Accounts view can show fits the moment it is set, before any event runs.

    A count that grows ("0 logins" -> "12 logins") used to wait for a LayoutRequest: measured
    (or painted) before that, it was cut to the old text's width.
    """
    shown = header.count.text()
    for count in ("12 logins", "1 login", "1024 logins"):
        header.set_count(count)
        cut = [p for p in clipped_texts(window) if p.startswith("viewCount")]
        assert not cut, cut
    header.set_count(shown)
