"""``portside credentials status | enable [--migrate] | disable``, run as a user would.

Each test runs ``python -m app credentials ...`` in a subprocess with a private HOME (whose
login shell's PATH is set by a private ~/.profile), DOCKER_CONFIG and Portside config folder.
The real docker CLI (found on PATH) then uses what was written: ``docker logout`` goes through
``docker-credential-portside`` into the real test keyring.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.credentials.store import CredentialStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path: Path) -> dict[str, Any]:
    """A user whose shell PATH has ~/.local/bin, with a docker config folder."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".profile").write_text('PATH="$HOME/.local/bin:$PATH"\n')
    docker = tmp_path / "docker"
    docker.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DOCKER_HOST", "DOCKER_CONTEXT", "VIRTUAL_ENV")}
    env.update(HOME=str(home), SHELL="/bin/bash", DOCKER_CONFIG=str(docker),
               PORTSIDE_CONFIG_DIR=str(tmp_path / "portside"), PYTHONPATH=str(ROOT),
               PATH=os.pathsep.join([str(home / ".local" / "bin"), os.environ["PATH"]]))
    return {"root": tmp_path, "home": home, "docker": docker, "config": docker / "config.json",
            "bin": home / ".local" / "bin", "env": env}


def portside(home: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "credentials", *args],
                          capture_output=True, text=True, timeout=60, env=home["env"])


def docker(home: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("docker")
    if found is None:
        pytest.fail("the docker CLI is not on PATH: apt-get install docker.io", pytrace=False)
    return subprocess.run([found, *args], capture_output=True, text=True, timeout=60,
                          env=home["env"])


def test_status_enable_status_disable(home: dict[str, Any]) -> None:
    config: Path = home["config"]
    original = {"credsStore": "desktop", "proxies": {"default": {"noProxy": "x"}},
                "x-tool": {"n": 1e400}}
    config.write_text(json.dumps(original).replace('"n": Infinity', '"n": 1e400'))

    before = portside(home, "status")
    assert (before.returncode, before.stderr) == (3, "")
    assert "keeps its logins in “desktop”" in before.stdout
    assert f"config file:      {config}" in before.stdout

    enabled = portside(home, "enable")
    assert (enabled.returncode, enabled.stderr) == (0, ""), enabled
    helper = home["bin"] / "docker-credential-portside"
    assert f"Installed the credential helper at {helper}." in enabled.stdout
    assert f"Changed {config}: credsStore “desktop” → “portside”" in enabled.stdout
    backup = config.with_name("config.json.portside-backup")
    assert f"Backup of the previous file (without secrets): {backup}" in enabled.stdout
    assert json.loads(backup.read_text())["credsStore"] == "desktop"
    text = config.read_text()
    assert json.loads(text.replace("1e400", "1"))["credsStore"] == "portside"
    assert "1e400" in text

    status = portside(home, "status", "--json")
    assert status.returncode == 0, status
    facts = json.loads(status.stdout)
    assert facts["uses_portside"] is True and facts["credsStore"] == "portside"
    assert facts["helper"] == str(helper) and facts["helper_is_fast_launcher"] is True
    assert facts["disable_restores"] == "desktop" and facts["backup"] == str(backup)
    assert "Error parsing config file" not in docker(home, "context", "ls").stderr

    disabled = portside(home, "disable")
    assert (disabled.returncode, disabled.stderr) == (0, "")
    assert f"Changed {config}: credsStore “portside” → “desktop”." in disabled.stdout
    assert "“desktop” again" in disabled.stdout
    assert json.loads(config.read_text().replace("1e400", "1"))["credsStore"] == "desktop"
    assert portside(home, "status").returncode == 3
    again = portside(home, "disable")  # not Portside's any more: nothing to do, says so
    assert again.returncode == 0 and "nothing was changed" in again.stdout


@pytest.mark.keyring
def test_enable_migrate_and_the_docker_cli_uses_the_keyring(home: dict[str, Any],
                                                           keyring_backend: Any) -> None:
    server = f"cli-{uuid.uuid4().hex[:8]}.test:5000"
    secret = f"pw-{uuid.uuid4().hex}"
    auth = base64.b64encode(f"hank:{secret}".encode()).decode()
    home["config"].write_text(json.dumps({"auths": {server: {"auth": auth}}}))
    store = CredentialStore()
    try:
        plain = portside(home, "enable")  # without --migrate the login stays, and it says so
        assert plain.returncode == 0
        assert f"Left in plaintext in config.json, where the docker CLI no longer looks: " \
               f"{server}" in plain.stdout
        assert store.get(server) is None

        moved = portside(home, "enable", "--migrate")
        assert moved.returncode == 0, moved
        assert f"Moved 1 login(s) into the keyring and out of config.json: {server}." \
            in moved.stdout
        assert secret not in moved.stdout + moved.stderr and auth not in moved.stdout
        login = store.get(server)
        assert login is not None and (login.username, login.secret) == ("hank", secret)
        for folder, _dirs, names in os.walk(home["root"]):
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    assert auth.encode() not in path.read_bytes(), path

        # The docker CLI now asks docker-credential-portside: logout erases the keyring item.
        out = docker(home, "logout", server)
        assert out.returncode == 0, out.stderr
        assert store.get(server) is None
    finally:
        store.erase(server)


def test_enable_changes_nothing_when_the_shell_cannot_find_the_helper(
    home: dict[str, Any],
) -> None:
    (home["home"] / ".profile").write_text("")  # the login shell's PATH lacks ~/.local/bin
    home["config"].write_text('{"credsStore": "desktop"}')
    result = portside(home, "enable")
    assert result.returncode == 1 and result.stderr == ""
    assert "were not changed" in result.stdout
    assert f'export PATH="{home["bin"]}:$PATH"' in result.stdout
    assert "portside credentials enable` again" in result.stdout
    assert home["config"].read_text() == '{"credsStore": "desktop"}'


@pytest.mark.parametrize("command", [["status"], ["enable"], ["enable", "--migrate"],
                                     ["disable"]])
def test_a_corrupt_config_is_a_message_and_left_alone(home: dict[str, Any],
                                                      command: list[str]) -> None:
    home["config"].write_text('{"auths": {')
    result = portside(home, *command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(home["config"]) in result.stdout + result.stderr
    assert home["config"].read_text() == '{"auths": {'
    assert sorted(p.name for p in home["docker"].iterdir()) == ["config.json"]


def test_status_of_a_symlinked_config_names_both(home: dict[str, Any]) -> None:
    target = home["root"] / "dotfiles.json"
    target.write_text("{}")
    home["config"].symlink_to(target)
    assert portside(home, "enable").returncode == 0
    assert home["config"].is_symlink()
    status = portside(home, "status")
    assert status.returncode == 0
    assert f"config file:      {home['config']} → {target}" in status.stdout


def test_enable_migrate_without_a_keyring_changes_nothing(home: dict[str, Any]) -> None:
    auth = base64.b64encode(b"ivy:pw-never-printed").decode()
    original = json.dumps({"credsStore": "desktop", "auths": {"nokr.test:5000": {"auth": auth}}})
    home["config"].write_text(original)
    home["env"]["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={home['root']}/no-bus"
    result = portside(home, "enable", "--migrate")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "No keyring available" in result.stderr
    assert "pw-never-printed" not in result.stdout + result.stderr
    assert home["config"].read_text() == original  # keyring first: the file is untouched
    assert sorted(p.name for p in home["docker"].iterdir()) == ["config.json"]  # no backup
