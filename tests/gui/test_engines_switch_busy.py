"""Switching engines while work runs on the old one asks first, driven by clicks and keys.

Real parts: the session's private engine (the app attaches to it at launch, "Attached at
launch"), a second engine entry added by URL — a unix socket path of its own (a symlink made by
the test) that leads to the same ``dockerd``, so the switch is a real one (new EntryEngine, new
client, views resync) without booting another daemon on a 2-core machine — the htpasswd
registry with an image of its own (a layer of random bytes), the login in the throw-away
keyring. A pull is kept in flight by pausing the registry process (SIGSTOP; SIGCONT lets it go
on) while the Pull dialog waits on it.

Every way the app switches is driven: the footer's menu, the tray's Engine submenu, the
Engines window's Use and the first-run guide's engine page; the answers are real key presses
(Escape, Enter) and clicks on the question's buttons.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QToolButton

from app.engines.busy import SwitchQuestion
from app.engines.install import install_tray
from app.engines.targets import EntryEngine
from app.main_window import MainWindow
from app.tray import Tray
from engine.errors import NotFound
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import main_window_shown, own_config_dirs
from tests.gui.registry_image import publish_remote_image
from tests.gui.test_engines_switch_leaks import counts, no_more_than

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.registry,
    pytest.mark.keyring,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]

HOME = "Attached at launch"
OTHER = "Second engine"


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_endpoint: str) -> Path:
    """Own config and docker folders, and the second engine's socket (a symlink)."""
    own_config_dirs(monkeypatch, tmp_path)
    alias = tmp_path / "second.sock"
    alias.symlink_to(engine_endpoint.removeprefix("unix://"))
    from engine.engines import add_engine

    add_engine(OTHER, f"unix://{alias}")
    return tmp_path


@pytest.fixture
def login(homes: Path, keyring_backend: Any, registry: Any) -> Iterator[None]:
    """The registry's login stored in the keyring, as a signed-in user has it."""
    from engine.credentials.store import CredentialStore

    store = CredentialStore()
    store.put(registry.host, registry.username, registry.password)
    try:
        yield
    finally:
        store.erase(registry.host)


@pytest.fixture
def window(app_ctx: Any, qtbot: Any, homes: Path) -> Iterator[MainWindow]:
    with main_window_shown(qtbot, app_ctx, homes, (1280, 800)) as win:
        wait_for(qtbot, lambda: win.engine_switcher.current_name() == HOME)
        yield win


@pytest.fixture
def remote(app_ctx: Any, qtbot: Any, test_image: str, registry: Any,
           tmp_path: Path) -> Iterator[str]:
    """An image in the registry but not in the engine (its own 4 MB layer)."""
    ref, _auth = publish_remote_image(
        qtbot, app_ctx.client, registry, test_image, tmp_path / "ctx", "switchbusy", 4_000_000
    )
    try:
        yield ref
    finally:
        from engine.client import EngineClient

        async def _rm() -> None:
            async with EngineClient(app_ctx.engine.endpoint) as client:
                with contextlib.suppress(NotFound):
                    await client.images.remove(ref)

        run_async(qtbot, _rm(), timeout=60)


@contextlib.contextmanager
def registry_paused(registry: Any) -> Iterator[Callable[[], None]]:
    """SIGSTOP the registry; the yielded ``resume`` (and the exit, always) sends SIGCONT."""
    os.kill(registry.pid, signal.SIGSTOP)
    try:
        yield lambda: os.kill(registry.pid, signal.SIGCONT)
    finally:
        os.kill(registry.pid, signal.SIGCONT)


class Asked(list[SwitchQuestion]):
    """The switch questions seen by :func:`on_question` (empty: none came)."""

    watching = True

    def stop(self) -> None:
        """Stop looking (a watcher left running would answer the next test's question)."""
        self.watching = False


def on_question(answer: Callable[[SwitchQuestion], None], timeout_ms: int = 15000) -> Asked:
    """Hand the switch question to ``answer`` once it is up (polled from a timer, which runs in
    the question's own event loop); stops after one question, ``timeout_ms`` or ``stop()``."""
    seen = Asked()
    left = [timeout_ms // 20]

    def poll() -> None:
        if not seen.watching:
            return
        box = QApplication.activeModalWidget()
        if isinstance(box, SwitchQuestion) and box.isVisible():
            seen.append(box)
            seen.stop()
            answer(box)
        elif left[0] > 0:
            left[0] -= 1
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)
    return seen


def menu_pick(qtbot: Any, qtlog: Any, button: QToolButton, text: str) -> None:
    """Open ``button``'s menu with a click and choose ``text`` with the keyboard (the offscreen
    platform warns that a popup cannot grab the keyboard: Qt's log is off while it is up)."""

    def choose() -> None:
        menu = button.menu()
        action = next(a for a in menu.actions() if a.text() == text)
        menu.setActiveAction(action)
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    with qtlog.disabled():
        QTimer.singleShot(150, choose)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def checked_in_menu(button: QToolButton) -> list[str]:
    return [a.text() for a in button.menu().actions() if a.isChecked()]


def in_use(manager: Any, switcher: Any) -> list[str]:
    """The Engines window's rows marked "(in use)"."""
    return [e.name for e in switcher.entries if (manager.model.get(e.id) or {}).get("current")]


def start_pull(qtbot: Any, window: MainWindow, reference: str) -> Any:
    """The Images view's Pull dialog for ``reference``, started with a click; in flight."""
    view: Any = window.views["images"]
    dialog = view.open_pull(reference)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: dialog.running)
    return dialog


def use_in_manager(qtbot: Any, qtlog: Any, window: MainWindow, name: str) -> Any:
    """Open the Engines window from the footer's menu and select ``name``'s row."""
    menu_pick(qtbot, qtlog, window.engine_button, "Manage engines…")  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: getattr(window, "engines_dialog", None) is not None)
    manager: Any = window.engines_dialog  # type: ignore[attr-defined]
    wait_for(qtbot, manager.isVisible)
    qtbot.waitExposed(manager)
    switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
    entry = next(e for e in switcher.entries if e.name == name)
    manager.select(entry.id)
    assert manager.selected() is not None and manager.selected().id == entry.id
    assert manager.buttons["use"].isEnabled()
    return manager


def on(ctx: Any, endpoint: str) -> bool:
    """The app is connected to the engine at ``endpoint`` (the launch engine, or the alias)."""
    return str(ctx.engine.endpoint) == endpoint and ctx.client is not None


def test_nothing_running_switches_without_a_question(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, engine_endpoint: str
) -> None:
    asked = on_question(lambda box: box.keep_button.click())
    menu_pick(qtbot, qtlog, window.engine_button, OTHER)  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: isinstance(app_ctx.engine, EntryEngine) and app_ctx.client is not None,
             timeout=30)
    assert app_ctx.engine.entry.name == OTHER
    assert asked == []
    assert checked_in_menu(window.engine_button) == [OTHER]  # type: ignore[attr-defined]
    # ...and back, again without a question
    menu_pick(qtbot, qtlog, window.engine_button, HOME)  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: on(app_ctx, engine_endpoint), timeout=30)
    assert checked_in_menu(window.engine_button) == [HOME]  # type: ignore[attr-defined]
    qtbot.wait(300)
    asked.stop()
    assert asked == []


def test_a_pull_in_flight_is_named_and_escape_or_enter_keeps_it_running(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, registry: Any, login: None,
    remote: str,
) -> None:
    home_engine, home_client = app_ctx.engine, app_ctx.client
    switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
    with registry_paused(registry) as resume:
        dialog = start_pull(qtbot, window, remote)
        assert app_ctx.runner.work_in_flight() == [f"Pull {remote}"]
        looked: dict[str, Any] = {}

        def escape(box: SwitchQuestion) -> None:
            looked.update(text=box.text(), default=box.defaultButton(),
                          focus=box.focusWidget(), keep=box.keep_button,
                          names=[b.accessibleName() for b in box.buttons()])
            qtbot.keyClick(box, Qt.Key.Key_Escape)

        asked = on_question(escape)
        menu_pick(qtbot, qtlog, window.engine_button, OTHER)  # type: ignore[attr-defined]
        assert len(asked) == 1, "no question came"
        assert f"1 operation is running on {HOME}" in looked["text"]
        assert f"Pull {remote}" in looked["text"]
        assert f"Switching to {OTHER} stops it." in looked["text"]
        assert looked["default"] is looked["keep"] and looked["focus"] is looked["keep"]
        assert looked["names"] and all(looked["names"])
        # kept: the same engine and client, the menu and the button show the old engine
        qtbot.wait(200)
        assert app_ctx.engine is home_engine and app_ctx.client is home_client
        assert switcher.current_name() == HOME and not switcher.busy
        assert checked_in_menu(window.engine_button) == [HOME]  # type: ignore[attr-defined]
        assert window.engine_button.text() == f"Engine: {HOME}"  # type: ignore[attr-defined]
        assert dialog.running

        # the tray's Engine submenu, chosen with the keyboard: the same question
        tray = Tray(app_ctx, window.show, lambda: None)
        submenu = install_tray(tray, window)
        asked = on_question(lambda box: qtbot.keyClick(box, Qt.Key.Key_Escape))
        with qtlog.disabled():
            submenu.popup(window.mapToGlobal(QPoint(200, 200)))
            qtbot.waitExposed(submenu)
            submenu.setActiveAction(next(a for a in submenu.actions() if a.text() == OTHER))
            qtbot.keyClick(submenu, Qt.Key.Key_Return)
        wait_for(qtbot, lambda: bool(asked))
        qtbot.wait(200)
        assert app_ctx.engine is home_engine and app_ctx.client is home_client
        assert submenu.title() == f"Engine: {HOME}"
        assert [a.text() for a in submenu.actions() if a.isChecked()] == [HOME]
        tray.hide()

        # the Engines window's Use, answered with Enter: the default keeps too
        manager = use_in_manager(qtbot, qtlog, window, OTHER)
        asked = on_question(lambda box: qtbot.keyClick(box, Qt.Key.Key_Return))
        qtbot.mouseClick(manager.buttons["use"], Qt.MouseButton.LeftButton)
        assert len(asked) == 1, (manager.status.text(), app_ctx.runner.work_in_flight())
        assert app_ctx.engine is home_engine and app_ctx.client is home_client
        assert manager.status.text() == f"Portside still uses {HOME}."
        assert in_use(manager, switcher) == [HOME]
        assert dialog.running
        resume()
        # the pull goes on to the end on the engine it started on
        # the outcome lands from the task's done callback, a loop turn after it ends
        wait_for(qtbot, lambda: dialog.result_value or dialog.error.text(), timeout=60)
    assert dialog.result_value == remote, (dialog.error.text(), dialog.status_label.text())
    assert run_async(qtbot, app_ctx.client.images.inspect(remote)).id
    assert app_ctx.engine is home_engine


def test_stop_and_switch_cancels_the_pull_and_leaks_nothing(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, registry: Any, login: None,
    remote: str, qasync_loop: Any, engine_endpoint: str,
) -> None:
    view: Any = window.views["containers"]

    def go_home() -> None:
        asked = on_question(lambda box: box.keep_button.click())
        menu_pick(qtbot, qtlog, window.engine_button, HOME)  # type: ignore[attr-defined]
        wait_for(qtbot, lambda: on(app_ctx, engine_endpoint) and view.store.synced_once,
                 timeout=30)
        asked.stop()
        assert asked == []  # nothing runs: no question

    # the baseline is taken after one round trip (the client the app launched with holds more
    # pooled connections than the switcher's, as in the leak test)
    menu_pick(qtbot, qtlog, window.engine_button, OTHER)  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: app_ctx.engine.endpoint != engine_endpoint and app_ctx.client,
             timeout=30)
    go_home()
    home_client = app_ctx.client
    qtbot.wait(1500)  # the list's own streams settle
    baseline = counts(qasync_loop)
    with registry_paused(registry):
        dialog = start_pull(qtbot, window, remote)
        task = dialog.task
        manager = use_in_manager(qtbot, qtlog, window, OTHER)
        asked = on_question(
            lambda box: qtbot.mouseClick(box.stop_button, Qt.MouseButton.LeftButton)
        )
        qtbot.mouseClick(manager.buttons["use"], Qt.MouseButton.LeftButton)
        assert len(asked) == 1
        assert asked[0].stop_button.text() == "Stop it and switch"
        wait_for(qtbot, lambda: app_ctx.engine.endpoint != engine_endpoint
                 and app_ctx.client is not None, timeout=30)
        assert isinstance(app_ctx.engine, EntryEngine) and app_ctx.engine.entry.name == OTHER
        assert task.cancelled()
        assert app_ctx.runner.work_in_flight() == []
        assert home_client._http.is_closed
        assert not (shiboken6.isValid(dialog) and dialog.isVisible())  # closed with the engine
        assert manager.status.text() == f"Portside now uses {OTHER}."
        assert in_use(manager, window.engine_switcher) == [OTHER]  # type: ignore[attr-defined]
        assert checked_in_menu(window.engine_button) == [OTHER]  # type: ignore[attr-defined]
    # the engine dropped the pull with its connection: the registry answers again, no image
    qtbot.wait(3000)
    with pytest.raises(NotFound):
        run_async(qtbot, app_ctx.client.images.inspect(remote))
    # back home (nothing runs: no question) and nothing of the cancelled pull is left behind
    go_home()
    qtbot.wait(1500)
    try:
        wait_for(qtbot, lambda: no_more_than(baseline, counts(qasync_loop)), timeout=15)
    finally:
        print("baseline", baseline, "after stop-and-switch and back", counts(qasync_loop))


def test_the_first_run_guide_asks_too_and_escape_keeps_the_pull(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, registry: Any, login: None,
    remote: str, homes: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Help ▸ First-run guide, an existing engine chosen (DOCKER_HOST: the second socket):
    Next on the engine page moves the app there (AppContext.use_engine) — after the same
    question; Escape keeps the old engine and its pull."""
    from app.wizard import open_first_run
    from tests.gui.wizard_support import activate, next_page, on_page, press

    alias = f"unix://{homes / 'second.sock'}"
    monkeypatch.setenv("DOCKER_HOST", alias)
    home_engine, home_client = app_ctx.engine, app_ctx.client
    with registry_paused(registry) as resume:
        dialog = start_pull(qtbot, window, remote)
        wizard = open_first_run(window)
        try:
            activate(qtbot, wizard)
            press(qtbot, wizard, Qt.Key.Key_Return)
            on_page(qtbot, wizard, "checks")
            next_page(qtbot, wizard)
            on_page(qtbot, wizard, "engine")
            page = wizard.pages["engine"]
            wait_for(qtbot, lambda: any(f.endpoint == alias for f in page.found))
            radio = next(r for r, c in page.options if c.kind == "existing" and c.host == alias)
            qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
            assert page.selected().host == alias
            looked: dict[str, str] = {}

            def escape(box: SwitchQuestion) -> None:
                looked["text"] = box.text()
                qtbot.keyClick(box, Qt.Key.Key_Escape)

            asked = on_question(escape)
            press(qtbot, wizard, Qt.Key.Key_Return)  # Next: the guide starts the engine early
            wait_for(qtbot, lambda: bool(asked))
            assert f"Pull {remote}" in looked["text"] and f"running on {HOME}" in looked["text"]
            qtbot.wait(300)
            assert app_ctx.engine is home_engine and app_ctx.client is home_client
            assert dialog.running
        finally:
            wizard.close()
        resume()
        # the outcome lands from the task's done callback, a loop turn after it ends
        wait_for(qtbot, lambda: dialog.result_value or dialog.error.text(), timeout=60)
    assert dialog.result_value == remote, (dialog.error.text(), dialog.status_label.text())
