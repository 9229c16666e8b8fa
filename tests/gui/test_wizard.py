"""The first-run wizard driven with real key presses (Enter, Tab, arrows, Alt+S, Escape).

Paths: Portside's own engine (a real private ``NativeEngine`` in this test's own folder, then the
offline sample image run and its logs in the window); an existing engine (the session engine,
found through ``DOCKER_HOST`` and a docker context by the real ``existing_engines``); skipping
everything; and closing half-way, then resuming where it was left.

The first-container page is told the registry image is ``127.0.0.1:9/…`` (nothing listens there),
so the sample image path runs whether or not this machine has internet.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QRadioButton

from app.settings import Settings
from tests.gui.conftest import run_async
from tests.gui.wizard_support import activate, closed, next_page, on_page, press, skip

UNREACHABLE_IMAGE = "127.0.0.1:9/portside-test/hello:latest"


@pytest.fixture
def first_launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh config folder, a docker config folder, and a short engine home of our own."""
    home = Path(tempfile.mkdtemp(prefix="pstw-", dir="/tmp"))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PORTSIDE_HOME", str(home))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PORTSIDE_FIRST_IMAGE", UNREACHABLE_IMAGE)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    try:
        yield {"home": home, "config": tmp_path / "config", "docker": tmp_path / "docker"}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def native_engine(home: Path) -> Any:
    from engine.lifecycle import EnginePaths, NativeEngine

    # no iptables rules: other engines on this machine share the chains
    return NativeEngine(EnginePaths.at(home), iptables=False, start_timeout=60)


def factory_for(home: Path) -> Any:
    from app.wizard.choice import make_engine

    def make(choice: Any) -> tuple[Any, bool]:
        if choice.kind == "native":
            return native_engine(home), False
        return make_engine(choice)

    return make


@pytest.fixture
def app_window(qasync_loop: Any, qtbot: Any, first_launch: dict[str, Any]) -> Iterator[Any]:
    """The main window as a first launch builds it: settings not on disk, engine not started."""
    from app.context import AppContext
    from app.main_window import MainWindow
    from app.runner import Runner

    runner = Runner(show_dialogs=False)
    ctx = AppContext(native_engine(first_launch["home"]), attached=False, runner=runner)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    settings = Settings.load()
    assert not settings.path.exists() and not settings.first_run_done
    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    try:
        yield window
    finally:
        wizard = getattr(window, "first_run_wizard", None)
        if wizard is not None and shiboken6.isValid(wizard):
            wizard.close()  # it deletes itself
        client = ctx.client
        if client is not None:
            async def _rm() -> None:
                for c in await client.containers.list(
                        all=True, filters={"label": ["io.portside.first-run"]}):
                    await client.containers.remove(c.id, force=True)

            with contextlib.suppress(Exception):
                run_async(qtbot, _rm(), timeout=30)
        run_async(qtbot, ctx.shutdown(), timeout=60)
    assert not errors, f"the GUI reported errors: {errors!r}"


def open_wizard(qtbot: Any, window: Any, **kwargs: Any) -> Any:
    from app.wizard import open_first_run

    wizard = open_first_run(window, **kwargs)
    activate(qtbot, wizard)
    return wizard


def saved(first_launch: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((first_launch["config"] / "settings.json").read_text())
    return data


def test_native_engine_to_first_container_logs(
    qtbot: Any, app_window: Any, first_launch: dict[str, Any]
) -> None:
    from engine.lifecycle import EngineState

    ctx = app_window.ctx
    wizard = open_wizard(qtbot, app_window, engine_factory=factory_for(first_launch["home"]))
    on_page(qtbot, wizard, "welcome")
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "checks")
    checks = wizard.pages["checks"]
    qtbot.waitUntil(lambda: len(checks.labels) > 0, timeout=10000)
    ids = {c.id for c in checks.checks}
    assert {"os", "dockerd", "disk"} <= ids
    assert len(checks.labels) >= len(checks.checks) and "check" in checks.summary.text().lower()
    assert all(("Passed" in lb.text()) or ("Failed" in lb.text()) or lb.text().startswith("Fix:")
               for lb in checks.labels)
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "engine")
    engine_page = wizard.pages["engine"]
    assert engine_page.native.isChecked() and QApplication.focusWidget() is engine_page.native
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "cli")  # the VM's resources page is not on this path
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "start")
    start = wizard.pages["start"]
    # Next on the engine page started it: the page shows the start under way (or done)
    assert start.starting or start.ready()
    qtbot.waitUntil(start.ready, timeout=90000)
    assert wizard.button(wizard.WizardButton.NextButton).text() == "&Next"
    steps = start.steps.toPlainText()
    assert "starting" in steps and "running" in steps and "connected" in steps, steps
    assert ctx.engine.status.state == EngineState.RUNNING and not ctx.attached
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "signin")
    skip(qtbot, wizard)
    on_page(qtbot, wizard, "first")
    assert QApplication.focusWidget() is wizard.button(wizard.WizardButton.FinishButton)
    press(qtbot, wizard, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: closed(wizard), timeout=60000)
    first = wizard.pages["first"]
    assert first.image == "portside/hello:latest", first.steps.toPlainText()
    containers = app_window.views["containers"]
    assert app_window.stack.currentWidget() is containers
    logs = containers.details.logs
    qtbot.waitUntil(lambda: "Hello from Portside!" in logs.toPlainText(), timeout=20000)
    assert containers.details.container_id == first.container_id
    data = saved(first_launch)
    assert data["first_run_done"] is True and data["wizard_step"] == ""
    assert data["engine"] == "native" and not data.get("engine_host")


def test_existing_engine_through_docker_host_and_context(
    qtbot: Any, app_window: Any, first_launch: dict[str, Any], engine_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.docker_contexts import write_context
    from engine.lifecycle import EngineState

    monkeypatch.setenv("DOCKER_HOST", engine_endpoint)
    write_context("session", engine_endpoint, "the test session's engine",
                  first_launch["docker"])
    ctx = app_window.ctx
    own = ctx.engine
    wizard = open_wizard(qtbot, app_window, engine_factory=factory_for(first_launch["home"]))
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "checks")
    next_page(qtbot, wizard)  # Alt+N
    on_page(qtbot, wizard, "engine")
    page = wizard.pages["engine"]
    qtbot.waitUntil(lambda: len(page.found) >= 2, timeout=10000)
    sources = {(f.source, f.endpoint) for f in page.found}
    assert ("DOCKER_HOST", engine_endpoint) in sources
    assert any(f.name == "session" and f.endpoint == engine_endpoint for f in page.found)
    # arrow keys move through the radio buttons, as for a keyboard user
    for _ in range(6):
        choice = page.selected()
        if choice is not None and choice.kind == "existing":
            break
        press(qtbot, wizard, Qt.Key.Key_Down)
    focused = QApplication.focusWidget()
    assert isinstance(focused, QRadioButton) and focused.isChecked()
    assert page.selected().host == engine_endpoint
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "cli")
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "start")  # Next on the engine page already switched and attached
    qtbot.waitUntil(wizard.pages["start"].ready, timeout=30000)
    assert ctx.attached and ctx.engine is not own and ctx.engine.endpoint == engine_endpoint
    assert own.status.state == EngineState.STOPPED  # Portside's own engine never started
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "signin")
    skip(qtbot, wizard)
    on_page(qtbot, wizard, "first")
    skip(qtbot, wizard)  # Alt+S on the last page finishes without a container
    qtbot.waitUntil(lambda: closed(wizard), timeout=5000)
    data = saved(first_launch)
    assert data["first_run_done"] is True and data["engine_host"] == engine_endpoint
    # the next launch attaches to it again, as `portside --host` would
    from app.gui import choose_engine
    from app.wizard.choice import attach_host

    monkeypatch.delenv("DOCKER_HOST")
    settings = Settings.load()
    engine, attached = choose_engine(attach_host(None, settings), settings.engine)
    assert attached and engine.endpoint == engine_endpoint


def test_skip_everything(qtbot: Any, app_window: Any, first_launch: dict[str, Any]) -> None:
    from engine.lifecycle import EngineState

    ctx = app_window.ctx
    wizard = open_wizard(qtbot, app_window)
    seen = []
    for _ in range(12):
        if closed(wizard):
            break
        seen.append(wizard.page_key())
        skip(qtbot, wizard)
    assert closed(wizard), seen
    assert seen == ["welcome", "checks", "engine", "cli", "start", "signin", "first"]
    data = saved(first_launch)
    assert data["first_run_done"] is True and data["wizard_step"] == ""
    assert data["engine"] == "auto" and not data.get("engine_host")  # nothing chosen
    assert ctx.engine.status.state == EngineState.STOPPED  # nothing started
    assert not (first_launch["home"] / "vm" / "vm.json").exists()
    # Help ▸ First-run guide… opens it again, from the start
    action = app_window.first_run_action
    assert action in app_window.help_menu.actions() and action.text() == "First-run guide…"
    action.trigger()
    again = app_window.first_run_wizard
    assert again is not wizard and again.isVisible() and again.page_key() == "welcome"
    again.close()


def test_close_half_way_then_resume(
    qtbot: Any, app_window: Any, first_launch: dict[str, Any]
) -> None:
    from app.wizard import wanted

    wizard = open_wizard(qtbot, app_window)
    press(qtbot, wizard, Qt.Key.Key_Return)
    on_page(qtbot, wizard, "checks")
    press(qtbot, wizard, Qt.Key.Key_Tab)  # from the table to the next control: still on checks
    skip(qtbot, wizard)
    on_page(qtbot, wizard, "engine")
    # choose the VM (Down from Portside's own engine), then close with Escape before Next
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.pages["engine"].native)
    press(qtbot, wizard, Qt.Key.Key_Down)
    assert wizard.pages["engine"].vm.isChecked()
    press(qtbot, wizard, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: closed(wizard), timeout=5000)
    data = saved(first_launch)
    assert data["first_run_done"] is False and data["wizard_step"] == "engine"
    assert data["engine"] == "auto"  # the VM was not chosen: Next was never pressed
    settings = Settings.load()
    assert wanted(settings, {}) and not wanted(settings, {"PORTSIDE_FIRST_RUN": "0"})

    # the next launch opens it on the same page; choosing the VM now adds its resources page
    app_window.settings = settings
    again = open_wizard(qtbot, app_window)
    assert again is not wizard
    on_page(qtbot, again, "engine")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is again.pages["engine"].native)
    press(qtbot, again, Qt.Key.Key_Down)
    press(qtbot, again, Qt.Key.Key_Return)
    on_page(qtbot, again, "resources")
    res = again.pages["resources"]
    assert QApplication.focusWidget() is res.cpus
    assert 1 <= res.cpus.value() <= res.cpus.maximum()
    assert res.memory.maximum() < res.host_mib  # bounded by the host
    press(qtbot, again, Qt.Key.Key_Return)
    on_page(qtbot, again, "cli")
    vm_json = json.loads((first_launch["home"] / "vm" / "vm.json").read_text())
    assert vm_json == {"cpus": res.cpus.value(), "memory_mib": res.memory.value(),
                       "disk_gib": res.disk.value()}
    assert saved(first_launch)["engine"] == "vm"
    assert saved(first_launch)["wizard_step"] == "cli"
