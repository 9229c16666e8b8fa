"""Which engine Portside runs for the user: the native ``dockerd`` or the Linux VM.

The app's setting ``engine`` is ``"native"``, ``"vm"`` or ``"auto"`` (the default). ``auto`` means
the native engine on Linux, where ``dockerd`` runs on the host, and the VM on macOS and Windows,
where nothing else can run a Linux engine. A setting that cannot work on this OS (``native`` on
macOS) falls back to the VM with a note for the log instead of leaving the app without an engine.
Pure: the OS is a parameter, so a test can ask as each OS would.
"""

from __future__ import annotations

import sys

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


def api_transport(platform: str = sys.platform) -> str:
    """How the host side of the VM's engine API is offered: ``unix`` socket, ``npipe`` on Windows.

    Windows' docker CLI speaks named pipes; the ssh forward there needs a pipe-to-ssh relay,
    which Portside does not have yet (the VM engine refuses to start on Windows and says so).
    """
    return "npipe" if platform == "win32" else "unix"
