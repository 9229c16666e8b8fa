"""The app's sign-in path without the window: engine check, keyring, then pull and push with it.

What the Sign-in dialog and the image views do, driven headless against the real parts::

    client.auth(AuthConfig) ──engine──> htpasswd docker-registry   (wrong password: AuthDenied)
    CredentialStore.put_auth ──> gnome-keyring (+ the non-secret index in PORTSIDE_CONFIG_DIR)
    auth_for(reference) ──> X-Registry-Auth for client.images.push / pull
    CredentialStore.erase ──> auth_for is None, and the registry refuses the pull

The docker CLI's side of the same store is in ``test_credentials_docker_cli.py``; the engine
client's registry calls with hand-made credentials in ``test_client_registry.py``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.client import EngineClient
from engine.credentials.store import CredentialStore, auth_for
from engine.errors import AuthDenied, EngineError, NotFound
from engine.registry import AuthConfig
from tests.support.registry_fixtures import RegistryServer

pytestmark = [pytest.mark.engine, pytest.mark.registry, pytest.mark.keyring]


def _text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


@pytest.fixture
async def client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        yield c


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any,
          registry: RegistryServer) -> Iterator[CredentialStore]:
    """The store the app uses, with a private index; the registry's login removed afterwards."""
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    store = CredentialStore()
    store.erase(registry.host)  # the shared session keyring may hold one from another test
    yield store
    store.erase(registry.host)


async def test_sign_in_then_push_and_pull_with_the_stored_login(
    client: EngineClient, registry: RegistryServer, store: CredentialStore, test_image: str
) -> None:
    ref = f"{registry.host}/portside/signin-{uuid.uuid4().hex[:8]}:v1"

    wrong = AuthConfig(username=registry.username, password="wrong-" + uuid.uuid4().hex,
                       serveraddress=registry.host)
    with pytest.raises(AuthDenied):
        await client.auth(wrong)
    assert auth_for(ref) is None  # the dialog stores only what the engine accepted

    right = AuthConfig(username=registry.username, password=registry.password,
                       serveraddress=registry.host)
    assert (await client.auth(right)).status == "Login Succeeded"
    store.put_auth(right)
    assert store.logins()[registry.host] == registry.username
    stored = auth_for(ref)
    assert stored is not None
    assert (stored.username, stored.password) == (registry.username, registry.password)
    assert registry.password not in _text(store.index.path)  # the index never holds a secret

    await client.images.tag(test_image, ref)
    try:
        pushed = [p async for p in client.images.push(ref, auth=auth_for(ref))]
        digests = [str(p.aux["Digest"]) for p in pushed if p.aux and "Digest" in p.aux]
        assert digests and digests[0].startswith("sha256:")
        await client.images.remove(ref)

        _ = [p async for p in client.images.pull(ref, auth=auth_for(ref))]
        image = await client.images.inspect(ref)
        assert f"{ref.rsplit(':', 1)[0]}@{digests[0]}" in image.repo_digests
        await client.images.remove(ref)

        # Signed out: nothing to send, and the registry refuses the pull.
        assert store.erase(registry.host) is True
        assert auth_for(ref) is None and registry.host not in store.logins()
        with pytest.raises(EngineError, match=r"(?i)no basic auth credentials|unauthorized"):
            _ = [p async for p in client.images.pull(ref, auth=auth_for(ref))]
    finally:
        with contextlib.suppress(NotFound):
            await client.images.remove(ref)
