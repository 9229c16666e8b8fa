"""The "Use for the docker CLI" switch: one implementation for the Accounts view and the CLI.

Data flow (everything blocking and short; the GUI runs it through ``asyncio.to_thread``)::

    turn_on(migrate)  ─ install.user_path()          the PATH the user's terminals have
                      ─ install.install_helper()     the fast launcher in a user bin folder
                        └─ not on that PATH → stop: config.json untouched, say what to add
                      ─ dockerconfig.enable()        backup, credsStore, optional migration
    turn_off()        ─ dockerconfig.restore()       the previous credsStore, backup
    describe()        ─ dockerconfig.status() + install.helper_status()

Each returns a report whose ``message`` is the paragraph the GUI shows and whose ``changes``
are the lines ``portside credentials`` prints: what was changed, where the backup is. Reports
name servers and files, never secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.credentials import dockerconfig
from engine.credentials.install import helper_status, install_helper, user_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.credentials.install import HelperStatus
    from engine.credentials.store import CredentialStore

GUI_RETRY = "Then choose “Use for the docker CLI” again."
CLI_RETRY = "Then run `portside credentials enable` again."


@dataclass(frozen=True)
class SwitchReport:
    """What :func:`turn_on` or :func:`turn_off` did.

    Attributes:
        changed: ``config.json`` was edited.
        message: one paragraph for people (the Accounts view's note).
        changes: one line per thing done, for the CLI (files, backup, servers moved).
        config: the ``config.json``; ``backup`` the backup written before the edit, or None.
        store_before, store_after: ``credsStore`` before and after (``None``: unset).
        migrated: servers moved into the keyring; ``left_in_plaintext`` those not moved.
    """

    changed: bool
    message: str
    config: Path
    changes: list[str] = field(default_factory=list)
    backup: Path | None = None
    store_before: str | None = None
    store_after: str | None = None
    migrated: list[str] = field(default_factory=list)
    left_in_plaintext: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CliStatus:
    """Whether the docker CLI uses Portside's keyring, as a sentence and as facts.

    Attributes:
        text: the sentence the Accounts view shows.
        working: ``credsStore`` is Portside's and the user's shell PATH finds our helper.
        configured: ``credsStore`` is Portside's.
        config: what config.json says (``None`` when it could not be read: see ``text``).
        helper: where the user's shell PATH finds ``docker-credential-portside``.
    """

    text: str
    working: bool
    configured: bool
    config: dockerconfig.ConfigStatus | None
    helper: HelperStatus | None


def _quoted(store: str | None) -> str:
    return f"“{store}”" if store else "plaintext in config.json"


def _file_line(path: Path, target: Path) -> str:
    linked = f" (a symlink: wrote its target {target}, the link is kept)" if target != path \
        else ""
    return f"{path}{linked}"


def turn_on(*, migrate: bool, store: CredentialStore | None = None,
            folder: str | Path | None = None, path_env: str | None = None,
            retry: str = CLI_RETRY) -> SwitchReport:
    """Install the helper on the user's PATH, then make ``credsStore`` Portside's.

    ``migrate`` moves plaintext logins from config.json into the keyring (the caller asks the
    user first). When the shell cannot find the helper, config.json is left as it is (the CLI
    would fail every pull) and ``changed`` is False; ``retry`` ends that message.

    Raises:
        CredentialsError: a corrupt config.json (``DockerConfigError``, untouched), no usable
            keyring for the migration (``KeyringUnavailable``, nothing changed), or the helper
            cannot be installed.
    """
    config = dockerconfig.config_path(folder)
    dockerconfig.read_config(config)  # a corrupt file fails before the helper is installed
    path_env = user_path() if path_env is None else path_env
    installed = install_helper(path_env=path_env)
    changes = [f"Installed the credential helper at {installed.path}."]
    if not installed.on_path:
        message = (f"Installed the helper at {installed.path}, but your shell cannot find it "
                   f"yet, so the docker CLI settings were not changed. {installed.hint} {retry}")
        return SwitchReport(False, message, config, [*changes, message])
    result = dockerconfig.enable(folder, migrate=migrate, store=store, path_env=path_env)
    if result.previous_store == dockerconfig.HELPER_SUFFIX:
        changes.append(f"{_file_line(result.path, result.target)}: credsStore was already "
                       "“portside”.")
    else:
        changes.append(f"Changed {_file_line(result.path, result.target)}: credsStore "
                       f"{_quoted(result.previous_store)} → “portside” (remembered for "
                       "turning it off).")
    if result.backup is not None:
        changes.append(f"Backup of the previous file (without secrets): {result.backup}")
    if result.migrated:
        changes.append(f"Moved {len(result.migrated)} login(s) into the keyring and out of "
                       f"config.json: {', '.join(result.migrated)}.")
    if result.left_in_plaintext:
        changes.append("Left in plaintext in config.json, where the docker CLI no longer "
                       f"looks: {', '.join(result.left_in_plaintext)} (enable --migrate moves "
                       "them into the keyring).")
    note = installed.hint
    if result.migrated:
        note += f" Moved {len(result.migrated)} login(s) into the keyring."
    return SwitchReport(True, note.strip(), result.path, changes, result.backup,
                        result.previous_store, dockerconfig.HELPER_SUFFIX, result.migrated,
                        result.left_in_plaintext)


def turn_off(*, folder: str | Path | None = None) -> SwitchReport:
    """Put back the ``credsStore`` Portside replaced (nothing changes if it is not Portside's).

    Raises:
        DockerConfigError: a corrupt config.json (left untouched).
    """
    result = dockerconfig.restore(folder)
    if not result.changed:
        message = (f"The docker CLI does not use Portside's keyring (it keeps its logins in "
                   f"{_quoted(result.restored_store)}); nothing was changed.")
        return SwitchReport(False, message, result.path, [message],
                            store_before=result.restored_store,
                            store_after=result.restored_store)
    message = (f"The docker CLI no longer uses Portside's keyring; it keeps its logins in "
               f"{_quoted(result.restored_store)} again. Logins stay in Portside's keyring for "
               "Portside itself.")
    changes = [f"Changed {_file_line(result.path, result.target)}: credsStore “portside” → "
               f"{_quoted(result.restored_store)}."]
    if result.backup is not None:
        changes.append(f"Backup of the previous file (without secrets): {result.backup}")
    changes.append(message)
    return SwitchReport(True, message, result.path, changes, result.backup,
                        dockerconfig.HELPER_SUFFIX, result.restored_store)


def describe(folder: str | Path | None = None, path_env: str | None = None) -> CliStatus:
    """Whether the docker CLI keeps its logins in Portside's keyring, and finds the helper."""
    from engine.errors import CredentialsError

    try:
        status = dockerconfig.status(folder)
    except CredentialsError as exc:
        return CliStatus(str(exc), False, False, None, None)
    helper = helper_status(path_env)
    if status.enabled and helper.ours:
        text = "The docker CLI keeps its logins in Portside's keyring."
        if not helper.fast:
            text += " " + helper.message
        return CliStatus(text, True, True, status, helper)
    if status.enabled:
        return CliStatus(f"The docker CLI is set to use Portside's keyring, but "
                         f"{helper.message}", False, True, status, helper)
    return CliStatus(f"The docker CLI keeps its logins in {_quoted(status.creds_store)}.",
                     False, False, status, helper)
