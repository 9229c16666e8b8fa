"""The macOS/Windows code path (the ``keyring`` library), run on Linux.

``PORTSIDE_SECRET_BACKEND=keyring`` makes :func:`engine.credentials.backends.open_backend` take
the non-Linux path; ``PYTHON_KEYRING_BACKEND`` then picks keyring's backend: its ``fail`` backend
(no usable keyring: refused plainly, nothing stored) or :class:`FileBackedKeyring` below, a
minimal keyring backend that keeps secrets in memory and mirrors them to a test-only file so the
separate helper processes the docker CLI would start share them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from engine.credentials import backends, helper
from engine.credentials.install import install_helper
from engine.credentials.keyringlib import SERVICE, KeyringLibStore
from engine.credentials.store import CredentialStore
from engine.errors import CredentialsError, KeyringUnavailable

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "docker-credential-portside")
STORE_FILE_ENV = "PORTSIDE_TEST_KEYRING_FILE"


class FileBackedKeyring(KeyringBackend):
    """In-memory ``{(service, user): password}``, mirrored to ``$PORTSIDE_TEST_KEYRING_FILE``."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}

    def _load(self) -> None:
        path = os.environ.get(STORE_FILE_ENV)
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                self.data = json.load(fh)

    def _save(self) -> None:
        path = os.environ.get(STORE_FILE_ENV)
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)

    def get_password(self, service: str, username: str) -> str | None:
        self._load()
        return self.data.get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._load()
        self.data[f"{service}\0{username}"] = password
        self._save()

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        self._load()
        if self.data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save()


@pytest.fixture
def keyring_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PORTSIDE_SECRET_BACKEND", "keyring")
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    return tmp_path


@pytest.fixture
def use_keyring(keyring_path: Path) -> Any:
    """Install a keyring backend in this process for the test, then put the old one back."""
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def _helpers(tmp_path: Path) -> list[str]:
    bin_dir = tmp_path / "bin"
    return [CONSOLE_SCRIPT, install_helper(bin_dir, path_env=str(bin_dir)).path]


def _run(program: str, verb: str, stdin: str, env: dict[str, str]) -> tuple[int, str, str]:
    p = subprocess.run([program, verb], input=stdin, capture_output=True, text=True, env=env,
                       timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_the_switch_picks_the_keyring_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_SECRET_BACKEND", "keyring")
    assert isinstance(backends.open_backend(), KeyringLibStore)
    monkeypatch.setenv("PORTSIDE_SECRET_BACKEND", "secretservice")
    assert type(backends.open_backend()).__name__ == "SecretServiceStore"
    monkeypatch.setenv("PORTSIDE_SECRET_BACKEND", "pass")
    with pytest.raises(CredentialsError, match="'secretservice' or 'keyring'"):
        backends.open_backend()


def test_fail_backend_is_keyring_unavailable_and_stores_nothing(keyring_path: Path,
                                                                 use_keyring: Any) -> None:
    use_keyring(fail.Keyring())
    store = CredentialStore()
    assert isinstance(store.backend, KeyringLibStore)
    for call in (lambda: store.put("h.test:1", "u", "topsecret"), lambda: store.get("h.test:1"),
                 lambda: store.erase("h.test:1")):
        with pytest.raises(KeyringUnavailable, match="No usable OS keyring") as info:
            call()
        assert "keyring.backends.fail" in str(info.value)
        assert "never writes them to a file" in str(info.value)
    # No index, nothing anywhere but the empty per-user write lock.
    assert [(p.name, p.stat().st_size) for p in (keyring_path / "portside").iterdir()] == [
        ("credentials.lock", 0)]


def test_helper_with_the_fail_backend_says_so_plainly(keyring_path: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    payload = json.dumps({"ServerURL": "h.test:1", "Username": "u", "Secret": "topsecret"})
    for program in _helpers(keyring_path):
        for verb, stdin in (("store", payload), ("get", "h.test:1"), ("erase", "h.test:1")):
            status, out, err = _run(program, verb, stdin, env)
            assert status == 1, (program, verb, out, err)
            assert out.startswith("No usable OS keyring (keyring chose keyring.backends.fail)")
            assert err == "" and "topsecret" not in out
    assert [(p.name, p.stat().st_size) for p in (keyring_path / "portside").iterdir()] == [
        ("credentials.lock", 0)]


def test_store_get_erase_list_round_trip_in_process(keyring_path: Path, use_keyring: Any) -> None:
    backend = FileBackedKeyring()
    use_keyring(backend)
    store = CredentialStore()
    store.put("https://reg.test:5000/v2/", "alice", "pw1")
    store.put("docker.io", "<token>", "tok")
    assert json.loads(backend.data[f"{SERVICE}\0reg.test:5000"]) == {
        "ServerURL": "https://reg.test:5000/v2/", "Username": "alice", "Secret": "pw1"}
    login = store.get("reg.test:5000")
    assert login is not None and (login.username, login.secret) == ("alice", "pw1")
    assert store.logins() == {"reg.test:5000": "alice", "https://index.docker.io/v1/": "<token>"}
    assert store.erase("reg.test:5000") is True
    assert store.erase("reg.test:5000") is False
    assert store.get("reg.test:5000") is None
    assert store.logins() == {"https://index.docker.io/v1/": "<token>"}


def test_helper_round_trip_through_keyring(keyring_path: Path) -> None:
    secrets = keyring_path / "keyring.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{STORE_FILE_ENV: str(secrets)},
               PYTHON_KEYRING_BACKEND="tests.test_credentials_keyringlib.FileBackedKeyring")
    for program in _helpers(keyring_path):
        server = f"kr-{uuid.uuid4().hex[:8]}.test:5000"
        payload = json.dumps({"ServerURL": f"https://{server}", "Username": "bob",
                              "Secret": "s3cret"})
        assert _run(program, "store", payload, env) == (0, "", "")
        # The secret went through `keyring` into the backend, not into Portside's index.
        stored = json.loads(secrets.read_text())
        assert json.loads(stored[f"{SERVICE}\0{server}"]) == {
            "ServerURL": f"https://{server}", "Username": "bob", "Secret": "s3cret"}
        assert "s3cret" not in (keyring_path / "portside" / "credentials.json").read_text()
        status, out, _ = _run(program, "get", server, env)
        assert status == 0 and json.loads(out) == {"ServerURL": server, "Username": "bob",
                                                   "Secret": "s3cret"}
        status, out, _ = _run(program, "list", "", env)
        assert status == 0 and json.loads(out)[f"https://{server}"] == "bob"  # as stored
        assert _run(program, "erase", server, env) == (0, "", "")
        assert _run(program, "get", server, env)[:2] == (1, helper.NOT_FOUND + "\n")
        assert server not in json.loads(_run(program, "list", "", env)[1])
