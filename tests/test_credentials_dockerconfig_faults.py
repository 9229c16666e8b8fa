"""Editing the docker CLI's config.json under attack: the faults of issue 7 (point 4).

A symlinked config.json (dotfiles), numbers Go can parse but Python turns into ``Infinity``,
ten enables at once, and backups that must never add a copy of a secret. The real docker CLI
(found on PATH) reads what Portside wrote; migrations go into the real test keyring.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.credentials import dockerconfig
from engine.credentials.store import CredentialStore
from tests.test_credentials_dockerconfig import _env  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]


def files_holding(root: Path, *needles: str) -> list[str]:
    """Every regular file under ``root`` (links not followed) that contains any needle."""
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if any(n.encode() in data for n in needles):
                found.append(str(path.relative_to(root)))
    return sorted(found)


def docker_complaint(config_dir: Path) -> str:
    """Have the real docker CLI load ``config_dir/config.json`` (no engine needed); what it
    says about the file ("" when it parses it)."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.fail("the docker CLI is not on PATH: apt-get install docker.io", pytrace=False)
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    result = subprocess.run([docker, "--config", str(config_dir), "context", "ls"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return "\n".join(line for line in result.stderr.splitlines() if "config file" in line)


def _plain_login(user: str) -> tuple[str, str, str]:
    """(server, password, auth) for a plaintext login unique to the test."""
    server = f"plain-{uuid.uuid4().hex[:8]}.test:5000"
    secret = f"pw-{uuid.uuid4().hex}"
    return server, secret, base64.b64encode(f"{user}:{secret}".encode()).decode()


# -- symlinked config.json ----------------------------------------------------------------------

@pytest.mark.keyring
def test_a_symlinked_config_is_edited_through_the_link(env: dict[str, Path],
                                                       keyring_backend: Any) -> None:
    server, secret, auth = _plain_login("frank")
    dotfiles = env["root"] / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "docker-config.json"
    original = {"credsStore": "desktop", "auths": {server: {"auth": auth}},
                "proxies": {"default": {"noProxy": "x"}}}
    target.write_text(json.dumps(original, indent=2))
    target.chmod(0o640)
    link = env["docker"] / "config.json"
    link.symlink_to(os.path.relpath(target, link.parent))
    link_text = os.readlink(link)
    store = CredentialStore()
    try:
        result = dockerconfig.enable(migrate=True)
        assert result.migrated == [server]
        assert link.is_symlink() and os.readlink(link) == link_text  # the link stays
        data = json.loads(target.read_text())
        assert data["credsStore"] == "portside" and data["auths"] == {server: {}}
        assert oct(target.stat().st_mode & 0o777) == oct(0o640)
        # The migrated secret is in the keyring and in no file anywhere.
        login = store.get(server)
        assert login is not None and login.secret == secret
        assert files_holding(env["root"], secret, auth) == []
        assert docker_complaint(env["docker"]) == ""

        assert dockerconfig.disable() == "desktop"  # the previous credsStore is remembered
        assert link.is_symlink() and os.readlink(link) == link_text
        assert json.loads(target.read_text())["credsStore"] == "desktop"
        assert dockerconfig.status().creds_store == "desktop"
    finally:
        store.erase(server)


def test_a_dangling_symlink_gets_its_target_created(env: dict[str, Path]) -> None:
    target = env["root"] / "dotfiles" / "config.json"
    target.parent.mkdir()
    link = env["docker"] / "config.json"
    link.symlink_to(target)
    dockerconfig.enable()
    assert link.is_symlink() and json.loads(target.read_text()) == {"credsStore": "portside"}


# -- numbers ------------------------------------------------------------------------------------

NUMBERS = ('{\n\t"credsStore": "desktop",\n\t"x-tool": {"x": {"huge": 1e400, '
           '"big": 123456789012345678901234567890, "f": 1.10, "neg": -0.0, "e": 2E-5, '
           '"list": [1.0, -7, 0.30000000000000004]}}\n}')
LITERALS = ("1e400", "123456789012345678901234567890", "1.10", "-0.0", "2E-5", "1.0", "-7",
            "0.30000000000000004")


def number_literals(text: str) -> set[str]:
    return set(re.findall(r'(?<![\w."])-?\d[\w.+-]*', text))


def test_numbers_survive_as_written(env: dict[str, Path]) -> None:
    path = env["docker"] / "config.json"
    path.write_text(NUMBERS)
    assert number_literals(NUMBERS) == set(LITERALS)
    assert docker_complaint(env["docker"]) == ""  # the docker CLI reads the original
    dockerconfig.enable()
    text = path.read_text()
    assert number_literals(text) == set(LITERALS), text
    assert "Infinity" not in text
    assert docker_complaint(env["docker"]) == ""
    assert dockerconfig.disable() == "desktop"
    text = path.read_text()
    assert number_literals(text) == set(LITERALS) and "Infinity" not in text
    assert docker_complaint(env["docker"]) == ""
    assert json.loads(text)["x-tool"]["x"]["big"] == 123456789012345678901234567890


# -- ten at once ----------------------------------------------------------------------------------

ENABLE = ("import sys; from engine.credentials import dockerconfig; "
          "dockerconfig.enable(sys.argv[1], require_helper=False)")


@pytest.mark.parametrize("attempt", range(3))  # a lost update is likely, not certain, per try
def test_enabling_ten_configs_at_once_remembers_every_previous_store(
    env: dict[str, Path], attempt: int
) -> None:
    folders = []
    for n in range(10):
        folder = env["root"] / f"cfg{n}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"credsStore": f"store{n}"}))
        folders.append(folder)
    child_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", ENABLE, str(f)], env=child_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for f in folders]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 10, outputs
    state = json.loads((env["portside"] / "docker-config.json").read_text())
    assert len(state) == 10
    for n, folder in enumerate(folders):
        assert json.loads((folder / "config.json").read_text()) == {"credsStore": "portside"}
        assert dockerconfig.disable(folder) == f"store{n}"
        assert json.loads((folder / "config.json").read_text()) == {"credsStore": f"store{n}"}
    assert json.loads((env["portside"] / "docker-config.json").read_text()) == {}


# -- backups never add a copy of a secret --------------------------------------------------------

@pytest.mark.keyring
def test_a_backup_never_adds_a_copy_of_a_secret(env: dict[str, Path],
                                                keyring_backend: Any) -> None:
    server, secret, auth = _plain_login("gina")
    token = f"tok-{uuid.uuid4().hex}"
    path = env["docker"] / "config.json"
    path.write_text(json.dumps({"auths": {server: {"auth": auth, "email": "g@x"},
                                          "hub.test": {"identitytoken": token}},
                                "detachKeys": "ctrl-e,e"}))
    result = dockerconfig.enable()  # not migrating: the logins stay where they were
    assert result.left_in_plaintext == [server, "hub.test"]
    assert result.backup is not None and result.backup.exists()
    # Each secret is still in exactly one file: config.json, not also in the backup.
    assert files_holding(env["root"], secret) == []  # only base64-encoded, in "auth"
    assert files_holding(env["root"], auth) == ["docker/config.json"]
    assert files_holding(env["root"], token) == ["docker/config.json"]
    backup = json.loads(result.backup.read_text())
    assert backup["auths"] == {server: {"email": "g@x"}, "hub.test": {}}
    assert backup["detachKeys"] == "ctrl-e,e"
    # disable backs up again: still no secret in the backup.
    assert dockerconfig.disable() is None
    assert files_holding(env["root"], auth, token) == ["docker/config.json"]

    store = CredentialStore()
    try:
        migrated = dockerconfig.enable(migrate=True)
        assert sorted(migrated.migrated) == sorted([server, "hub.test"])
        # After a migration no copy remains in any file Portside wrote (or anywhere else).
        assert files_holding(env["root"], secret, auth, token) == []
        login = store.get(server)
        assert login is not None and login.secret == secret
    finally:
        store.erase(server)
        store.erase("hub.test")
