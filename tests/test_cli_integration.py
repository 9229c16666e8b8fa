"""The docker context ``portside`` with the real docker CLI found on PATH and the session engine.

Every test has its own DOCKER_CONFIG and Portside config folder; DOCKER_HOST and DOCKER_CONTEXT
are removed so the CLI goes only where the context says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engine import cli_integration as ci
from engine import docker_contexts
from engine.errors import DockerConfigError

pytestmark = [pytest.mark.engine]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return docker


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    cli = shutil.which("docker")
    if cli is None:
        pytest.fail("No docker CLI on PATH: `sudo apt-get install docker.io`.", pytrace=False)
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=60)


def current_context() -> str:
    """The docker CLI's current context by name (`docker context show` needs CLI 23+; Debian 12's
    docker.io ships 20.10, whose `context ls` marks the current one)."""
    listed = docker("context", "ls", "--format", "{{if .Current}}{{.Name}}{{end}}")
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.strip()


def _a_container(engine_endpoint: str, image: str) -> str:
    name = f"pst-ctx-{uuid.uuid4().hex[:8]}"
    made = docker("-H", engine_endpoint, "create", "--name", name, image, "true")
    assert made.returncode == 0, made.stderr
    return name


def test_docker_context_portside_ps_reaches_the_engine(folder: Path, engine_endpoint: str,
                                                       test_image: str) -> None:
    name = _a_container(engine_endpoint, test_image)
    try:
        change = ci.install_context(engine_endpoint, folder)
        assert change.changed and shutil.which("docker") in change.message
        ps = docker("--context", "portside", "ps", "-a", "--format", "{{.Names}}")
        assert ps.returncode == 0, ps.stderr
        assert name in ps.stdout.split()
        # nothing else changed: the default context is still current
        assert docker_contexts.configured_context(folder) == "default"
        assert not ci.install_context(engine_endpoint, folder).changed
        facts = ci.status(engine_endpoint, folder)
        assert facts.context_ok and not facts.is_current and facts.version
    finally:
        docker("-H", engine_endpoint, "rm", "-f", name)


def test_without_a_docker_cli_the_files_are_what_the_cli_reads(folder: Path,
                                                               engine_endpoint: str) -> None:
    stale = "unix:///nonexistent/old.sock"
    ci.install_context(stale, folder, cli="")
    change = ci.install_context(engine_endpoint, folder, cli="")
    assert change.changed and "no docker CLI on PATH" in change.message
    meta = docker_contexts.context_dir("portside", folder) / "meta.json"
    assert meta.parent.name == "ece12ac63a48cc43317d17ad4fda11da5a0d65acf20f008b33a73980d518ad32"
    inspect = docker("context", "inspect", "portside", "--format",
                     "{{.Endpoints.docker.Host}}")
    assert inspect.stdout.strip() == engine_endpoint, inspect.stderr
    ps = docker("--context", "portside", "ps")
    assert ps.returncode == 0 and "CONTAINER ID" in ps.stdout, ps.stderr


def test_the_cli_repoints_an_existing_context(folder: Path, engine_endpoint: str) -> None:
    ci.install_context("unix:///nonexistent/old.sock", folder)
    change = ci.install_context(engine_endpoint, folder)
    assert change.message.startswith("Pointed")
    assert docker_contexts.find_context("portside", folder).host == engine_endpoint  # type: ignore[union-attr]


def test_use_then_undo_restores_the_previous_context_and_keeps_unknown_keys(
        folder: Path, engine_endpoint: str) -> None:
    other = "unix:///nonexistent/other.sock"
    assert docker("context", "create", "other", "--docker", f"host={other}").returncode == 0
    original = ('{\n\t"auths": {},\n\t"detachKeys": "ctrl-e,e",\n\t"currentContext": "other",\n'
                '\t"plugins": {\n\t\t"x": {\n\t\t\t"big": 1e400\n\t\t}\n\t}\n}\n')
    config = folder / "config.json"
    config.write_text(original)
    ci.install_context(engine_endpoint, folder)
    used = ci.use_context(folder)
    assert used.changed and "(was “other”)" in used.message
    assert used.backup is not None and used.backup.read_text() == original
    data = json.loads(config.read_text().replace("1e400", "1"))
    assert data["currentContext"] == "portside" and data["detachKeys"] == "ctrl-e,e"
    assert "1e400" in config.read_text()  # numbers kept as written
    ps = docker("ps")  # no --context: the current one is Portside's now
    assert ps.returncode == 0, ps.stderr
    assert ci.remembered_context(folder) == "other"
    assert not ci.use_context(folder).changed  # twice is harmless, "other" stays remembered
    undone = ci.undo_use(folder)
    assert undone.changed and "“other”" in undone.message
    assert config.read_text() == original  # byte for byte: keys, order, numbers (CLI's tabs)
    assert current_context() == "other"
    assert ci.remembered_context(folder) is None
    assert not ci.undo_use(folder).changed


def test_undo_from_no_current_context_removes_the_key(folder: Path,
                                                     engine_endpoint: str) -> None:
    config = folder / "config.json"
    config.write_text('{"psFormat": "table {{.ID}}"}')
    ci.install_context(engine_endpoint, folder)
    ci.use_context(folder)
    ci.undo_use(folder)
    assert json.loads(config.read_text()) == {"psFormat": "table {{.ID}}"}
    assert current_context() == "default"


def test_undo_after_the_user_switched_away_changes_nothing(folder: Path,
                                                           engine_endpoint: str) -> None:
    ci.install_context(engine_endpoint, folder)
    ci.use_context(folder)
    assert docker("context", "use", "default").returncode == 0
    before = (folder / "config.json").read_bytes()
    change = ci.undo_use(folder)
    assert not change.changed and "“default”, not “portside”" in change.message
    assert (folder / "config.json").read_bytes() == before


def test_a_corrupt_config_json_is_named_and_never_overwritten(folder: Path,
                                                              engine_endpoint: str) -> None:
    config = folder / "config.json"
    config.write_bytes(b'{"currentContext": "other",')
    for action in (lambda: ci.install_context(engine_endpoint, folder), lambda: ci.use_context(
            folder), lambda: ci.undo_use(folder)):
        with pytest.raises(DockerConfigError) as caught:
            action()
        assert str(config) in str(caught.value) and "not valid JSON" in str(caught.value)
    assert config.read_bytes() == b'{"currentContext": "other",'
    assert not (folder / "config.json.portside-backup").exists()
    facts = ci.status(engine_endpoint, folder)
    assert facts.current == "?" and "not valid JSON" in facts.config_error
    cli = _context_cli(folder, engine_endpoint, "use")
    assert cli.returncode == 1 and "untouched" in cli.stderr
    assert config.read_bytes() == b'{"currentContext": "other",'


def _context_cli(folder: Path, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "context", "--docker-config", str(folder),
                           "--endpoint", endpoint, *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=dict(os.environ))


def test_the_default_socket_is_only_reported(engine_endpoint: str) -> None:
    path = engine_endpoint.removeprefix("unix://")
    report = ci.socket_report(path)
    assert report.startswith(f"{path} answers; owned by root:")
    assert report.endswith(f" {os.stat(path).st_mode & 0o777:04o}")
    assert ci.socket_report("/nonexistent/docker.sock") == ""


def test_the_portside_context_command(folder: Path, engine_endpoint: str) -> None:
    assert _context_cli(folder, engine_endpoint, "status").returncode == 3
    installed = _context_cli(folder, engine_endpoint, "install")
    assert installed.returncode == 0 and "docker --context portside ps" in installed.stdout
    status = _context_cli(folder, engine_endpoint, "status")
    assert status.returncode == 0 and f"ok    docker context “portside” → {engine_endpoint}" \
        in status.stdout
    assert _context_cli(folder, engine_endpoint, "use").returncode == 0
    facts = json.loads(_context_cli(folder, engine_endpoint, "status", "--json").stdout)
    assert facts["is_current"] and facts["previous"] == "default"
    assert "credential_helper" in facts
    overridden = subprocess.run(
        [sys.executable, "-m", "app", "context", "--docker-config", str(folder), "--endpoint",
         engine_endpoint, "status"], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, DOCKER_HOST="unix:///elsewhere.sock"))
    assert "current docker context: portside (DOCKER_HOST=unix:///elsewhere.sock overrides " \
        "it in this environment.)" in overridden.stdout
    removed = _context_cli(folder, engine_endpoint, "remove")
    assert removed.returncode == 0
    assert docker_contexts.find_context("portside", folder) is None
    assert current_context() == "default"
