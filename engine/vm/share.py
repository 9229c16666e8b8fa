"""Host folders shared into the VM (the home folder, over 9p) where ``docker run -v`` finds them.

Two servers, one guest protocol (9P2000.L; the guest mounts each tag, image contract):

- the ``ssh`` API mode (Linux, macOS): QEMU's own ``-virtfs local,...,security_model=none``
  (built in ``qemu``), mounted with ``trans=virtio``;
- the ``tls`` API mode (Windows always, Linux on request): QEMU for Windows has no ``-virtfs``,
  so each share is a virtio-serial port ``org.portside.9p.<tag>`` on a pipe chardev, served by
  Portside's own file server (``engine/vm/ninep``, a thread per share in the engine) and mounted
  with ``trans=fd`` on the port's device.

The guest learns what to mount from ``PORTSIDE_SHARES='tag:guestpath ...'`` in its fw_cfg config
file. The guest path is the host path on Linux and macOS, so ``docker run -v
$HOME/project:/app`` names a folder that exists in the VM; on Windows ``C:\\Users\\ann`` is
mounted at ``/c/Users/ann`` (lower-case drive letter, forward slashes: Docker Toolbox's
convention), so ``docker run -v /c/Users/ann/project:/app`` works. Files the VM writes belong to
the user who runs QEMU (or Portside, for the pipe server) on the host: neither maps owners.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Characters that stay out of a guest path written into the shell-sourced config.
_UNSAFE = re.compile(r"[\s'\"\\:$`]")
#: A Windows path with a drive letter (never an absolute POSIX path, which starts with /).
_WINDOWS_DRIVE = re.compile(r"^([A-Za-z]):(?:[\\/](.*))?$")


@dataclass(frozen=True)
class Share:
    """A host folder shared into the VM over 9p, mounted at :attr:`guest_path` in the guest."""

    tag: str
    host_path: str

    @property
    def guest_path(self) -> str:
        """Where the guest mounts it: the host path, or ``/c/Users/ann`` for a Windows
        ``C:\\Users\\ann``."""
        drive = _WINDOWS_DRIVE.match(self.host_path)
        if drive is None:
            return self.host_path
        rest = (drive.group(2) or "").replace("\\", "/").strip("/")
        return f"/{drive.group(1).lower()}" + (f"/{rest}" if rest else "")


def default_shares(
    home: Path | None = None, platform: str = sys.platform
) -> tuple[list[Share], str]:
    """(the shares, a note for the log when something cannot be shared). ``platform`` only
    words the note: every OS shares the home folder (on Windows through the pipe server)."""
    folder = (home or Path.home()).absolute()
    home_share = Share("home", str(folder))
    if _UNSAFE.search(home_share.guest_path):
        return [], (
            f"Your home folder {folder} has a character (space, quote, colon, $) the VM's share "
            "list cannot carry; it is not shared."
        )
    if not folder.is_dir():
        return [], f"Your home folder {folder} does not exist; nothing is shared."
    return [home_share], ""


def configured_shares(folders: Sequence[str]) -> tuple[list[Share], str]:
    """The shares ``vm.json`` lists (``shares``), each checked; (shares, a note on what was left
    out and why)."""
    shares: list[Share] = []
    notes: list[str] = []
    for folder in dict.fromkeys(folders):  # in order, each once
        path = Path(folder)
        if _UNSAFE.search(Share("", folder).guest_path):
            notes.append(f"{folder} has a character (space, quote, colon, $) the VM's share list "
                         "cannot carry; it is not shared")
        elif not path.is_dir():
            notes.append(f"{folder} is not a folder on this machine; it is not shared")
        else:
            shares.append(Share(f"share{len(shares)}", str(path)))
    return shares, "; ".join(notes) + ("." if notes else "")


def shares_setting(shares: Sequence[Share]) -> str:
    """The ``PORTSIDE_SHARES`` value: ``tag:guestpath`` pairs separated by spaces."""
    return " ".join(f"{s.tag}:{s.guest_path}" for s in shares)
