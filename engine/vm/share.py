"""Host folders shared into the VM: the user's home folder, at the same path, over 9p.

The host side is QEMU's ``-virtfs local,...,security_model=none`` (built in ``qemu``); the guest
learns what to mount from ``PORTSIDE_SHARES='tag:path ...'`` in its fw_cfg config file (the image
contract) and mounts each tag at the same path as on the host, so ``docker run -v
$HOME/project:/app`` names a folder that exists in the VM. Files the VM writes belong to the user
who runs QEMU on the host (QEMU runs as that user; ``security_model=none`` does no mapping).

9p works on Linux and macOS QEMU; on Windows hosts QEMU has no ``-virtfs`` (virtiofs or a network
share is the way there), so :func:`default_shares` shares nothing and says why.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Characters that stay out of a guest path written into the shell-sourced config.
_UNSAFE = re.compile(r"[\s'\"\\:$`]")


@dataclass(frozen=True)
class Share:
    """A host folder shared into the VM over 9p, mounted at the same path in the guest."""

    tag: str
    host_path: str

    @property
    def guest_path(self) -> str:
        return self.host_path


def default_shares(
    home: Path | None = None, platform: str = sys.platform
) -> tuple[list[Share], str]:
    """(the shares, a note for the log when something cannot be shared)."""
    if platform == "win32":
        return [], "Folder sharing (9p) is not available with QEMU on Windows; nothing is shared."
    folder = (home or Path.home()).absolute()
    if _UNSAFE.search(str(folder)):
        return [], (
            f"Your home folder {folder} has a character (space, quote, colon, $) the VM's share "
            "list cannot carry; it is not shared."
        )
    if not folder.is_dir():
        return [], f"Your home folder {folder} does not exist; nothing is shared."
    return [Share("home", str(folder))], ""


def configured_shares(folders: Sequence[str]) -> tuple[list[Share], str]:
    """The shares ``vm.json`` lists (``shares``), each checked; (shares, a note on what was left
    out and why)."""
    shares: list[Share] = []
    notes: list[str] = []
    for folder in dict.fromkeys(folders):  # in order, each once
        path = Path(folder)
        if _UNSAFE.search(folder):
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
