"""The first-run wizard with Portside's Linux VM, end to end: a real VM boots under QEMU/TCG.

    keys/clicks ─► FirstRunWizard (over a MainWindow whose engine is a never-started NativeEngine)
      engine page: Down to "Portside's Linux VM", Enter ─► settings.json engine = "vm"
      resources page: arrow keys to 2 CPUs and 1024 MiB, Enter ─► <home>/vm/vm.json; the VM
        starts now (app.wizard.choice.make_engine: the VMEngine a user gets, in PORTSIDE_HOME)
      cli ─► start page (progress while the VM boots, then "running") ─► sign-in (Skip)
      ─► first container (the offline sample image, loaded into the VM's engine) ─► closed
    then, through the engine client (not the UI): /info says 2 CPUs and ~1 GiB, the container
    ran and printed its greeting; settings.json says vm and done; ctx.shutdown() powers the VM
    off and QEMU's pid is gone.

The engine folder is this module's own short ``/tmp/pwz-*`` (unix socket paths must stay short;
``vm_home`` is not shared). Each page is checked as it is shown: the focus is on the page or its
default button, Return's default button is Next (Finish on the last page); on a real display
(``QT_QPA_PLATFORM=xcb`` under xvfb-run) nothing may be clipped either. Screenshots go to
``$PORTSIDE_SCREENSHOTS/vm-wizard/`` when it is set (never committed).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.exceptions import TimeoutError as WaitTimeout

from app.settings import Settings
from engine.lifecycle.base import EngineState
from engine.lifecycle.procs import pid_alive
from engine.vm.image import VMImage
from tests.gui.conftest import OFFSCREEN_NOISE, qasync_loop, run_async, wait_for  # noqa: F401
from tests.gui.display.checks import a11y_problems, clipped_texts, undersized
from tests.gui.wizard_support import activate, closed, on_page, press, skip

pytestmark = [
    pytest.mark.vm,
    pytest.mark.gui,
    pytest.mark.timeout(600),
    pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE),
]

#: nothing listens there: the first container comes from the offline sample image
UNREACHABLE_IMAGE = "127.0.0.1:9/portside-test/hello:latest"
GREETING = "Hello from Portside!"
CPUS = 2
MEMORY_MIB = 1024


@pytest.fixture
def wizard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """This module's own engine folder, config folder and docker config folder."""
    home = Path(tempfile.mkdtemp(prefix="pwz-", dir="/tmp"))
    monkeypatch.setenv("PORTSIDE_HOME", str(home))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PORTSIDE_FIRST_IMAGE", UNREACHABLE_IMAGE)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    try:
        yield {"home": home, "config": tmp_path / "config"}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def vm_story(vm: Any) -> str:
    """What the VM's console and its ssh forward said (the home folder is gone after the test)."""
    forward = vm.forward
    ssh = forward.error_tail(20).replace(" / ", "\n") if forward else "(no ssh forward)"
    return f"engine log:\n{vm.log_tail(80)}\nssh forward's log:\n{ssh}"


class Pages:
    """Checks each wizard page as it is shown and keeps its screenshot."""

    def __init__(self, wizard: Any) -> None:
        self.wizard = wizard
        out = os.environ.get("PORTSIDE_SCREENSHOTS")
        self.shots = Path(out) / "vm-wizard" if out else None
        self.real_display = QGuiApplication.platformName() == "xcb"
        self.problems: dict[str, list[str]] = {}
        self.count = 0

    def look(self, state: str) -> None:
        QApplication.processEvents()
        wizard = self.wizard
        page = wizard.currentPage()
        focus = QApplication.focusWidget()
        last = wizard.nextId() == -1
        default = wizard.button(QWizard.WizardButton.FinishButton if last
                                else QWizard.WizardButton.NextButton)
        found = []
        if self.real_display:  # offscreen fonts and sizes prove nothing about clipping
            found += clipped_texts(wizard) + a11y_problems(wizard)
            small = undersized(wizard)
            if small:
                found.append(small)
        if focus is None or not (page.isAncestorOf(focus) or focus is default):
            found.append(f"the focus is on {focus!r}, not on the page or its default button")
        if not default.isDefault():
            found.append(f"Return's default button is not {default.text()!r}")
        if found:
            self.problems[state] = found
        self.count += 1
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            assert wizard.grab().save(str(self.shots / f"{self.count:02d}-{state}.png")), state


def test_wizard_sets_up_the_vm_and_runs_the_first_container_in_it(
    qasync_loop: Any,  # noqa: F811
    qtbot: Any,
    vm_image_x86: VMImage,
    wizard_home: dict[str, Path],
) -> None:
    from app.context import AppContext
    from app.main_window import MainWindow
    from app.runner import Runner
    from app.wizard import open_first_run
    from engine.lifecycle import EnginePaths, NativeEngine
    from engine.vm.engine import VMEngine

    home = wizard_home["home"]
    runner = Runner(show_dialogs=False)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    # a first launch on Linux: Portside's own engine, not started while the guide is open
    native = NativeEngine(EnginePaths.at(home), iptables=False, start_timeout=60)
    ctx = AppContext(native, attached=False, runner=runner)
    settings = Settings.load()
    assert not settings.path.exists()
    window = MainWindow(ctx, settings)
    qtbot.addWidget(window)
    window.show()
    vm: Any = None
    qemu_pid: int | None = None
    t0 = time.monotonic()
    try:
        wizard = open_first_run(window)
        activate(qtbot, wizard)
        pages = Pages(wizard)
        on_page(qtbot, wizard, "welcome")
        pages.look("welcome")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "checks")
        checks = wizard.pages["checks"]
        qtbot.waitUntil(lambda: len(checks.labels) > 0, timeout=10000)
        pages.look("checks")
        press(qtbot, wizard, Qt.Key.Key_Return)

        on_page(qtbot, wizard, "engine")
        engine_page = wizard.pages["engine"]
        qtbot.waitUntil(lambda: not ctx.runner.in_flight("wizard.existing"), timeout=10000)
        assert QApplication.focusWidget() is engine_page.native
        press(qtbot, wizard, Qt.Key.Key_Down)
        assert engine_page.vm.isChecked() and QApplication.focusWidget() is engine_page.vm
        pages.look("engine-vm")
        press(qtbot, wizard, Qt.Key.Key_Return)

        on_page(qtbot, wizard, "resources")
        res: Any = wizard.pages["resources"]
        assert QApplication.focusWidget() is res.cpus
        assert not (home / "vm" / "vm.json").exists()
        # the arrow keys, as a keyboard user sets them: CPUs down to 1 and back up to 2, then
        # Tab to the memory and down by 256 MiB steps to 1 GiB
        press(qtbot, wizard, Qt.Key.Key_Down)
        assert res.cpus.value() == 1
        press(qtbot, wizard, Qt.Key.Key_Up)
        assert res.cpus.value() == CPUS
        press(qtbot, wizard, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is res.memory
        for _ in range(16):
            if res.memory.value() <= MEMORY_MIB:
                break
            press(qtbot, wizard, Qt.Key.Key_Down)
        assert res.memory.value() == MEMORY_MIB
        assert res.note.text() == (f"Next saves them in {home / 'vm' / 'vm.json'} and starts "
                                   "the VM with them.")
        pages.look("resources")
        disk = res.disk.value()
        # Enter on a spin box presses the default button (Next): vm.json written, the VM started
        press(qtbot, wizard, Qt.Key.Key_Return)

        on_page(qtbot, wizard, "cli")
        vm_json = json.loads((home / "vm" / "vm.json").read_text())
        assert vm_json == {"cpus": CPUS, "memory_mib": MEMORY_MIB, "disk_gib": disk}
        start = wizard.pages["start"]
        assert start.starting, start.steps.toPlainText()  # Next on resources started it
        # the switch runs on the loop as the start's first step
        wait_for(qtbot, lambda: isinstance(ctx.engine, VMEngine), 10)
        vm = ctx.engine
        assert vm.paths.root == home / "vm"
        cli = wizard.pages["cli"]
        qtbot.waitUntil(lambda: getattr(cli.panel, "facts", None) is not None, timeout=30000)
        pages.look("cli")
        press(qtbot, wizard, Qt.Key.Key_Return)

        on_page(qtbot, wizard, "start")
        booting_seen = start.starting
        if booting_seen:  # the VM is still booting: the page shows it, with a busy bar
            assert start.bar.isVisible(), "no progress shown while the VM boots"
            assert "Starting Portside's Linux VM" in start.state.text()
            pages.look("start-booting")
        # TCG boots in ~6-10 s here; the engine's own start_timeout (120 s) is the real limit
        qtbot.waitUntil(lambda: start.ready() or not start.starting, timeout=180000)
        steps = start.steps.toPlainText()
        assert start.ready(), f"the VM did not start:\n{steps}\n{start.log.toPlainText()}"
        ready_s = time.monotonic() - t0
        assert "starting" in steps and "running" in steps and "connected" in steps, steps
        # each line a step of the start: the switch's "stopped" is none
        assert "stopped" not in steps, steps
        assert not start.bar.isVisible()
        assert "Portside's Linux VM is running" in start.state.text()
        pages.look("start-running")
        press(qtbot, wizard, Qt.Key.Key_Return)

        on_page(qtbot, wizard, "signin")
        assert wizard.pages["signin"].sign_in.isEnabled()  # the VM's engine checks logins
        pages.look("signin")
        skip(qtbot, wizard)

        on_page(qtbot, wizard, "first")
        assert QApplication.focusWidget() is wizard.button(QWizard.WizardButton.FinishButton)
        pages.look("first")
        press(qtbot, wizard, Qt.Key.Key_Return)
        first = wizard.pages["first"]
        try:
            qtbot.waitUntil(
                lambda: closed(wizard) or first.container_id != "" or not first.running,
                timeout=120000)
        except WaitTimeout:
            pytest.fail(f"no first container after 120 s:\n{first.steps.toPlainText()}\n"
                        f"{vm_story(vm)}")
        assert closed(wizard) or first.container_id, f"{first.steps.toPlainText()}\n{vm_story(vm)}"
        qtbot.waitUntil(lambda: closed(wizard), timeout=30000)
        assert first.image == "portside/hello:latest", first.steps.toPlainText()
        cid = first.container_id
        containers: Any = window.views["containers"]
        assert window.stack.currentWidget() is containers
        wait_for(qtbot, lambda: GREETING in containers.details.logs.toPlainText(), 30)
        assert not shiboken6.isValid(wizard) or not wizard.isVisible()

        # the engine itself, through the client: the VM with the chosen resources ran it
        assert ctx.engine is vm and vm.status.state is EngineState.RUNNING
        client = ctx.client
        assert client is not None

        async def facts() -> tuple[Any, Any, list[Any], str]:
            info = await client.info()
            await client.containers.wait(cid)
            details = await client.containers.inspect(cid)
            listed = await client.containers.list(
                all=True, filters={"label": ["io.portside.first-run"]})
            text = "".join([piece async for _kind, piece in client.containers.logs(cid)])
            return info, details, listed, text

        info, details, listed, logs = run_async(qtbot, facts(), timeout=60)
        assert info.ncpu == CPUS, info
        # the guest kernel keeps some of the 1 GiB for itself
        assert 0.75 * MEMORY_MIB < info.mem_total / 2**20 <= MEMORY_MIB, info.mem_total
        assert vm.resources is not None and (vm.resources.cpus, vm.resources.memory_mib) == (
            CPUS, MEMORY_MIB)
        assert [c.id for c in listed] == [cid]
        assert details.exit_code == 0 and details.labels.get("io.portside.first-run") == "1"
        assert GREETING in logs
        data = json.loads((wizard_home["config"] / "settings.json").read_text())
        assert data["engine"] == "vm" and data["first_run_done"] is True
        assert data["wizard_step"] == ""
        assert Settings.load().engine == "vm"
        assert not errors, f"the GUI reported errors: {errors!r}"
        assert not pages.problems, pages.problems
        print(f"\nwizard start → VM ready: {ready_s:.1f} s (booting shown: {booting_seen}); "
              f"total to first container: {time.monotonic() - t0:.1f} s")
    finally:
        if vm is not None:
            qemu_pid = vm.qemu_pid
        run_async(qtbot, ctx.shutdown(), timeout=90)
    assert vm is not None and vm.status.state is EngineState.STOPPED, vm
    assert qemu_pid is not None
    wait_for(qtbot, lambda: not pid_alive(qemu_pid), 30)
    assert not vm.paths.qemu_pidfile.exists() or not pid_alive(qemu_pid)


def test_a_vm_that_cannot_start_is_explained_on_the_start_page(
    qasync_loop: Any,  # noqa: F811
    qtbot: Any,
    vm_image_x86: VMImage,
    wizard_home: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No boot: an accelerator name QEMU does not have stops the VM before QEMU runs; the start
    page says so, with the reason, Retry as Return's button and Back/Skip named as ways out."""
    from app.context import AppContext
    from app.main_window import MainWindow
    from app.runner import Runner
    from app.wizard import open_first_run
    from engine.lifecycle import EnginePaths, NativeEngine

    monkeypatch.setenv("PORTSIDE_VM_ACCEL", "warp")
    home = wizard_home["home"]
    runner = Runner(show_dialogs=False)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    native = NativeEngine(EnginePaths.at(home), iptables=False, start_timeout=60)
    ctx = AppContext(native, attached=False, runner=runner)
    window = MainWindow(ctx, Settings.load())
    qtbot.addWidget(window)
    window.show()
    try:
        wizard = open_first_run(window)
        activate(qtbot, wizard)
        pages = Pages(wizard)
        on_page(qtbot, wizard, "welcome")
        skip(qtbot, wizard)
        on_page(qtbot, wizard, "checks")
        skip(qtbot, wizard)
        on_page(qtbot, wizard, "engine")
        qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.pages["engine"].native)
        press(qtbot, wizard, Qt.Key.Key_Down)
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "resources")
        press(qtbot, wizard, Qt.Key.Key_Return)  # the defaults; the VM's start begins
        on_page(qtbot, wizard, "cli")
        press(qtbot, wizard, Qt.Key.Key_Return)
        on_page(qtbot, wizard, "start")
        start = wizard.pages["start"]
        qtbot.waitUntil(lambda: not start.starting, timeout=30000)
        assert ctx.engine.status.state is EngineState.FAILED
        assert "Portside's Linux VM did not start" in start.state.text()
        assert "Retry" in start.state.text() and "Back" in start.state.text()
        assert wizard.button(QWizard.WizardButton.NextButton).text() == "&Retry"
        shown = start.steps.toPlainText() + start.log.toPlainText()
        assert "PORTSIDE_VM_ACCEL='warp' is not an accelerator" in shown, shown
        assert start.log.isVisible() and not start.bar.isVisible()
        pages.look("start-failed")
        assert ctx.engine.qemu_pid is None  # refused before QEMU ran
        skip(qtbot, wizard)
        on_page(qtbot, wizard, "signin")
        assert not errors, f"the GUI reported errors: {errors!r}"  # on the page, no dialog
        assert not pages.problems, pages.problems
    finally:
        run_async(qtbot, ctx.shutdown(), timeout=60)
