"""The docker CLI's ``config.json``: make ``credsStore`` Portside's helper, and undo it.

Honours ``DOCKER_CONFIG`` (else ``~/.docker``). Every edit:

* parses the file first; a corrupt file raises :class:`~engine.errors.DockerConfigError` with its
  path and is left byte-for-byte untouched;
* keeps every other key (``credHelpers``, ``proxies``, ``currentContext``, plugins' keys …), their
  order and every number exactly as written (:mod:`engine.credentials.jsonraw`: ``1e400`` must
  not come back as ``Infinity``, which the CLI cannot parse), and writes with tabs as the CLI does;
* edits *through* a symlinked ``config.json`` (dotfiles): the link's target is replaced
  atomically (temp file beside it, fsync, ``os.replace``) keeping its mode, and the link stays;
* writes a backup beside ``config.json`` first, ``config.json.portside-backup`` (mode 0600). A
  backup never adds a copy of a secret: it is the original's bytes when the file holds none,
  else the original with every ``auths`` secret left out (those stay in ``config.json`` or move
  into the keyring), so after a migration no copy remains in any file Portside wrote;
* runs under ``<config_dir>/docker-config.json.lock`` (:mod:`engine.credentials.locks`), so
  enabling many config files at once loses no remembered ``credsStore``.

``enable`` remembers the previous ``credsStore`` in Portside's settings
(``<config_dir>/docker-config.json``, keyed by the real path of the config file) and ``disable``
puts it back. Plaintext logins (``auths.<server>.auth``) are only moved into the keyring when the
caller says so: :func:`plaintext_logins` lists what would move, for the user to confirm.
:mod:`engine.credentials.toggle` adds the helper installation on top, for the GUI and the CLI.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.credentials import jsonraw
from engine.credentials.install import helper_status
from engine.credentials.locks import FileLock
from engine.credentials.paths import atomic_write, config_dir
from engine.errors import CredentialsError, DockerConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.credentials.store import CredentialStore

HELPER_SUFFIX = "portside"
BACKUP_SUFFIX = ".portside-backup"
STATE_NAME = "docker-config.json"
#: Moved out of an ``auths`` entry by a migration (the login now lives in the keyring).
_SECRET_FIELDS = ("auth", "password", "identitytoken", "username")
#: Never written into a backup.
_BACKUP_SECRETS = ("auth", "password", "identitytoken", "registrytoken")


def docker_config_dir() -> Path:
    """``$DOCKER_CONFIG`` or ``~/.docker``."""
    env = os.environ.get("DOCKER_CONFIG", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".docker"


def config_path(folder: str | Path | None = None) -> Path:
    """The ``config.json`` in ``folder`` (default :func:`docker_config_dir`)."""
    return (Path(folder) if folder is not None else docker_config_dir()) / "config.json"


@dataclass(frozen=True)
class PlaintextLogin:
    """A login the CLI keeps in plaintext in ``auths``. The secret is never shown in repr."""

    server: str
    username: str
    secret: str = field(repr=False)
    is_token: bool = False


@dataclass(frozen=True)
class ConfigStatus:
    """What ``config.json`` says about credentials.

    Attributes:
        path: the file.
        exists: whether it exists yet.
        creds_store: its ``credsStore`` (``None`` when unset).
        enabled: ``credsStore`` is Portside's helper.
        plaintext: servers whose secret sits in plaintext in the file.
        cred_helpers: per-registry ``credHelpers`` (these override ``credsStore``).
    """

    path: Path
    exists: bool
    creds_store: str | None
    enabled: bool
    plaintext: list[str]
    cred_helpers: dict[str, str]


@dataclass(frozen=True)
class EnableResult:
    """What :func:`enable` did.

    Attributes:
        backup: the backup written (``None`` if there was no file to back up).
        previous_store: the ``credsStore`` it replaced (remembered for :func:`disable`).
        migrated: servers whose plaintext secret moved into the keyring and out of the file.
        left_in_plaintext: plaintext logins not migrated (the CLI ignores them from now on:
            with ``credsStore`` set it asks the helper instead).
        path: the ``config.json`` edited; ``target`` is the file written (the same unless
            ``path`` is a symlink).
    """

    backup: Path | None
    previous_store: str | None
    migrated: list[str]
    left_in_plaintext: list[str]
    path: Path = Path()
    target: Path = Path()


@dataclass(frozen=True)
class DisableResult:
    """What :func:`restore` did.

    Attributes:
        changed: ``config.json`` was edited (``False`` when ``credsStore`` was not Portside's).
        restored_store: the ``credsStore`` now set (``None``: none, plaintext in the file).
        backup: the backup written before the edit, or ``None``.
        path: the ``config.json``; ``target`` the file written (differs for a symlink).
    """

    changed: bool
    restored_store: str | None
    backup: Path | None
    path: Path
    target: Path


def read_config(path: Path) -> dict[str, Any]:
    """Parse ``config.json``; ``{}`` when it does not exist.

    Raises:
        DockerConfigError: unreadable, not JSON, or not a JSON object (``path`` and reason).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DockerConfigError(str(path), exc.strerror or str(exc)) from exc
    if not raw.strip():
        return {}
    try:
        data = jsonraw.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DockerConfigError(str(path), f"not UTF-8 text: {exc}") from exc
    except ValueError as exc:
        raise DockerConfigError(str(path), f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DockerConfigError(str(path), "the top level is not a JSON object")
    for key in ("auths", "credHelpers"):
        if key in data and not isinstance(data[key], dict):
            raise DockerConfigError(str(path), f'"{key}" is not a JSON object')
    return data


def _decode_auth(server: str, entry: dict[str, Any]) -> PlaintextLogin | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return PlaintextLogin(server, "<token>", token, is_token=True)
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth + "=" * (-len(auth) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if sep and user:
            return PlaintextLogin(server, user, password)
    return None


def plaintext_logins(folder: str | Path | None = None) -> list[PlaintextLogin]:
    """Logins whose secret sits in plaintext in ``config.json`` (what a migration would move)."""
    return _plaintext(read_config(config_path(folder)))


def _plaintext(data: dict[str, Any]) -> list[PlaintextLogin]:
    out = []
    for server, entry in data.get("auths", {}).items():
        if isinstance(entry, dict):
            login = _decode_auth(server, entry)
            if login is not None:
                out.append(login)
    return out


def status(folder: str | Path | None = None) -> ConfigStatus:
    """The credential settings of ``config.json`` (raises DockerConfigError when corrupt)."""
    path = config_path(folder)
    data = read_config(path)
    store = data.get("credsStore")
    store = store if isinstance(store, str) and store else None
    helpers = {k: v for k, v in data.get("credHelpers", {}).items() if isinstance(v, str)}
    return ConfigStatus(path, path.exists(), store, store == HELPER_SUFFIX,
                        [p.server for p in plaintext_logins(folder)], helpers)


def _is_registry(server: str) -> bool:
    from engine.credentials.servers import server_key

    try:
        server_key(server)
    except ValueError:
        return False
    return True


def _state_path(name: str = STATE_NAME) -> Path:
    return Path(config_dir()) / name


def _lock() -> FileLock:
    return FileLock(str(Path(config_dir()) / (STATE_NAME + ".lock")))


def _target(path: Path) -> Path:
    """The file to write: ``path``, or where it points when it is a symlink (kept as a link)."""
    return Path(os.path.realpath(path))


def _read_state(
    name: str = STATE_NAME, remembers: str = "your previous credsStore"
) -> dict[str, Any]:
    """Portside's state file ``name`` (also cli_integration's): {} while there is none."""
    try:
        data = json.loads(_state_path(name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialsError(
            f"Portside's setting file {_state_path(name)} is unreadable ({exc}); delete it and "
            f"try again (it only remembers {remembers})."
        ) from exc
    return data if isinstance(data, dict) else {}


def _write_state(state: dict[str, Any], name: str = STATE_NAME) -> None:
    atomic_write(str(_state_path(name)), (json.dumps(state, indent=2) + "\n").encode("utf-8"))


def _write_config(path: Path, data: dict[str, Any]) -> Path:
    target = _target(path)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    try:
        atomic_write(str(target), (jsonraw.dumps(data) + "\n").encode("utf-8"), mode=mode)
    except OSError as exc:
        where = f"{path} (a link to {target})" if target != path else str(path)
        raise CredentialsError(
            f"Cannot write {where}: {exc.strerror or exc}. It was left as it was; check that "
            "you may write to that folder, then try again."
        ) from exc
    return target


def _has_secret(data: dict[str, Any]) -> bool:
    auths = data.get("auths", {})
    return any(isinstance(e, dict) and any(k in e for k in _BACKUP_SECRETS)
               for e in auths.values())


def _backup(path: Path, data: dict[str, Any]) -> Path | None:
    """Back up ``path`` beside it, never with a secret in it (see the module docstring)."""
    if not path.exists():
        return None
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if _has_secret(data):
        clean = copy.deepcopy(data)
        for entry in clean["auths"].values():
            if isinstance(entry, dict):
                for key in _BACKUP_SECRETS:
                    entry.pop(key, None)
        body = (jsonraw.dumps(clean) + "\n").encode("utf-8")
    else:
        body = path.read_bytes()
    atomic_write(str(backup), body, mode=0o600)
    return backup


def enable(folder: str | Path | None = None, *, migrate: bool = False,
           store: CredentialStore | None = None, require_helper: bool = True,
           path_env: str | None = None) -> EnableResult:
    """Set ``credsStore`` to ``portside``; with ``migrate``, move plaintext logins to the keyring.

    Raises:
        DockerConfigError: the file is corrupt (left untouched).
        CredentialsError: with ``require_helper``, PATH (``path_env``, by default the user's
            shell PATH from :func:`~engine.credentials.install.user_path`) does not find
            Portside's helper (the CLI would then fail every login and pull); the message says
            what to do.
        KeyringUnavailable: migrating without a usable keyring (nothing changed).
    """
    path = config_path(folder)
    read_config(path)  # a corrupt file fails before anything else happens
    if require_helper:
        found = helper_status(path_env)
        if not found.ours:
            raise CredentialsError(found.message)
    with _lock():
        data = read_config(path)
        previous = data.get("credsStore")
        previous = previous if isinstance(previous, str) and previous else None
        logins = _plaintext(data)
        migrated: list[str] = []
        if migrate and logins:
            if store is None:
                from engine.credentials.store import CredentialStore

                store = CredentialStore()
            for login in logins:  # keyring first: if it fails, the file is not touched
                if _is_registry(login.server):  # others stay where they are, listed as left
                    store.put(login.server, login.username, login.secret)
                    migrated.append(login.server)

        backup = _backup(path, data)
        for server in migrated:
            entry = data["auths"][server]
            for key in _SECRET_FIELDS:
                entry.pop(key, None)
        target = _target(path)
        if previous != HELPER_SUFFIX:
            state = _read_state()
            state[str(target)] = {"previous_credsStore": previous}
            _write_state(state)
        data["credsStore"] = HELPER_SUFFIX
        _write_config(path, data)
    left = [login.server for login in logins if login.server not in migrated]
    return EnableResult(backup, previous, migrated, left, path, target)


def remembered_store(folder: str | Path | None = None) -> tuple[bool, str | None]:
    """``(remembered, previous credsStore)``: what :func:`disable` would put back."""
    path = config_path(folder)
    state = _read_state()
    for key in (str(_target(path)), str(path.absolute())):
        entry = state.get(key)
        if isinstance(entry, dict):
            previous = entry.get("previous_credsStore")
            return True, previous if isinstance(previous, str) and previous else None
    return False, None


def restore(folder: str | Path | None = None) -> DisableResult:
    """Put back the ``credsStore`` that :func:`enable` replaced.

    If ``credsStore`` is no longer Portside's (someone changed it since), nothing is changed.
    """
    path = config_path(folder)
    with _lock():
        data = read_config(path)
        target = _target(path)
        current = data.get("credsStore")
        if current != HELPER_SUFFIX:
            return DisableResult(False, current if isinstance(current, str) else None, None,
                                 path, target)
        state = _read_state()
        keys = [str(target), str(path.absolute())]
        remembered: Any = next((state[k] for k in keys if k in state), {})
        previous = remembered.get("previous_credsStore") if isinstance(remembered, dict) else None
        previous = previous if isinstance(previous, str) and previous else None
        backup = _backup(path, data)
        if previous:
            data["credsStore"] = previous
        else:
            data.pop("credsStore", None)
        _write_config(path, data)
        for key in keys:
            state.pop(key, None)
        _write_state(state)
    return DisableResult(True, previous, backup, path, target)


def disable(folder: str | Path | None = None) -> str | None:
    """:func:`restore`, returning just the ``credsStore`` set now (``None``: plaintext)."""
    return restore(folder).restored_store
