"""config.json integration: credsStore on/off, unknown keys kept, corrupt files untouched,
plaintext logins migrated into the real keyring, the helper put on PATH."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.credentials import dockerconfig
from engine.credentials.install import HELPER_NAME, helper_status, install_helper, user_path
from engine.credentials.store import CredentialStore
from engine.errors import CredentialsError, DockerConfigError


@pytest.fixture(name="env")
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Private HOME, DOCKER_CONFIG, Portside config and bin folder; the user's login shell
    (a private ~/.profile) finds our helper first."""
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    portside = tmp_path / "portside"
    bin_dir = tmp_path / "bin"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".profile").write_text(f'PATH="{bin_dir}:$PATH"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_dir))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(portside))
    install_helper(bin_dir, path_env=str(bin_dir))
    return {"root": tmp_path, "docker": docker_dir, "portside": portside, "bin": bin_dir}


UNKNOWN = {
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "currentContext": "colima",
    "credHelpers": {"gcr.io": "gcloud"},
    "plugins": {"x": {"k": [1, 2, {"deep": None}]}},
    "detachKeys": "ctrl-e,e",
}


def test_enable_and_disable_keep_unknown_keys_and_restore_previous(env: dict[str, Path]) -> None:
    path = env["docker"] / "config.json"
    original = {"credsStore": "desktop", "auths": {"ghcr.io": {}}, **UNKNOWN}
    path.write_text(json.dumps(original, indent=2))
    os.chmod(path, 0o640)
    original_bytes = path.read_bytes()

    result = dockerconfig.enable()
    assert result.previous_store == "desktop"
    assert result.backup == env["docker"] / "config.json.portside-backup"
    assert result.backup.read_bytes() == original_bytes
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data == {**original, "credsStore": "portside"}
    assert list(data) == list(original)  # order kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert dockerconfig.status().enabled
    # Remembered in Portside's settings, not in docker's file.
    state = json.loads((env["portside"] / "docker-config.json").read_text())
    assert state[str(path.resolve())] == {"previous_credsStore": "desktop"}

    assert dockerconfig.enable().previous_store == "portside"  # idempotent
    assert dockerconfig.disable() == "desktop"
    assert json.loads(path.read_text()) == original


def test_enable_without_a_config_creates_one_and_disable_removes_the_key(
    env: dict[str, Path],
) -> None:
    path = env["docker"] / "config.json"
    result = dockerconfig.enable()
    assert result.backup is None and result.previous_store is None
    assert json.loads(path.read_text()) == {"credsStore": "portside"}
    assert dockerconfig.disable() is None
    assert json.loads(path.read_text()) == {}


@pytest.mark.parametrize(
    "content",
    [b'{"auths": {', b"\xff\xfe not utf8", b"[1, 2]", b'{"auths": []}', b'{"credsStore": "x",}'],
)
def test_corrupt_config_is_left_byte_identical(env: dict[str, Path], content: bytes) -> None:
    path = env["docker"] / "config.json"
    path.write_bytes(content)
    before = path.stat()
    for action in (dockerconfig.enable, dockerconfig.disable, dockerconfig.status):
        with pytest.raises(DockerConfigError) as info:
            action()
        assert str(path) in str(info.value)
        assert "left it untouched" in str(info.value)
    assert path.read_bytes() == content
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in env["docker"].iterdir()) == ["config.json"]  # no backup, no temp


def test_enable_refuses_when_path_does_not_find_our_helper(env: dict[str, Path],
                                                          tmp_path: Path) -> None:
    path = env["docker"] / "config.json"
    path.write_text("{}")
    with pytest.raises(CredentialsError, match="not on your shell's PATH"):
        dockerconfig.enable(path_env=str(tmp_path / "empty"))
    assert path.read_text() == "{}"


@pytest.mark.keyring
def test_migrate_plaintext_logins_into_the_keyring(env: dict[str, Path],
                                                   keyring_backend: Any) -> None:
    server = f"plain-{uuid.uuid4().hex[:8]}.test:5000"
    secret = f"pw-{uuid.uuid4().hex}"
    auth = base64.b64encode(f"frank:{secret}".encode()).decode()
    path = env["docker"] / "config.json"
    path.write_text(json.dumps({"auths": {server: {"auth": auth, "email": "f@x"},
                                          "broken.test": {"auth": "!!notbase64"}}, **UNKNOWN}))

    would_move = dockerconfig.plaintext_logins()
    assert [(p.server, p.username) for p in would_move] == [(server, "frank")]
    assert secret not in repr(would_move)
    store = CredentialStore()
    try:
        result = dockerconfig.enable(migrate=True)
        assert result.migrated == [server] and result.left_in_plaintext == []
        login = store.get(server)
        assert login is not None and (login.username, login.secret) == ("frank", secret)
        text = path.read_text()
        assert secret not in text and auth not in text
        data = json.loads(text)
        assert data["auths"][server] == {"email": "f@x"}
        assert data["auths"]["broken.test"] == {"auth": "!!notbase64"}  # not ours to judge
        assert {k: data[k] for k in UNKNOWN} == UNKNOWN
        # No plaintext copy left behind in the backup either.
        assert secret not in result.backup.read_text() and auth not in result.backup.read_text()
    finally:
        store.erase(server)


def test_enable_without_migrate_reports_what_stays_in_plaintext(env: dict[str, Path]) -> None:
    auth = base64.b64encode(b"gina:pw").decode()
    path = env["docker"] / "config.json"
    path.write_text(json.dumps({"auths": {"h.test": {"auth": auth}}}))
    result = dockerconfig.enable()
    assert result.migrated == [] and result.left_in_plaintext == ["h.test"]
    assert json.loads(path.read_text())["auths"]["h.test"] == {"auth": auth}


def test_install_helper_chooses_a_user_bin_on_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    local_bin = home / ".local" / "bin"
    bin_dir = home / "bin"
    # ~/bin on PATH, ~/.local/bin not: the launcher goes where PATH looks.
    result = install_helper(path_env=str(bin_dir), home=str(home))
    assert result.path == str(bin_dir / HELPER_NAME) and result.on_path and not result.hint
    assert os.access(result.path, os.X_OK)
    assert helper_status(str(bin_dir)).ours
    # Neither on PATH: ~/.local/bin, with the exact line to add.
    result = install_helper(path_env=str(tmp_path / "nothing"), home=str(home))
    assert result.path == str(local_bin / HELPER_NAME) and not result.on_path
    assert f'export PATH="{local_bin}:$PATH"' in result.hint


def test_install_helper_never_overwrites_a_foreign_file(tmp_path: Path) -> None:
    foreign = tmp_path / HELPER_NAME
    foreign.write_text("#!/bin/sh\necho someone else\n")
    foreign.chmod(0o755)
    with pytest.raises(CredentialsError, match="not Portside's helper"):
        install_helper(tmp_path, path_env=str(tmp_path))
    assert foreign.read_text() == "#!/bin/sh\necho someone else\n"
    status = helper_status(str(tmp_path))
    assert status.resolved == str(foreign) and not status.ours
    assert "not this Portside's" in status.message
    assert helper_status(str(tmp_path / "none")).resolved is None


def test_user_path_drops_the_venv_bin_the_launcher_prepended(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    venv_bin = str(Path(sys.prefix) / "bin")
    assert sys.prefix != sys.base_prefix, "the tests run in Portside's venv"
    monkeypatch.setenv("PATH", os.pathsep.join([venv_bin, "/opt/x", "/usr/bin"]))
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    # No usable $SHELL: this process's PATH minus the venv's bin (scripts/run.sh adds it).
    assert user_path(shell=str(tmp_path / "no-shell")) == os.pathsep.join(["/opt/x", "/usr/bin"])
    # A shell that hangs is given up on quickly, with the same fallback.
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 30\n")
    hang.chmod(0o755)
    start = time.monotonic()
    assert user_path(shell=str(hang), timeout=0.5) == os.pathsep.join(["/opt/x", "/usr/bin"])
    assert time.monotonic() - start < 5


def test_user_path_asks_the_login_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".profile").write_text('echo "motd noise"\nPATH="$HOME/mybin:$PATH"\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.prefix) / "bin"), "/usr/bin",
                                                "/bin"]))
    dirs = user_path(shell="/bin/bash").split(os.pathsep)
    assert dirs[0] == str(home / "mybin")
    assert str(Path(sys.prefix) / "bin") not in dirs


def test_status_flags_the_slow_console_script_ahead_of_the_launcher(tmp_path: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    bin_dir = tmp_path / "bin"
    result = install_helper(bin_dir, path_env=os.pathsep.join([venv_bin, str(bin_dir)]))
    assert result.on_path and "slower pip console script" in result.hint
    slow = helper_status(os.pathsep.join([venv_bin, str(bin_dir)]))
    assert slow.ours and not slow.fast and "pip console script" in slow.message
    fast = helper_status(os.pathsep.join([str(bin_dir), venv_bin]))
    assert fast.ours and fast.fast and fast.resolved == str(bin_dir / HELPER_NAME)
    missing = helper_status(str(tmp_path / "none"))
    assert "Install helper" not in missing.message
    assert "“Use for the docker CLI”" in missing.message
