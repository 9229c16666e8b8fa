"""GUI settings: a small versioned JSON file under the user's config folder (never any secret).

Data flow on :meth:`Settings.load`::

    settings.json --json--> dict --MIGRATIONS[v], v+1, ... until SETTINGS_VERSION--> fields + extra

* **Versions.** The file carries ``"version"``. Files written before versions existed have none
  and count as version 0. ``MIGRATIONS[n]`` turns a version-``n`` dict into a version-``n+1``
  one; they run in order on load (the original file is first copied to ``settings.v<n>.json`` so
  a migration can never lose anything). A file from a newer Portside (higher version) is read as
  it is, and keeps its version when written back.
* **Unknown keys** are kept in ``extra`` and written back, so an older Portside never drops a
  newer one's settings.
* **Corrupt files** (not JSON, not an object, or a migration that fails) are moved aside to
  ``settings.json.corrupt`` (or ``.corrupt-<time>`` when that exists: an earlier one is never
  overwritten), defaults are used, and :attr:`Settings.notices` says so; the main window shows
  the notices to the user (not only the log).
* **Writes** are atomic (temp file + ``os.replace``) with the previous file kept as ``.bak``.
  Keys that look like secrets are refused.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

SECRET_WORDS = ("password", "secret", "token", "auth")

#: the version this Portside writes
SETTINGS_VERSION = 1


def default_path() -> Path:
    base = os.environ.get("PORTSIDE_CONFIG_DIR") or platformdirs.user_config_dir("portside")
    return Path(base) / "settings.json"


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (no ``version`` key; Portside before the first-run wizard) -> 1.

    Someone with a settings file has used Portside already: the first-run wizard must not
    greet them as a new user, so ``first_run_done`` starts true for them.
    """
    out = dict(data)
    out.setdefault("first_run_done", True)
    out["version"] = 1
    return out


#: MIGRATIONS[n] turns a version-n dict into a version-(n+1) dict (pure; may raise on bad data)
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}


class SettingsFileError(ValueError):
    """The settings file cannot be used (not JSON, not an object, a failed migration)."""


def migrate(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``data`` brought up to :data:`SETTINGS_VERSION`; returns (new dict, version it had).

    Raises SettingsFileError when the version is not a whole number >= 0 or a step fails.
    """
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SettingsFileError(f'"version" is {version!r}, not a whole number')
    start = version
    while version < SETTINGS_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SettingsFileError(f"no migration from version {version}")
        try:
            data = step(data)
        except Exception as exc:
            raise SettingsFileError(f"migration {version}->{version + 1} failed: {exc}") from exc
        version += 1
        data["version"] = version
    return data, start


def _aside_path(path: Path) -> Path:
    aside = path.with_name(path.name + ".corrupt")
    if aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            n += 1
    return aside


def _bool(data: dict[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    return value if isinstance(value, bool) else default


def _str(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    return value if isinstance(value, str) else default


@dataclass
class Settings:
    """Settings the shell uses. ``extra`` keeps unknown keys as they were."""

    close_to_tray: bool = True
    window_geometry: str = ""
    last_view: str = "containers"
    #: "system", "light" or "dark" (app.theme.MODES); unknown values mean "system"
    theme: str = "system"
    #: "native", "vm" or "auto" (native on Linux, the VM elsewhere; engine/vm/choice.py)
    engine: str = "auto"
    #: the settings file's format version (SETTINGS_VERSION when written by this Portside)
    version: int = SETTINGS_VERSION
    #: the first-run wizard finished or was skipped (app/wizard/)
    first_run_done: bool = False
    #: the wizard page to resume at ("" = the start)
    wizard_step: str = ""
    #: show the window when Portside starts (else start in the tray)
    open_window_on_start: bool = True
    #: Portside starts when the user logs in (app/autostart.py keeps the OS entry in step)
    start_at_login: bool = False
    #: the engines-list entry the app uses (app/engines; "" = by --host/DOCKER_HOST/``engine``)
    engine_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path = field(default_factory=default_path)
    #: what the user must be told about this file (moved aside, ...); never written
    notices: list[str] = field(default_factory=list, compare=False)

    KNOWN = (
        "close_to_tray", "window_geometry", "last_view", "theme", "engine", "version",
        "first_run_done", "wizard_step", "open_window_on_start", "start_at_login",
        "engine_id",
    )

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read, migrate and return the settings; never raises for a bad file (see module doc)."""
        path = path or default_path()
        settings = cls(path=path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return settings
        except OSError as exc:
            # unreadable (permissions, a folder in its place): leave it where it is, say so
            settings.notices.append(
                f"Portside could not read its settings ({path}: {exc.strerror or exc}); "
                "it uses the defaults this time and will try to write the file when you "
                "change a setting."
            )
            log.warning("%s is unreadable (%s); using defaults", path, exc)
            return settings
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise SettingsFileError(f"it holds a JSON {type(data).__name__}, not an object")
            data, old_version = migrate(data)
        except (ValueError, UnicodeDecodeError) as exc:
            settings._move_aside(exc)
            return settings
        if old_version < SETTINGS_VERSION:
            settings._keep_pre_migration_copy(raw, old_version)
        settings._fill(data)
        return settings

    def _fill(self, data: dict[str, Any]) -> None:
        self.close_to_tray = _bool(data, "close_to_tray", True)
        self.window_geometry = _str(data, "window_geometry", "")
        self.last_view = _str(data, "last_view", "containers")
        theme = data.get("theme", "system")
        self.theme = theme if theme in ("system", "light", "dark") else "system"
        self.engine = _str(data, "engine", "auto")
        self.version = int(data["version"])
        self.first_run_done = _bool(data, "first_run_done", False)
        self.wizard_step = _str(data, "wizard_step", "")
        self.open_window_on_start = _bool(data, "open_window_on_start", True)
        self.start_at_login = _bool(data, "start_at_login", False)
        self.engine_id = _str(data, "engine_id", "")
        self.extra = {k: v for k, v in data.items() if k not in self.KNOWN}

    def _move_aside(self, exc: Exception) -> None:
        aside = _aside_path(self.path)
        reason = str(exc) if isinstance(exc, SettingsFileError) else f"not valid JSON: {exc}"
        try:
            os.replace(self.path, aside)
        except OSError as move_exc:
            log.warning("could not move %s aside: %s", self.path, move_exc)
            self.notices.append(
                f"Your settings file {self.path} is damaged ({reason}) and could not be moved "
                f"aside ({move_exc.strerror or move_exc}). Portside uses the default settings."
            )
            return
        log.warning("%s is unusable (%s); moved to %s, using defaults", self.path, reason, aside)
        self.notices.append(
            f"Your settings file was damaged ({reason}). Portside moved it to {aside} and uses "
            "the default settings; nothing else was changed. Copy any value you need back from "
            "that file, or delete it."
        )

    def _keep_pre_migration_copy(self, raw: bytes, old_version: int) -> None:
        copy = self.path.with_name(f"settings.v{old_version}.json")
        if copy.exists():
            return
        try:
            copy.write_bytes(raw)
        except OSError as exc:
            log.warning("could not keep %s before migrating: %s", copy, exc)
        else:
            log.info("settings migrated from version %d; the old file is in %s", old_version, copy)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update(
            close_to_tray=self.close_to_tray,
            window_geometry=self.window_geometry,
            last_view=self.last_view,
            theme=self.theme,
            engine=self.engine,
            version=max(self.version, SETTINGS_VERSION),
            first_run_done=self.first_run_done,
            wizard_step=self.wizard_step,
            open_window_on_start=self.open_window_on_start,
            start_at_login=self.start_at_login,
            engine_id=self.engine_id,
        )
        for key in data:
            if any(word in key.lower() for word in SECRET_WORDS):
                raise ValueError(f"refusing to write {key!r} to {self.path}: no secrets here")
        return data

    def save(self) -> None:
        data = self.to_dict()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            backup = self.path.with_suffix(".json.bak")
            try:
                backup.write_bytes(self.path.read_bytes())
            except OSError as exc:
                log.warning("could not back up %s: %s", self.path, exc)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
