"""Session fixture for the keyring: the real Secret Service, checked to be usable and unlocked.

Tests run inside ``dbus-run-session`` with gnome-keyring started by ``scripts/with-keyring.sh``
(unlocked with an empty test password). Nothing is skipped: without a usable Secret Service the
fixture fails with a message that says how to run the suite.

``bare_session_bus`` is the opposite: a real D-Bus session bus of its own (a private
``dbus-daemon``) on which nothing provides ``org.freedesktop.secrets`` and nothing can be
activated, for tests of what Portside says when a desktop has no keyring.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NO_SECRET_SERVICE = (
    "No Secret Service: run the suite through scripts/test.sh (it starts "
    "gnome-keyring inside dbus-run-session)"
)


# No <servicedir>: a session bus like a desktop's, but nothing on it can be started on demand
# (Debian's default session config would activate gnome-keyring for org.freedesktop.secrets).
_BARE_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


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


@pytest.fixture
def bare_session_bus() -> Iterator[str]:
    """The address of a private session bus with no Secret Service (its dbus-daemon is ours)."""
    dbus_daemon = shutil.which("dbus-daemon")
    if dbus_daemon is None:
        pytest.fail("dbus-daemon is missing: install dbus", pytrace=False)
    folder = Path(tempfile.mkdtemp(prefix="pbus-", dir="/tmp"))  # socket paths are short
    config = folder / "bus.conf"
    config.write_text(_BARE_BUS_CONFIG.format(socket=folder / "bus"), encoding="utf-8")
    log = folder / "dbus-daemon.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [dbus_daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()  # printed once the bus listens
        if not address.startswith("unix:"):
            pytest.fail(
                f"the private dbus-daemon did not start: {log.read_text(errors='replace')}",
                pytrace=False,
            )
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
