"""The docker CLI panel driven with real clicks, against the session engine and the real CLI.

Private DOCKER_CONFIG, Portside config folder and HOME (the credential helper's launcher goes into
``$HOME/.local/bin``, which is put on PATH; ``SHELL`` is cleared so the user's PATH is this one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from app.cli_integration import CliIntegrationPanel

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    docker = tmp_path / "docker"
    docker.mkdir()
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHELL", "")
    monkeypatch.setenv("PATH", f"{home / '.local' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return docker


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    cli = shutil.which("docker")
    assert cli, "no docker CLI on PATH: `sudo apt-get install docker.io`"
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=60)


def click(qtbot: Any, panel: CliIntegrationPanel, button: QPushButton) -> str:
    """Click ``button`` like a user; wait for the action and the refresh after it."""
    assert button.isVisible() and button.isEnabled(), button.text()
    with qtbot.waitSignal(panel.changed, timeout=30000) as changed, \
            qtbot.waitSignal(panel.refreshed, timeout=30000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    return str(changed.args[0])


def test_each_row_fixes_and_undoes_with_clicks(qtbot: Any, app_ctx: Any, folder: Path,
                                               engine_endpoint: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert docker("context", "create", "other", "--docker",
                  "host=unix:///nonexistent/x.sock").returncode == 0
    config = folder / "config.json"
    config.write_text('{"currentContext": "other", "detachKeys": "ctrl-e,e"}')
    panel = CliIntegrationPanel(app_ctx)
    qtbot.addWidget(panel)
    assert panel.endpoint == engine_endpoint  # the engine the app uses
    panel.show()
    qtbot.waitUntil(lambda: panel.facts is not None, timeout=30000)
    assert "Not created yet" in panel.context_row.state.text()
    assert panel.use_button.isVisible() and not panel.use_button.isEnabled()
    assert shutil.which("docker") in panel.cli_row.state.text()
    assert not panel.copy_button.isVisible()

    message = click(qtbot, panel, panel.create_button)
    assert "Created the docker context" in message and message == panel.note.text()
    assert f"Points at {engine_endpoint}" in panel.context_row.state.text()
    assert not panel.create_button.isVisible() and panel.remove_button.isVisible()
    ps = docker("--context", "portside", "ps")
    assert ps.returncode == 0 and "CONTAINER ID" in ps.stdout, ps.stderr

    click(qtbot, panel, panel.use_button)
    assert json.loads(config.read_text())["currentContext"] == "portside"
    assert docker("ps").returncode == 0  # plain docker now reaches Portside's engine
    assert panel.undo_button.isVisible() and "“other”" in panel.current_row.state.text()
    monkeypatch.setenv("DOCKER_HOST", "unix:///elsewhere.sock")  # plain docker would go there
    with qtbot.waitSignal(panel.refreshed, timeout=30000):
        panel.refresh()
    assert panel.current_row.state.text().startswith("✗ “portside”, but DOCKER_HOST=unix:///"
                                                     "elsewhere.sock overrides it")
    monkeypatch.delenv("DOCKER_HOST")
    click(qtbot, panel, panel.undo_button)
    assert json.loads(config.read_text()) == {"currentContext": "other",
                                              "detachKeys": "ctrl-e,e"}
    assert panel.use_button.isVisible() and not panel.undo_button.isVisible()

    assert panel.helper_on.isVisible()
    assert panel.helper_row.state.text().startswith("– ")  # off is a choice, not shown as a fault
    assert panel.helper_row.state.objectName() == ""
    click(qtbot, panel, panel.helper_on)
    assert json.loads(config.read_text())["credsStore"] == "portside"
    assert (Path(os.environ["HOME"]) / ".local/bin/docker-credential-portside").exists()
    assert panel.helper_off.isVisible() and panel.helper_row.state.text().startswith("✓")
    click(qtbot, panel, panel.helper_off)
    assert "credsStore" not in json.loads(config.read_text())

    click(qtbot, panel, panel.remove_button)
    assert docker("context", "inspect", "portside").returncode != 0
    assert app_ctx.reported_errors == []


def test_a_corrupt_config_json_is_shown_and_left_alone(qtbot: Any, app_ctx: Any,
                                                       folder: Path) -> None:
    config = folder / "config.json"
    config.write_bytes(b'{"auths": {')
    panel = CliIntegrationPanel(app_ctx)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.facts is not None, timeout=30000)
    assert "not valid JSON" in panel.current_row.state.text()
    assert not panel.use_button.isVisible()
    with qtbot.waitSignal(panel.refreshed, timeout=30000):
        qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    assert panel.note.text() == (f"Nothing was changed: fix or move aside {config} first "
                                 "(see Current context).")
    assert "untouched" in panel.current_row.state.text()
    assert panel.note.objectName() == "fieldError"
    assert config.read_bytes() == b'{"auths": {'
    assert app_ctx.reported_errors == []


def test_without_a_docker_cli_the_row_offers_the_install_command(
        qtbot: Any, app_ctx: Any, folder: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cli = shutil.which("docker")
    assert cli
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    panel = CliIntegrationPanel(app_ctx)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.facts is not None, timeout=30000)
    assert "Not found on PATH" in panel.cli_row.state.text()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == "sudo apt-get install docker.io"
    # without the CLI the context is written in its format, and the CLI reads it later
    with qtbot.waitSignal(panel.refreshed, timeout=30000):
        qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    assert "no docker CLI on PATH" in panel.note.text()
    ps = subprocess.run([cli, "--context", "portside", "ps"], capture_output=True, text=True,
                        timeout=60)
    assert ps.returncode == 0 and "CONTAINER ID" in ps.stdout, ps.stderr


def test_create_context_for_the_vm_in_tls_mode_carries_its_certificates(
    qtbot: Any, qasync_loop: Any, folder: Path, tmp_path: Path
) -> None:
    """The VM's tls API mode (Windows): the context the button makes holds the VM's client
    certificate, so `docker --context portside` can get past dockerd's --tlsverify."""
    from app.context import AppContext
    from engine.engines.sources import tls_dir
    from engine.vm import tls
    from engine.vm.engine import VMEngine
    from engine.vm.layout import VMPaths

    paths = VMPaths.at(tmp_path / "vm")
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text('{"api": "tls"}')
    files = tls.ensure_certs(paths.tls_dir)
    ctx = AppContext(VMEngine(paths), attached=False)
    panel = CliIntegrationPanel(ctx)
    qtbot.addWidget(panel)
    assert panel.endpoint.startswith("tcp://127.0.0.1:")
    panel.show()
    qtbot.waitUntil(lambda: panel.facts is not None, timeout=30000)
    message = click(qtbot, panel, panel.create_button)
    assert "Created the docker context" in message
    stored = tls_dir("portside", folder)
    for name, made in (("ca.pem", files.ca_cert), ("cert.pem", files.client_cert),
                       ("key.pem", files.client_key)):
        assert (stored / name).read_bytes() == made.read_bytes(), name
    inspect = docker("context", "inspect", "portside")
    assert inspect.returncode == 0 and panel.endpoint in inspect.stdout, inspect.stderr
