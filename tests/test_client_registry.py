"""Registry operations through the real engine against the htpasswd-protected docker-registry."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from engine.client import EngineClient
from engine.errors import AuthDenied, NotFound, StreamError
from engine.registry import AuthConfig
from tests.support.registry_fixtures import RegistryServer

pytestmark = [pytest.mark.engine, pytest.mark.registry]


@pytest.fixture
async def client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        yield c


def _auth(registry: RegistryServer, password: str | None = None) -> AuthConfig:
    return AuthConfig(
        username=registry.username,
        password=registry.password if password is None else password,
        serveraddress=registry.host,
    )


async def test_auth_with_the_right_password(client: EngineClient, registry: RegistryServer) -> None:
    result = await client.auth(_auth(registry))
    assert result.status == "Login Succeeded"


async def test_auth_with_a_wrong_password_is_denied(
    client: EngineClient, registry: RegistryServer
) -> None:
    with pytest.raises(AuthDenied) as info:
        await client.auth(_auth(registry, password="wrong-" + uuid.uuid4().hex))
    assert registry.host in str(info.value) or "unauthorized" in str(info.value).lower()
    assert registry.password not in str(info.value)


async def test_push_then_pull_with_auth(
    client: EngineClient, registry: RegistryServer, test_image: str
) -> None:
    ref = f"{registry.host}/portside/client-{uuid.uuid4().hex[:8]}:v1"
    await client.images.tag(test_image, ref)
    try:
        pushed = [p async for p in client.images.push(ref, auth=_auth(registry))]
        digests = [p.aux["Digest"] for p in pushed if p.aux and "Digest" in p.aux]
        assert digests and digests[0].startswith("sha256:")
        # every layer ends pushed, or already there / mounted from another repository of the
        # shared session registry
        done = {
            p.id
            for p in pushed
            if p.status == "Pushed"
            or p.status == "Layer already exists"
            or p.status.startswith("Mounted from")
        }
        assert done and None not in done

        await client.images.remove(ref)
        with pytest.raises(NotFound):
            await client.images.inspect(ref)

        pulled = [p async for p in client.images.pull(ref, auth=_auth(registry))]
        statuses = " ".join(p.status for p in pulled)
        assert f"Digest: {digests[0]}" in statuses
        image = await client.images.inspect(ref)
        assert f"{ref.rsplit(':', 1)[0]}@{digests[0]}" in image.repo_digests
    finally:
        with contextlib.suppress(NotFound):
            await client.images.remove(ref)


async def test_push_without_credentials_fails_in_the_stream(
    client: EngineClient, registry: RegistryServer, test_image: str
) -> None:
    ref = f"{registry.host}/portside/noauth-{uuid.uuid4().hex[:8]}:v1"
    await client.images.tag(test_image, ref)
    try:
        with pytest.raises(StreamError, match=r"(?i)no basic auth credentials|unauthorized"):
            async for _ in client.images.push(ref):
                pass
    finally:
        await client.images.remove(ref)


async def test_pull_of_a_missing_tag_fails(client: EngineClient, registry: RegistryServer) -> None:
    ref = f"{registry.host}/portside/missing-{uuid.uuid4().hex[:8]}:nope"
    with pytest.raises((StreamError, NotFound)) as info:
        async for _ in client.images.pull(ref, auth=_auth(registry)):
            pass
    assert "not found" in str(info.value).lower() or "unknown" in str(info.value).lower()
