"""Which engine Portside runs for the user: the native ``dockerd`` or the Linux VM.

The app's setting ``engine`` is ``"native"``, ``"vm"`` or ``"auto"`` (the default). ``auto`` means
the native engine on Linux, where ``dockerd`` runs on the host, and the VM on macOS and Windows,
where nothing else can run a Linux engine. A setting that cannot work on this OS (``native`` on
macOS) falls back to the VM with a note for the log instead of leaving the app without an engine.
Pure: the OS is a parameter, so a test can ask as each OS would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

KINDS = ("native", "vm", "auto")


def engine_kind(setting: object = "auto", platform: str = sys.platform) -> tuple[str, str]:
    """(``"native"`` or ``"vm"``, a note for the log when the setting was not followed)."""
    linux = platform.startswith("linux")
    wanted = setting
    note = ""
    if not isinstance(wanted, str) or wanted not in KINDS:
        note = f"The setting engine={setting!r} is not one of {', '.join(KINDS)}; using auto."
        wanted = "auto"
    if wanted == "auto":
        return ("native" if linux else "vm"), note
    if wanted == "native" and not linux:
        return "vm", (
            f"The native engine needs Linux; on {platform} Portside runs its engine in a VM."
        )
    return wanted, note


#: Environment variable that picks the VM's API mode for one run (``ssh`` or ``tls``).
API_ENV = "PORTSIDE_VM_API"


def api_mode(
    setting: str | None = None, platform: str = sys.platform, env: Mapping[str, str] | None = None
) -> str:
    """How the host reaches the VM's engine API: ``ssh`` or ``tls``.

    ``ssh`` (Linux, macOS): an ssh forward of the guest's ``docker.sock`` onto a unix socket of
    the user's (mode 0600), so only the user reaches it. ``tls`` (Windows, where Python has no
    unix sockets, and on any OS by ``PORTSIDE_VM_API=tls`` or vm.json ``"api": "tls"``): dockerd
    listens with ``--tlsverify`` and QEMU forwards 127.0.0.1:PORT to it; only a client holding
    the VM's client certificate gets in. That mode also needs no other unix socket on the host:
    readiness comes from the serial console, QMP goes through a pipe (engine/vm/plan.py).
    On Windows ``ssh`` is not possible, so it is ``tls`` whatever the setting says.
    """
    env = os.environ if env is None else env
    wanted = env.get(API_ENV) or setting
    if platform == "win32" or wanted == "tls":
        return "tls"
    return "ssh"
