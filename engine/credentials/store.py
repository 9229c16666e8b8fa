"""Portside's credential store API for the app: sign-in, sign-out, the accounts list, auth_for.

The same data the ``docker-credential-portside`` helper serves (keyring + non-secret index), so
a login made in the GUI is used by ``docker pull`` and one made by ``docker login`` shows up in
the accounts list. All calls are blocking but short (one D-Bus exchange, or one keyring call);
the GUI runs them through ``asyncio.to_thread``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.credentials.backends import open_backend
from engine.credentials.index import ServerIndex
from engine.credentials.logins import erase_login, list_logins, store_login
from engine.credentials.servers import HUB_SERVER, server_key
from engine.registry import AuthConfig, parse_reference

TOKEN_USERNAME = "<token>"
"""The user name the docker CLI stores an identity token under (``native_store.go``)."""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.credentials.backends import SecretBackend

__all__ = [
    "HUB_SERVER",
    "TOKEN_USERNAME",
    "CredentialStore",
    "StoredLogin",
    "auth_for",
    "list_logins",
]


@dataclass(frozen=True)
class StoredLogin:
    """One stored login. ``secret`` is a password, or an identity token when ``is_token``."""

    server: str
    username: str
    secret: str = field(repr=False)

    @property
    def is_token(self) -> bool:
        return self.username == TOKEN_USERNAME

    def to_auth(self) -> AuthConfig:
        """The engine's ``AuthConfig`` for X-Registry-Auth."""
        if self.is_token:
            return AuthConfig(serveraddress=self.server, identitytoken=self.secret)
        return AuthConfig(username=self.username, password=self.secret,
                          serveraddress=self.server)


class CredentialStore:
    """Logins in the OS keyring plus the ``{server: username}`` index.

    Every method raises :class:`~engine.errors.KeyringUnavailable` when there is no usable
    keyring (nothing is ever written in plaintext instead), ``ValueError`` for a malformed
    server address.
    """

    def __init__(self, backend: SecretBackend | None = None,
                 index: ServerIndex | None = None) -> None:
        self.backend = backend if backend is not None else open_backend()
        self.index = index if index is not None else ServerIndex()

    def get(self, server: str) -> StoredLogin | None:
        """The login for a server (any spelling: ``https://host:5000``, ``host:5000``)."""
        key = server_key(server)
        found = self.backend.get(key)
        if found is None:
            return None
        return StoredLogin(key, found[0], found[1])

    def put(self, server: str, username: str, secret: str) -> StoredLogin:
        """Store a login (replacing any other for that server); returns what was stored."""
        if not username:
            raise ValueError("a user name is needed to store a login")
        key = store_login(server.strip(), username, secret, backend=self.backend,
                          index=self.index)
        return StoredLogin(key, username, secret)

    def put_auth(self, auth: AuthConfig) -> StoredLogin:
        """Store an ``AuthConfig``; an identity token is stored as the CLI does ("<token>")."""
        server = auth.serveraddress or HUB_SERVER
        if auth.identitytoken:
            return self.put(server, TOKEN_USERNAME, auth.identitytoken)
        return self.put(server, auth.username, auth.password)

    def erase(self, server: str) -> bool:
        """Forget the login for a server; ``False`` if there was none."""
        return erase_login(server, backend=self.backend, index=self.index)

    def logins(self) -> dict[str, str]:
        """``{server key: username}`` of every stored login (never secrets).

        Keys are normalised (:func:`~engine.credentials.servers.server_key`; Docker Hub is
        :data:`HUB_SERVER`), unlike the helper's ``list``, which returns URLs as stored.
        """
        return {_key_or_self(url): user
                for url, user in list_logins(self.backend, self.index).items()}

    def hub_user(self) -> str | None:
        """The signed-in Docker Hub user name, or ``None``."""
        return self.logins().get(HUB_SERVER)


def _key_or_self(url: str) -> str:
    try:
        return server_key(url)
    except ValueError:
        return url


def auth_for(server_or_reference: str, store: CredentialStore | None = None
             ) -> AuthConfig | None:
    """Stored credentials for a registry, or for the registry of an image reference.

    ``"localhost:5000/team/app:1"``, ``"busybox"`` (Docker Hub), ``"https://host:5000"`` and
    ``"host:5000"`` all work. ``None`` when nothing is stored for that registry. Raises
    :class:`~engine.errors.KeyringUnavailable` when the keyring cannot be read, ``ValueError``
    when the text is neither a registry address nor an image reference.
    """
    text = server_or_reference.strip()
    server: str
    if "://" in text:
        server = server_key(text)
    else:
        try:
            server = parse_reference(text).auth_server
        except ValueError:
            server = server_key(text)
    store = store if store is not None else CredentialStore()
    login = store.get(server)
    return login.to_auth() if login is not None else None
