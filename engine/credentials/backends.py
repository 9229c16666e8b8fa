"""Picks where secrets live: the Secret Service on Linux/BSD, the ``keyring`` library elsewhere.

On Linux there is deliberately no fallback to keyring's other backends: every desktop keyring
there (GNOME Keyring, KWallet ≥ 5.97, KeePassXC) speaks the Secret Service, and the others are
plaintext or "fail". No keyring → :class:`~engine.errors.KeyringUnavailable`, never a file.

``PORTSIDE_SECRET_BACKEND`` overrides the platform's choice: ``secretservice`` or ``keyring``
(the ``keyring`` library, which then picks its backend as usual, e.g. from
``PYTHON_KEYRING_BACKEND``). Tests use it to run the macOS/Windows code path on Linux; it also
lets a BSD or Linux user without a Secret Service try keyring's own backends (plaintext ones are
still refused).
"""

from __future__ import annotations

import os
import sys

BACKEND_ENV = "PORTSIDE_SECRET_BACKEND"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class SecretBackend(Protocol):
        """What a secret store offers; server keys come from ``servers.server_key``.

        ``set``'s ``url`` is the server URL as the client gave it; ``servers`` returns
        ``{url as stored: username}``, or ``None`` when the store cannot be enumerated.
        """

        name: str

        def get(self, server: str) -> tuple[str, str] | None: ...
        def set(self, server: str, username: str, secret: str,
                url: str | None = None) -> None: ...
        def delete(self, server: str) -> bool: ...
        def servers(self) -> dict[str, str] | None: ...


def open_backend() -> SecretBackend:
    """The secret store for this platform (cheap: connects lazily, per call).

    Raises:
        CredentialsError: ``PORTSIDE_SECRET_BACKEND`` names no known backend.
    """
    choice = os.environ.get(BACKEND_ENV, "").strip().lower()
    if choice not in ("", "secretservice", "keyring"):
        from engine.errors import CredentialsError

        raise CredentialsError(
            f"{BACKEND_ENV}={choice!r} is not a secret backend Portside knows; use "
            "'secretservice' or 'keyring', or unset it."
        )
    if choice == "secretservice" or (not choice and sys.platform.startswith(
            ("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))):
        from engine.credentials.secretservice import SecretServiceStore

        return SecretServiceStore()
    from engine.credentials.keyringlib import KeyringLibStore

    return KeyringLibStore()
