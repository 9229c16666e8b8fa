"""Registry secrets through the ``keyring`` library: macOS Keychain, Windows Credential Manager.

Used where there is no freedesktop Secret Service (everything but Linux/BSD, or wherever
``PORTSIDE_SECRET_BACKEND=keyring``; see :mod:`engine.credentials.backends`). Stored as
``service="Portside registry credentials"``, ``username=<server key>``, password = the JSON
``{"Username": …, "Secret": …}``, so one lookup by server returns both.

Backends that would keep secrets in plaintext (``keyrings.alt`` files), and keyring's "fail"
and "null" backends, are refused with :class:`~engine.errors.KeyringUnavailable`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from engine.errors import CredentialsError, KeyringUnavailable

SERVICE = "Portside registry credentials"
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _load_site() -> None:
    """Started by the fast launcher (``python -IS``): load site-packages before ``keyring``."""
    if sys.flags.no_site and "site" not in sys.modules:
        import site

        site.main()


def _keyring() -> Any:
    _load_site()
    try:
        import keyring
    except ImportError as exc:
        raise KeyringUnavailable(
            f"The Python package 'keyring' is missing ({exc}); reinstall Portside."
        ) from exc
    backend = keyring.get_keyring()
    inner = getattr(backend, "backends", None)
    candidates = list(inner) if inner is not None else [backend]
    usable = [b for b in candidates if not type(b).__module__.startswith(_REFUSED_MODULES)]
    if not usable:
        raise KeyringUnavailable(
            f"No usable OS keyring (keyring chose {type(backend).__module__}). Portside keeps "
            "registry passwords only in the OS keyring and never writes them to a file. Set up "
            "the OS keyring (Keychain on macOS, Credential Manager on Windows) or check "
            "PYTHON_KEYRING_BACKEND and keyring's keyringrc.cfg, then try again."
        )
    return backend


class KeyringLibStore:
    """Registry secrets via :mod:`keyring`; same interface as ``SecretServiceStore``."""

    name = "keyring"

    def _call(self, method: str, *args: str) -> Any:
        backend = _keyring()
        from keyring.errors import KeyringError, KeyringLocked, NoKeyringError

        try:
            return getattr(backend, method)(*args)
        except (NoKeyringError, KeyringLocked) as exc:
            raise KeyringUnavailable(f"The OS keyring is not available: {exc}") from exc
        except KeyringError as exc:
            raise CredentialsError(f"The OS keyring refused the request: {exc}") from exc

    def get(self, server: str) -> tuple[str, str] | None:
        raw = self._call("get_password", SERVICE, server)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return str(data["Username"]), str(data["Secret"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CredentialsError(
                f"The keyring entry for {server} is not Portside's format; sign out of "
                f"{server} and sign in again."
            ) from exc

    def set(self, server: str, username: str, secret: str, url: str | None = None) -> None:
        self._call("set_password", SERVICE, server, json.dumps(
            {"ServerURL": url or server, "Username": username, "Secret": secret}))

    def delete(self, server: str) -> bool:
        if self.get(server) is None:  # also loads site-packages under the fast launcher
            return False
        from keyring.errors import PasswordDeleteError

        try:
            self._call("delete_password", SERVICE, server)
        except PasswordDeleteError:
            return False
        return True

    def servers(self) -> dict[str, str] | None:
        """Keychain/Credential Manager cannot be enumerated here: the index is the only list."""
        return None
