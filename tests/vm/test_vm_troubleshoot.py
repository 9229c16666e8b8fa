"""Help ▸ Troubleshoot against a real VM engine (QEMU/TCG): Restart engine and Purge data.

Each test boots its own :class:`VMEngine` in a fresh engine folder of its own (never the
session's ``vm_home``: a purge deletes the VM's disks) under a real :class:`AppContext` and
the real main window, opens the Troubleshoot window from the Help menu with mouse clicks and
clicks its buttons, as ``tests/gui/test_troubleshoot.py`` does against a native engine:

* Restart (ssh API mode, the default on Linux): the old QEMU is gone, a new one runs, and the
  image, volume (with a file) and container made before are still there: the data disk is kept.
  Two boots.
* Purge (tls API mode, what Windows runs: the VM folder then also holds ``tls/`` and
  ``api-port``): refused by the engine layer while the VM runs; from the window the VM is
  powered off, its disks are deleted, ``vm.json`` (with a key of the user's), the ssh keys, the
  certificates and the port are kept byte for byte, and the VM boots again with a freshly
  formatted data disk, empty. A connection held across the power-off leaves the API port in
  TIME_WAIT, and the port must still be kept (the docker CLI here uses it, as a context would).
  Two boots.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.context import AppContext
from app.runner import Runner
from app.troubleshoot.files import engine_files
from engine.diagnostics.purge import plan_purge, purge
from engine.errors import LifecycleError
from engine.lifecycle import logfile, procs
from engine.lifecycle.base import EngineState, EngineStatus
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths
from tests.gui.conftest import OFFSCREEN_NOISE, qasync_loop, run_async, wait_for  # noqa: F401
from tests.gui.modals import open_from_help_menu
from tests.gui.pages import main_window_shown, open_purge, own_config_dirs
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.vm.conftest import VMDocker

pytestmark = [
    pytest.mark.vm,
    pytest.mark.timeout(600),
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(
        *OFFSCREEN_NOISE,
        # what the offscreen platform says about popup menus (the Help menu is one)
        "does not support raise", "does not support grabbing",
        # qasync, when the engine's sockets close under it during a restart or purge
        "QSocketNotifier: Invalid socket",
    ),
]

#: seconds a TCG boot may take on this shared 2-core machine (6-10 s when it is quiet)
BOOT = 240
VOLUME = "pst-vm-troubleshoot"
BOX = "pst-vm-box"


@pytest.fixture
def own_home() -> Iterator[Path]:
    """A short, fresh engine folder of this test's own (the VM lives in <it>/vm)."""
    home = Path(tempfile.mkdtemp(prefix="pvts-", dir="/tmp"))
    yield home
    subprocess.run(["rm", "-rf", str(home)], check=False)


@contextlib.contextmanager
def vm_app(
    qtbot: Any, engine: VMEngine, root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[AppContext, Any]]:
    """The app on ``engine`` (started, connected) with its main window on screen and its config
    in ``root``; at the end the app shuts down, which powers the VM off, and no error may have
    reached the user."""
    (own_config_dirs(monkeypatch, root) / "docker").mkdir()
    runner = Runner(show_dialogs=False)
    ctx = AppContext(engine, attached=False, runner=runner)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    try:
        with main_window_shown(qtbot, ctx, root, (1100, 700)) as window:
            ctx.start()
            wait_for(qtbot, lambda: ctx.client is not None, BOOT)
            yield ctx, window
    finally:
        run_async(qtbot, ctx.shutdown(), timeout=120)
    assert engine.status.state is EngineState.STOPPED
    assert procs.processes_naming([engine.paths.root, engine.paths.run]) == []  # no QEMU, no ssh
    # the views' lists fail while a restart or purge has the engine down; they re-list when it
    # is back (client_changed), so those are not errors of the feature under test
    shown = [e for e in errors if "Cannot reach the Docker engine" not in e[1]]
    assert not shown, f"the GUI reported errors: {shown!r}"


def cli(qtbot: Any, docker: VMDocker, *args: str) -> str:
    """``docker <args>``'s output (the CLI runs on a thread; the VM's forwards on this loop)."""
    done = run_async(qtbot, docker.run(*args, check=False), 180)
    assert done.returncode == 0, f"docker {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def fill(qtbot: Any, engine: VMEngine, docker: VMDocker) -> None:
    """An image, a volume holding a file, and a stopped container using both."""
    run_async(qtbot, import_image(engine.client_endpoint(), TEST_IMAGE), 180)
    cli(qtbot, docker, "volume", "create", VOLUME)
    cli(qtbot, docker, "run", "--name", BOX, "-v", f"{VOLUME}:/data", TEST_IMAGE, "sh", "-c",
        "echo kept > /data/f")


def contents(qtbot: Any, docker: VMDocker) -> dict[str, list[str]]:
    """The engine's images, volumes and containers, by name."""
    return {
        "images": cli(qtbot, docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
        .split(),
        "volumes": cli(qtbot, docker, "volume", "ls", "--format", "{{.Name}}").split(),
        "containers": cli(qtbot, docker, "ps", "-a", "--format", "{{.Names}}").split(),
    }


def files_in(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` -> the sha256 of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_restart_from_the_window_reboots_the_vm_and_keeps_its_data(
    qasync_loop: Any,  # noqa: F811 - the fixture imported above
    qtbot: Any,
    vm_image_x86: VMImage,
    own_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = VMEngine(VMPaths.default(own_home), start_timeout=BOOT)
    docker = VMDocker(engine.endpoint, tmp_path / "docker")
    log_file = engine.paths.engine.log_file
    with vm_app(qtbot, engine, tmp_path, monkeypatch) as (ctx, window):
        assert engine.api == "ssh"
        fill(qtbot, engine, docker)
        old_pid = engine.qemu_pid
        assert old_pid is not None and procs.pid_alive(old_pid)

        dialog = open_from_help_menu(qtbot, window, "troubleshoot")
        page = dialog.engine_page
        assert dialog.tabs.currentWidget() is page
        assert page.path_label.text() == str(log_file)  # the VM's console log
        steps: list[str] = []
        ctx.engine_status_changed.connect(lambda _s: steps.append(page.result_label.text()))
        qtbot.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
        assert not page.restart_button.isEnabled() and page.progress.isVisible()
        wait_for(qtbot, lambda: "runs again" in page.result_label.text(), 2 * BOOT)
        assert "Stopping the engine…" in steps and "Starting the engine…" in steps
        assert page.restart_button.isEnabled() and not page.progress.isVisible()

        # the old QEMU powered off (the guest's own shutdown, not a kill) and a new one runs
        assert not procs.pid_alive(old_pid)
        new_pid = engine.qemu_pid
        assert new_pid is not None and new_pid != old_pid and procs.pid_alive(new_pid)
        assert engine.status.state is EngineState.RUNNING and engine.status.pid == new_pid
        whole_log = log_file.read_text(errors="replace")
        assert "portside: power off" in whole_log
        assert "did not power off" not in whole_log
        assert whole_log.count("formatting the data disk") == 1  # the first boot only
        # the new boot's console reached the page's live log view
        wait_for(qtbot, lambda: "VM ready" in page.log.toPlainText().rsplit("--- portside", 1)[-1])

        # the data disk was kept: image, volume with its file, container
        wait_for(qtbot, lambda: ctx.client is not None, 60)
        assert contents(qtbot, docker) == {
            "images": [TEST_IMAGE], "volumes": [VOLUME], "containers": [BOX]
        }
        out = cli(qtbot, docker, "run", "--rm", "-v", f"{VOLUME}:/data", TEST_IMAGE, "cat",
                  "/data/f")  # fmt: skip
        assert out == "kept\n"
    assert not procs.pid_alive(new_pid)


def test_purge_from_the_window_empties_the_vm_and_keeps_its_settings(
    qasync_loop: Any,  # noqa: F811 - the fixture imported above
    qtbot: Any,
    vm_image_x86: VMImage,
    own_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = VMPaths.default(own_home)
    paths.root.mkdir(parents=True)
    settings = {"api": "tls", "swap_mib": 64, "x-mine": "a key of the user's own"}
    paths.settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    settings_bytes = paths.settings_file.read_bytes()
    engine = VMEngine(paths, start_timeout=BOOT)
    log_file = paths.engine.log_file
    with vm_app(qtbot, engine, tmp_path, monkeypatch) as (ctx, window):
        assert engine.api == "tls"
        docker = VMDocker(engine.endpoint, tmp_path / "docker",
                          {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(paths.tls_dir)})
        fill(qtbot, engine, docker)
        assert contents(qtbot, docker) == {
            "images": [TEST_IMAGE], "volumes": [VOLUME], "containers": [BOX]
        }
        kept = {name: files_in(paths.root / name) for name in ("ssh", "tls")}
        assert kept["ssh"] and {"ca.pem", "cert.pem", "key.pem"} <= set(kept["tls"])
        port_text = paths.api_port_file.read_text()
        old_pid = engine.qemu_pid
        assert old_pid is not None

        # the engine layer refuses while the VM runs, and deletes nothing
        files = engine_files(engine)
        assert files.paths is not None and files.vm_root == paths.root
        refused = rf"The Portside VM is running \(owned by pid {os.getpid()}\); stop it before"
        with pytest.raises(LifecycleError, match=refused):
            purge(plan_purge(files.paths, files.vm_root), files.paths, files.vm_root)
        assert paths.data_disk.exists() and engine.status.state is EngineState.RUNNING

        # a client's connection still open as the VM powers off is closed by the VM's side
        # first, which leaves 127.0.0.1:<api-port> in TIME_WAIT for a minute: the next start
        # must keep the port all the same (the user's docker context names it)
        held = socket.create_connection(("127.0.0.1", int(port_text)))

        def close_when_stopped(status: EngineStatus) -> None:
            if status.state is EngineState.STOPPED:
                held.close()

        engine.subscribe(close_when_stopped)

        page, confirm = open_purge(qtbot, window)
        listed = [Path(confirm.table.topLevelItem(i).text(1))
                  for i in range(confirm.table.topLevelItemCount())]  # fmt: skip
        assert listed == [paths.data_disk, paths.root_disk, paths.root_version]
        assert confirm.plan.items[0].size > 1_000_000  # the image and the file system on it
        kept_text = "\n".join(confirm.plan.kept)
        for name in ("vm.json", "ssh", "tls", "api-port"):
            assert str(paths.root / name) in kept_text, name
        confirm.confirm.setFocus()
        qtbot.keyClick(confirm.confirm, Qt.Key.Key_Space)
        qtbot.mouseClick(confirm.purge_button, Qt.MouseButton.LeftButton)
        wait_for(qtbot, lambda: page.purge_result is not None, 120)
        result = page.purge_result
        assert result.failed == [] and result.removed == listed
        assert "Purged: 3 item(s)" in page.result_label.text()
        assert not procs.pid_alive(old_pid)  # the purge powered the VM off first

        # the VM boots again, on a new, empty data disk
        wait_for(qtbot, lambda: engine.status.state is EngineState.RUNNING and ctx.client, BOOT)
        new_pid = engine.qemu_pid
        assert new_pid is not None and new_pid != old_pid
        this_run = logfile.tail(log_file, 400, this_run=True)
        assert "formatting the data disk" in this_run
        whole_log = log_file.read_text(errors="replace")
        assert "portside: power off" in whole_log and "did not power off" not in whole_log
        assert whole_log.count("root disk made from image") == 2
        assert contents(qtbot, docker) == {"images": [], "volumes": [], "containers": []}

        # what the plan said it keeps is there, byte for byte, and still works: the client
        # connected with the same certificates on the same port
        assert paths.settings_file.read_bytes() == settings_bytes
        assert {name: files_in(paths.root / name) for name in ("ssh", "tls")} == kept
        assert paths.api_port_file.read_text() == port_text
        assert engine.endpoint == f"tcp://127.0.0.1:{port_text.strip()}"
