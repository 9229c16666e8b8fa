"""The session's registry and keyring fixtures are real and guarded the way other tests rely on."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.registry_fixtures import RegistryServer


@pytest.mark.registry
def test_registry_refuses_anonymous_access(registry: RegistryServer) -> None:
    response = httpx.get(f"{registry.url}/v2/", timeout=5)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("basic")


@pytest.mark.registry
def test_registry_accepts_its_account(registry: RegistryServer) -> None:
    response = httpx.get(
        f"{registry.url}/v2/", auth=(registry.username, registry.password), timeout=5
    )
    assert response.status_code == 200
    assert response.headers["docker-distribution-api-version"] == "registry/2.0"


@pytest.mark.registry
def test_registry_refuses_a_wrong_password(registry: RegistryServer) -> None:
    response = httpx.get(
        f"{registry.url}/v2/", auth=(registry.username, registry.password + "x"), timeout=5
    )
    assert response.status_code == 401


@pytest.mark.registry
def test_registry_fields_are_consistent(registry: RegistryServer) -> None:
    assert registry.url == f"http://{registry.host}"
    assert registry.host.startswith("127.0.0.1:")
    assert registry.password not in repr(registry)
    catalog = httpx.get(
        f"{registry.url}/v2/_catalog", auth=(registry.username, registry.password), timeout=5
    )
    assert catalog.status_code == 200
    assert "repositories" in catalog.json()


@pytest.mark.keyring
def test_keyring_backend_round_trip(keyring_backend: Any) -> None:
    from keyring.backends import SecretService

    assert isinstance(keyring_backend, SecretService.Keyring)
    service = f"portside-test-{uuid.uuid4().hex}"
    keyring_backend.set_password(service, "alice", "päss wörd")
    try:
        assert keyring_backend.get_password(service, "alice") == "päss wörd"
    finally:
        keyring_backend.delete_password(service, "alice")
    assert keyring_backend.get_password(service, "alice") is None
