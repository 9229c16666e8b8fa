"""Picks where secrets live: the Secret Service on Linux/BSD, the ``keyring`` library elsewhere.

On Linux there is deliberately no fallback to keyring's other backends: every desktop keyring
there (GNOME Keyring, KWallet ≥ 5.97, KeePassXC) speaks the Secret Service, and the others are
plaintext or "fail". No keyring → :class:`~engine.errors.KeyringUnavailable`, never a file.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class SecretBackend(Protocol):
        """What a secret store offers; server keys come from ``servers.server_key``."""

        name: str

        def get(self, server: str) -> tuple[str, str] | None: ...
        def set(self, server: str, username: str, secret: str) -> None: ...
        def delete(self, server: str) -> bool: ...
        def servers(self) -> dict[str, str] | None: ...


def open_backend() -> SecretBackend:
    """The secret store for this platform (cheap: connects lazily, per call)."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly")):
        from engine.credentials.secretservice import SecretServiceStore

        return SecretServiceStore()
    from engine.credentials.keyringlib import KeyringLibStore

    return KeyringLibStore()
