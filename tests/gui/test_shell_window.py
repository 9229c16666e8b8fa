"""The main window, footer, tray and the engine lifecycle seen from the GUI (real engines)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.main_window import VIEWS, MainWindow
from app.settings import Settings
from app.tray import Tray
from engine.lifecycle.base import EngineState
from tests.gui.conftest import run_async, wait_for
from tests.gui.own_engine import own_engine_window
from tests.support.engine_fixtures import (
    TEST_IMAGE,
    build_image,
    busybox_context,
    dockerd_version,
)

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_window_lists_views_and_footer_shows_attached_engine(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    settings = Settings(path=tmp_path / "settings.json", last_view="images")
    window = MainWindow(app_ctx, settings)
    qtbot.addWidget(window)
    window.show()
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert titles[:1] == ["Containers"]
    # every view that exists is in the sidebar, in order
    assert titles == [t for k, t, *_ in VIEWS if k in window.views]
    assert window.stack.currentWidget() is window.views.get("images", window.views["containers"])
    running = f"Docker {dockerd_version()} (API "
    wait_for(qtbot, lambda: running in window.footer.state_label.text())
    text = window.footer.state_label.text()
    assert "Engine running" in text and "attached to unix://" in text
    assert not window.footer.stop_button.isVisible()  # an attached engine is not ours to stop

    # F5 -> one full resync of every view
    containers = window.show_view("containers")
    with qtbot.waitSignal(containers.store.synced, timeout=10000):
        app_ctx.resync()

    # closing without a tray quits (asks the app); settings are written atomically
    quit_seen: list[bool] = []
    window.quit_requested.connect(lambda: quit_seen.append(True))
    window.close()
    assert quit_seen == [True]
    saved = Settings.load(settings.path)
    assert saved.last_view == "containers" and saved.window_geometry


def test_close_to_tray_hides_and_tray_follows_engine_state(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    window = MainWindow(app_ctx, Settings(path=tmp_path / "s.json"))
    qtbot.addWidget(window)
    tray = Tray(app_ctx, window.show, lambda: None)
    window.tray_available = lambda: True
    window.show()
    window.close()
    assert not window.isVisible()
    assert not app_ctx.window_visible()
    assert tray.notifications[-1][0] == "Portside is still running"
    assert "running" in tray.toolTip()
    assert tray.start_action.isEnabled() is False
    assert not tray.stop_action.isVisible()  # attached: no stop

    # a long operation that finishes while hidden notifies through the tray
    async def _op() -> int:
        return 1

    task = app_ctx.runner.run(_op, title="Pull busybox", notify_when_hidden=True)
    wait_for(qtbot, task.done)
    wait_for(qtbot, lambda: tray.notifications[-1] == ("Pull busybox", "Finished."))


def test_settings_keep_unknown_keys_and_refuse_secrets(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"future_key": [1, 2], "close_to_tray": false}')
    s = Settings.load(path)
    assert s.close_to_tray is False and s.extra == {"future_key": [1, 2]}
    s.last_view = "volumes"
    s.save()
    assert (tmp_path / "settings.json.bak").read_text().startswith('{"future_key"')
    again = Settings.load(path)
    assert again.extra == {"future_key": [1, 2]} and again.last_view == "volumes"
    s.extra["registry_password"] = "x"
    with pytest.raises(ValueError, match="no secrets"):
        s.save()
    path.write_text("{not json")
    assert Settings.load(path).close_to_tray is True
    assert (tmp_path / "settings.json.corrupt").exists()


def _question_box() -> QMessageBox | None:
    boxes = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]
    return boxes[0] if boxes else None


def test_engine_stopping_mid_session_shows_state_and_recovers(
    qasync_loop: Any, qtbot: Any, own_engine_root: Path, tmp_path: Path
) -> None:
    engine, ctx, window, errors = own_engine_window(qtbot, own_engine_root, tmp_path / "s.json")
    view = window.views["containers"]
    assert view.stack.currentIndex() == 0  # state page before anything runs
    try:
        ctx.start()
        wait_for(qtbot, lambda: ctx.client is not None, timeout=60)
        wait_for(qtbot, lambda: view.store.synced_once)
        assert view.stack.currentIndex() == 1
        assert "Portside's own engine" in window.footer.state_label.text()
        run_async(qtbot, build_image(engine.endpoint, busybox_context(), TEST_IMAGE), 120)

        async def _create() -> str:
            return str(
                await ctx.client.containers.create(
                    {"Image": TEST_IMAGE, "Cmd": ["sleep", "300"]}, name="survivor"
                )
            )

        cid = run_async(qtbot, _create())
        wait_for(qtbot, lambda: cid in view.model)

        # the engine stops mid-session: every view shows the state page, footer says stopped
        ctx.stop_engine()
        wait_for(qtbot, lambda: engine.status.state == EngineState.STOPPED, timeout=60)
        # client_changed(None) may come a loop turn after the client is dropped (the events
        # stream closes the client first): wait for what the views and footer show.
        wait_for(
            qtbot,
            lambda: ctx.client is None
            and view.stack.currentIndex() == 0
            and "Engine stopped" in window.footer.state_label.text(),
        )
        assert view.stack.currentIndex() == 0
        assert view.state_page.headline.text() == "The engine is stopped"
        assert view.state_page.start_button.isVisible()
        assert "Engine stopped" in window.footer.state_label.text()
        for other in window.views.values():
            stack = getattr(other, "stack", None)
            if stack is not None:
                assert (
                    stack.currentIndex() == 0
                    or stack.currentWidget().objectName() == "engineStatePage"
                ), type(other).__name__

        # ...and recovers on restart, from the state page's own button
        view.state_page.start_button.click()
        wait_for(qtbot, lambda: ctx.client is not None, timeout=60)
        wait_for(qtbot, lambda: view.stack.currentIndex() == 1)
        wait_for(qtbot, lambda: cid in view.model and view.model.get(cid)["name"] == "survivor")

        # quitting with a container running on our own engine asks first
        run_async(qtbot, ctx.client.containers.start(cid))
        for choice, expected in (("Cancel", False), ("Stop engine and quit", True)):
            asked = asyncio.ensure_future(window.confirm_quit())
            wait_for(qtbot, lambda: _question_box() is not None)
            box = _question_box()
            assert "1 container is running" in box.text()
            button = next(b for b in box.buttons() if b.text().replace("&", "") == choice)
            button.click()
            wait_for(qtbot, asked.done)
            assert asked.result() is expected
        assert errors == []
    finally:
        run_async(qtbot, ctx.shutdown(), timeout=60)
    assert engine.status.state == EngineState.STOPPED


def test_theme_choice_is_saved_and_applied_and_the_window_fits_1280x720(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    from app import theme

    path = tmp_path / "settings.json"
    window = MainWindow(app_ctx, Settings(path=path))
    qtbot.addWidget(window)
    window.show()
    # a first start opens whole at the smallest size every layout is checked at
    assert (window.width(), window.height()) == theme.Sizes.MIN_WINDOW
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, hint
    assert window.theme_button.text() == "Appearance: system"
    qapp = QApplication.instance()
    try:
        # the menu's actions, as a click on them triggers them
        window.theme_button.menu().actions()[2].trigger()  # Dark
        assert theme.current().name == "dark" and window.settings.theme == "dark"
        assert qapp.palette().color(qapp.palette().ColorRole.Window).lightness() < 60
        assert "QListWidget#sidebar" in qapp.styleSheet()
        assert window.theme_actions["dark"].isChecked()
        window.close()
        assert Settings.load(path).theme == "dark"
        again = MainWindow(app_ctx, Settings.load(path))
        qtbot.addWidget(again)
        assert again.theme_actions["dark"].isChecked()
        assert again.theme_button.text() == "Appearance: dark"
    finally:
        theme.reset(qapp)
    path.write_text('{"theme": "purple"}')
    assert Settings.load(path).theme == "system"  # unknown values mean "follow the system"


def test_sidebar_switches_on_selection_alone(app_ctx: Any, qtbot: Any, tmp_path: Path) -> None:
    window = MainWindow(app_ctx, Settings(path=tmp_path / "s.json"))
    qtbot.addWidget(window)
    window.show()
    # what an assistive tool's "select" does: the selection moves, the current row does not
    window.sidebar.item(3).setSelected(True)
    assert window.stack.currentWidget() is window.views["networks"]
    assert window.sidebar.currentRow() == 3
    # a real click too
    from PySide6.QtCore import Qt

    rect = window.sidebar.visualItemRect(window.sidebar.item(1))
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.stack.currentWidget() is window.views["images"]
