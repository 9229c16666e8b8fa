"""Session fixture for the keyring: the real Secret Service, checked to be usable and unlocked.

Tests run inside ``dbus-run-session`` with gnome-keyring started by ``scripts/with-keyring.sh``
(unlocked with an empty test password). Nothing is skipped: without a usable Secret Service the
fixture fails with a message that says how to run the suite.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

NO_SECRET_SERVICE = (
    "No Secret Service: run the suite through scripts/test.sh (it starts "
    "gnome-keyring inside dbus-run-session)"
)


def _check_round_trip(backend: Any) -> None:
    """Store, read back and delete a secret under a unique service name."""
    service = f"portside-test-probe-{uuid.uuid4().hex}"
    secret = uuid.uuid4().hex
    backend.set_password(service, "probe", secret)
    try:
        got = backend.get_password(service, "probe")
    finally:
        backend.delete_password(service, "probe")
    if got != secret:
        raise RuntimeError("the secret read back differs from the one stored")
    if backend.get_password(service, "probe") is not None:
        raise RuntimeError("the probe secret is still there after deleting it")


@pytest.fixture(scope="session")
def keyring_backend() -> Any:
    """The unlocked Secret Service backend (``keyring.backends.SecretService.Keyring``)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail(f"{NO_SECRET_SERVICE} (DBUS_SESSION_BUS_ADDRESS is not set)", pytrace=False)
    try:
        from keyring.backends import SecretService
    except Exception as exc:  # secretstorage/jeepney missing or broken
        pytest.fail(f"{NO_SECRET_SERVICE} (cannot load the backend: {exc})", pytrace=False)
    backend = SecretService.Keyring()
    try:
        # priority raises when secretstorage is missing or no Secret Service answers on the bus.
        backend.priority  # noqa: B018
        _check_round_trip(backend)
    except Exception as exc:
        pytest.fail(f"{NO_SECRET_SERVICE} ({type(exc).__name__}: {exc})", pytrace=False)
    return backend
