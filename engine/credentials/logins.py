"""Writing and listing logins: one code path for the helper and the app.

Data flow::

    store_login(url, user, secret) ─┐  under <config_dir>/credentials.lock (locks.py):
    erase_login(url)               ─┴─ keyring write (backends.py), then the index (index.py)
    list_logins()  ── keyring.servers() ──ok──> rewrite the index if it differs, return it
                           └─ cannot enumerate (Keychain …) / locked / unavailable
                              ──> the index as it is (never rewritten from a failed read);
                                  no valid index either → the keyring's error

The keyring is the truth wherever it can be enumerated: a missing, stale or corrupt index is
rebuilt from it. Servers are keyed by :func:`~engine.credentials.servers.server_key` (so
``https://host:5000`` and ``host:5000`` are one login) and listed under the URL exactly as the
last client gave it. Only light modules are imported: the helper's ``store`` and ``list`` run
this on every ``docker login``.
"""

from __future__ import annotations

import os

from engine.credentials.backends import open_backend
from engine.credentials.index import ServerIndex
from engine.credentials.locks import FileLock
from engine.credentials.paths import config_dir
from engine.credentials.servers import server_key
from engine.errors import CredentialsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.credentials.backends import SecretBackend

WRITE_LOCK = "credentials.lock"


def write_lock() -> FileLock:
    """The per-user lock every keyring write for a login is made under."""
    return FileLock(os.path.join(config_dir(), WRITE_LOCK))


def store_login(url: str, username: str, secret: str, *,
                backend: SecretBackend | None = None, index: ServerIndex | None = None) -> str:
    """Store (replace) the login for ``url``'s registry; returns its server key.

    Raises:
        ValueError: ``url`` is not a registry address (the message says what is).
        CredentialsError: the keyring refused (``KeyringUnavailable`` when locked or absent).
    """
    key = server_key(url)
    backend = backend if backend is not None else open_backend()
    index = index if index is not None else ServerIndex()
    with write_lock():
        backend.set(key, username, secret, url=url)
        index.put(url, username)
    return key


def erase_login(url: str, *, backend: SecretBackend | None = None,
                index: ServerIndex | None = None) -> bool:
    """Forget the login for ``url``'s registry; ``False`` when there was none."""
    key = server_key(url)
    backend = backend if backend is not None else open_backend()
    index = index if index is not None else ServerIndex()
    with write_lock():
        existed = backend.delete(key)
        index.remove(key)  # also heals an entry whose secret was removed elsewhere
    return existed


def list_logins(backend: SecretBackend | None = None,
                index: ServerIndex | None = None) -> dict[str, str]:
    """``{server URL as stored: username}`` for every login (never secrets).

    Raises:
        CredentialsError: the keyring cannot be read and the index is missing or corrupt
            (``KeyringUnavailable`` says why); nothing is written then.
    """
    index = index if index is not None else ServerIndex()
    failure: CredentialsError | None = None
    try:
        backend = backend if backend is not None else open_backend()
        listed = backend.servers()
    except CredentialsError as exc:
        listed, failure = None, exc
    if listed is None:
        if failure is None:
            return index.read()  # cannot enumerate: the index is the only list
        if not os.path.exists(index.path):
            raise failure
        try:
            return index.read()
        except CredentialsError:
            raise failure from None
    try:
        current: dict[str, str] | None = index.read()
    except CredentialsError:
        current = None
    if current != listed or not os.path.exists(index.path):
        try:
            index.replace(listed)
        except OSError:
            return listed  # a read-only config folder: the list is still right
    return listed
