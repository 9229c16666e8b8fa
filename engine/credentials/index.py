"""The non-secret index of stored logins: ``{server URL as stored: username}`` in a JSON file.

``docker-credential-portside list`` must work on every keyring backend, and some (Keychain,
Credential Manager) cannot enumerate by attribute, so Portside keeps the URL → user name map
beside its settings: ``<config_dir>/credentials.json`` (see :mod:`engine.credentials.paths`).
It never holds a secret. Keys are the URLs exactly as the client gave them (``list`` returns
them so, as the reference helpers do), at most one per registry
(:func:`engine.credentials.servers.server_key`). Where the keyring can be enumerated it is the
truth and this file only a cache that :func:`engine.credentials.logins.list_logins` rewrites.
Writes are atomic and serialised with an advisory lock, so concurrent helpers (parallel
``docker login``) cannot corrupt it.
"""

from __future__ import annotations

import json
import os

from engine.credentials.locks import FileLock
from engine.credentials.paths import atomic_write, config_dir
from engine.errors import CredentialsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

INDEX_NAME = "credentials.json"


class ServerIndex:
    """``{server: username}`` for every login Portside stores."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.path.join(config_dir(), INDEX_NAME)

    def read(self) -> dict[str, str]:
        """The index; empty when the file does not exist yet.

        Raises:
            CredentialsError: the file is not a JSON object of strings (message names it).
        """
        try:
            with open(self.path, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialsError(f"Cannot read the login index {self.path}: {exc}") from exc
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError as exc:
            raise CredentialsError(
                f"The login index {self.path} is corrupt ({exc}). It holds no secrets: delete "
                "it and Portside rebuilds it from the keyring."
            ) from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise CredentialsError(
                f"The login index {self.path} is not a JSON object of server → user name. "
                "It holds no secrets: delete it and Portside rebuilds it from the keyring."
            )
        return data

    def update(self, change: Callable[[dict[str, str]], None]) -> dict[str, str]:
        """Read, apply ``change`` in place, write back atomically; under an exclusive lock."""
        with FileLock(self.path + ".lock"):
            try:
                data = self.read()
            except CredentialsError:
                data = {}  # corrupt index: rebuilt from what we write now (it holds no secrets)
            change(data)
            body = json.dumps(data, indent=2, sort_keys=True) + "\n"
            atomic_write(self.path, body.encode("utf-8"))
            return data

    def put(self, url: str, username: str) -> None:
        """Record that ``url`` has a login for ``username`` (replacing other spellings of it)."""
        key = _key_of(url)

        def _set(d: dict[str, str]) -> None:
            for old in [u for u in d if _key_of(u) == key]:
                del d[old]
            d[url] = username

        self.update(_set)

    def remove(self, server: str) -> None:
        """Forget ``server`` under every spelling of it."""
        key = _key_of(server)

        def _drop(d: dict[str, str]) -> None:
            for old in [u for u in d if _key_of(u) == key]:
                del d[old]

        self.update(_drop)

    def replace(self, servers: dict[str, str]) -> None:
        """Replace the whole index (used when rebuilding it from the keyring)."""

        def _set(d: dict[str, str]) -> None:
            d.clear()
            d.update(servers)

        self.update(_set)


def _key_of(url: str) -> str:
    from engine.credentials.servers import server_key

    try:
        return server_key(url)
    except ValueError:
        return url
