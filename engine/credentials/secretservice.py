"""Registry secrets in the freedesktop Secret Service (gnome-keyring, KeePassXC, KWallet ≥ 5.97).

Talks to ``org.freedesktop.secrets`` over :mod:`engine.credentials.dbus` (no jeepney, no
secretstorage) so that ``docker-credential-portside get`` stays fast.

Stored items (stable; other tools may rely on them):

* collection: the ``default`` alias (normally the ``login`` keyring);
* label: ``Portside registry credentials for <server>``;
* attributes: ``xdg:schema=io.portside.RegistryCredentials``, ``server=<server key>`` (see
  :func:`engine.credentials.servers.server_key`), ``username=<user name or "<token>">``,
  ``url=<the server URL exactly as the client gave it>`` (what ``list`` returns, as the
  reference helpers do; items written before it existed list their ``server``);
* secret: the password or identity token, UTF-8, content type ``text/plain``.

Items are looked up by ``xdg:schema`` + ``server`` only, so storing a new user name for a server
replaces the old item. Secrets travel in a ``plain`` session: the session bus is private to the
user, as for libsecret's default. A locked collection is never unlocked here (that would need a
prompt): it raises :class:`~engine.errors.KeyringUnavailable`.
"""

from __future__ import annotations

from engine.credentials.dbus import Connection, DBusError
from engine.errors import CredentialsError, KeyringUnavailable

SCHEMA = "io.portside.RegistryCredentials"
BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
SERVICE = "org.freedesktop.Secret.Service"
ITEM = "org.freedesktop.Secret.Item"
COLLECTION = "org.freedesktop.Secret.Collection"
PROPS = "org.freedesktop.DBus.Properties"

UNAVAILABLE_HINT = (
    "Portside keeps registry passwords only in the OS keyring and never writes them to a file. "
    "Start a Secret Service keyring in your desktop session (GNOME Keyring, KWallet or "
    "KeePassXC with Secret Service enabled) and try again."
)
LOCKED_HINT = (
    "The keyring is locked. Unlock it (log in to your desktop session, or open "
    "Passwords and Keys and unlock the \"Login\" keyring), then try again."
)


def _translate(exc: DBusError) -> CredentialsError:
    """Map a D-Bus failure to the exception tree, with a message that says what to do."""
    if exc.name == "address":
        return KeyringUnavailable(
            f"DBUS_SESSION_BUS_ADDRESS is malformed: {exc.message}. Fix or unset it (your "
            "desktop session sets it; unset, Portside uses $XDG_RUNTIME_DIR/bus)."
        )
    if exc.name == "connect":
        return KeyringUnavailable(f"No keyring available: {exc.message}. {UNAVAILABLE_HINT}")
    if exc.name in ("org.freedesktop.DBus.Error.ServiceUnknown",
                    "org.freedesktop.DBus.Error.NameHasNoOwner",
                    "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
                    "org.freedesktop.DBus.Error.Spawn.ChildExited"):
        return KeyringUnavailable(
            f"No Secret Service is running on the D-Bus session bus ({exc.message or exc.name}). "
            + UNAVAILABLE_HINT
        )
    if exc.name == "org.freedesktop.Secret.Error.IsLocked":
        return KeyringUnavailable(LOCKED_HINT)
    return CredentialsError(f"The keyring refused the request: {exc}")


class SecretServiceStore:
    """Registry secrets in the Secret Service; one short-lived D-Bus connection per call.

    Methods raise :class:`~engine.errors.KeyringUnavailable` when there is no Secret Service or
    it is locked, and :class:`~engine.errors.CredentialsError` for other refusals.
    """

    name = "Secret Service"

    def __init__(self, address: str | None = None, *, timeout: float = 10.0) -> None:
        self._address = address
        self._timeout = timeout

    def _connect(self) -> Connection:
        try:
            return Connection(self._address, timeout=self._timeout)
        except DBusError as exc:
            raise _translate(exc) from exc

    @staticmethod
    def _search(conn: Connection, server: str) -> tuple[list[str], list[str]]:
        unlocked, locked = conn.call(BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems", "a{ss}",
                                     {"xdg:schema": SCHEMA, "server": server})
        return unlocked, locked

    def get(self, server: str) -> tuple[str, str] | None:
        """``(username, secret)`` stored for the server key, or ``None``."""
        try:
            with self._connect() as conn:
                # Open the session and search in one round trip.
                s_open = conn.send(BUS_NAME, SERVICE_PATH, SERVICE, "OpenSession", "sv",
                                   "plain", ("s", ""))
                s_search = conn.send(BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems", "a{ss}",
                                     {"xdg:schema": SCHEMA, "server": server})
                session = conn.wait(s_open)[1]
                unlocked, locked = conn.wait(s_search)
                if not unlocked:
                    if locked:
                        raise KeyringUnavailable(LOCKED_HINT)
                    return None
                item = sorted(unlocked)[0]
                s_secret = conn.send(BUS_NAME, item, ITEM, "GetSecret", "o", session)
                s_attrs = conn.send(BUS_NAME, item, PROPS, "Get", "ss", ITEM, "Attributes")
                _session, _params, value, _ctype = conn.wait(s_secret)[0]
                attributes = conn.wait(s_attrs)[0]
        except DBusError as exc:
            raise _translate(exc) from exc
        try:
            secret = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CredentialsError(
                f"The keyring item for {server} (schema {SCHEMA}) holds a secret that is not "
                f"UTF-8 text ({exc.reason} at byte {exc.start}), so it cannot be a registry "
                f"password: log in to {server} again to replace it."
            ) from exc
        return attributes.get("username", ""), secret

    def set(self, server: str, username: str, secret: str, url: str | None = None) -> None:
        """Store (or replace) the secret for the server key; ``url`` is how it was given."""
        attributes = {"xdg:schema": SCHEMA, "server": server, "username": username,
                      "url": url or server}
        label = f"Portside registry credentials for {server}"
        properties = {
            "org.freedesktop.Secret.Item.Label": ("s", label),
            "org.freedesktop.Secret.Item.Attributes": ("a{ss}", attributes),
        }
        try:
            with self._connect() as conn:
                s_open = conn.send(BUS_NAME, SERVICE_PATH, SERVICE, "OpenSession", "sv",
                                   "plain", ("s", ""))
                s_alias = conn.send(BUS_NAME, SERVICE_PATH, SERVICE, "ReadAlias", "s", "default")
                s_search = conn.send(BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems", "a{ss}",
                                     {"xdg:schema": SCHEMA, "server": server})
                session = conn.wait(s_open)[1]
                collection = conn.wait(s_alias)[0]
                old_unlocked, old_locked = conn.wait(s_search)
                if collection == "/":
                    raise KeyringUnavailable(
                        "The keyring has no default collection to store passwords in. Create "
                        "one (Passwords and Keys → New → Password Keyring, then set it as "
                        "default) and try again."
                    )
                if old_locked:
                    raise KeyringUnavailable(LOCKED_HINT)
                secret_struct = (session, b"", secret.encode("utf-8"), "text/plain")
                item, prompt = conn.call(BUS_NAME, collection, COLLECTION, "CreateItem",
                                         "a{sv}(oayays)b", properties, secret_struct, True)
                if prompt != "/" or item == "/":
                    conn.call(BUS_NAME, prompt, "org.freedesktop.Secret.Prompt", "Dismiss")
                    raise KeyringUnavailable(LOCKED_HINT)
                # Replace, don't duplicate: an item with another user name for this server
                # has different attributes, so CreateItem(replace=True) leaves it; drop it now.
                for old in old_unlocked:
                    if old != item:
                        _delete_if_there(conn, old)
        except DBusError as exc:
            raise _translate(exc) from exc

    def delete(self, server: str) -> bool:
        """Remove the secret for the server key; ``False`` when there was none."""
        try:
            with self._connect() as conn:
                unlocked, locked = self._search(conn, server)
                if locked:
                    raise KeyringUnavailable(LOCKED_HINT)
                for item in unlocked:
                    _delete_if_there(conn, item)
        except DBusError as exc:
            raise _translate(exc) from exc
        return bool(unlocked)

    def servers(self) -> dict[str, str]:
        """Every stored ``{url as stored: username}``, one per server key (``list`` reads it).

        Raises:
            KeyringUnavailable: some of Portside's items are locked, so the list would be
                incomplete (callers must not mistake it for "no logins").
        """
        by_key: dict[str, tuple[str, str]] = {}
        try:
            with self._connect() as conn:
                unlocked, locked = conn.call(BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems",
                                             "a{ss}", {"xdg:schema": SCHEMA})
                if locked:
                    raise KeyringUnavailable(LOCKED_HINT)
                # Sorted like get(): when duplicates exist, list names the one get returns.
                serials = [conn.send(BUS_NAME, item, PROPS, "Get", "ss", ITEM, "Attributes")
                           for item in sorted(unlocked)]
                for serial in serials:
                    attributes = conn.wait(serial)[0]
                    server = attributes.get("server")
                    if server and server not in by_key:
                        by_key[server] = (attributes.get("url") or server,
                                          attributes.get("username", ""))
        except DBusError as exc:
            raise _translate(exc) from exc
        return dict(by_key.values())


def _delete_if_there(conn: Connection, item: str) -> None:
    """Delete an item; one that is already gone (deleted by another client) is fine."""
    try:
        (prompt,) = conn.call(BUS_NAME, item, ITEM, "Delete")
    except DBusError as exc:
        if exc.name in ("org.freedesktop.DBus.Error.UnknownObject",
                        "org.freedesktop.DBus.Error.UnknownMethod",
                        "org.freedesktop.Secret.Error.NoSuchObject"):
            return
        raise
    if prompt != "/":
        conn.call(BUS_NAME, prompt, "org.freedesktop.Secret.Prompt", "Dismiss")
        raise KeyringUnavailable(LOCKED_HINT)
