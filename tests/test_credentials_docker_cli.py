"""The real docker CLI with ``credsStore: portside``: login, push, rmi, pull, logout.

Isolated: a private DOCKER_CONFIG and Portside config folder, the session engine and the
htpasswd registry; PATH finds docker-credential-portside in the venv's bin folder.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from engine.client import EngineClient
from engine.credentials import dockerconfig
from engine.credentials.store import CredentialStore, auth_for
from engine.errors import EngineError
from tests.support.engine_fixtures import DockerCLI

pytestmark = [pytest.mark.engine, pytest.mark.registry, pytest.mark.keyring]

VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture
def cli(engine_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        keyring_backend: Any) -> DockerCLI:
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_dir))
    (docker_dir / "config.json").write_text(json.dumps({"detachKeys": "ctrl-e,e"}))
    dockerconfig.enable(docker_dir, path_env=os.environ["PATH"])  # the PATH docker runs with
    return DockerCLI(engine_endpoint, docker_dir)


async def test_login_push_rmi_pull_logout_with_the_keyring(
    cli: DockerCLI, registry: Any, test_image: str, engine_endpoint: str
) -> None:
    store = CredentialStore()
    ref = f"{registry.host}/portside-cred-{uuid.uuid4().hex[:6]}/busybox:1"
    config = cli.config_dir / "config.json"

    wrong = cli("login", "-u", registry.username, "--password-stdin", registry.host,
                input="wrong-password", check=False)
    assert wrong.returncode != 0
    assert store.get(registry.host) is None

    login = cli("login", "-u", registry.username, "--password-stdin", registry.host,
                input=registry.password)
    assert "Login Succeeded" in login.stdout
    stored = store.get(f"http://{registry.host}")
    assert stored is not None
    assert (stored.username, stored.secret) == (registry.username, registry.password)
    text = config.read_text()
    assert registry.password not in text
    data = json.loads(text)
    assert data["credsStore"] == "portside" and data["detachKeys"] == "ctrl-e,e"
    assert data["auths"][registry.host] == {}  # the CLI's own marker, no secret
    assert store.logins()[registry.host] == registry.username

    cli("tag", test_image, ref)
    cli("push", ref)
    cli("rmi", ref)
    cli("pull", ref)

    # The app's path: auth_for(reference) → X-Registry-Auth through the engine client.
    auth = auth_for(ref)
    assert auth is not None and auth.password == registry.password
    cli("rmi", ref)
    async with EngineClient(engine_endpoint) as client:
        events = [p async for p in client.images.pull(ref, auth=auth)]
        assert events, "the pull produced no progress"
        cli("rmi", ref)
        with pytest.raises(EngineError, match=r"no basic auth credentials|unauthorized"):
            _ = [p async for p in client.images.pull(ref)]  # no credentials → refused

    logout = cli("logout", registry.host)
    assert logout.returncode == 0
    assert store.get(registry.host) is None
    assert registry.host not in store.logins()
    denied = cli("pull", ref, check=False)
    assert denied.returncode != 0
    assert "no basic auth credentials" in denied.stderr or "unauthorized" in denied.stderr
