"""GUI settings: a small JSON file under the user's config folder (never any secret).

Written atomically (temp file + ``os.replace``) with the previous version kept as ``.bak``; keys
this version does not know are preserved, so an older Portside never drops a newer one's settings.
A corrupt file is moved aside (``.corrupt``) and defaults are used, with a warning in the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

SECRET_WORDS = ("password", "secret", "token", "auth")


def default_path() -> Path:
    base = os.environ.get("PORTSIDE_CONFIG_DIR") or platformdirs.user_config_dir("portside")
    return Path(base) / "settings.json"


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
    version: int = 1
    #: the first-run wizard finished or was skipped (app/wizard/)
    first_run_done: bool = False
    #: the wizard page to resume at ("" = the start)
    wizard_step: str = ""
    #: show the window when Portside starts (else start in the tray)
    open_window_on_start: bool = True
    #: Portside starts when the user logs in (app/autostart.py keeps the OS entry in step)
    start_at_login: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path = field(default_factory=default_path)

    KNOWN = (
        "close_to_tray", "window_geometry", "last_view", "theme", "engine", "version",
        "first_run_done", "wizard_step", "open_window_on_start", "start_at_login",
    )

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or default_path()
        settings = cls(path=path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return settings
        except (OSError, ValueError) as exc:
            aside = path.with_suffix(".json.corrupt")
            log.warning("%s is unreadable (%s); moved to %s, using defaults", path, exc, aside)
            with contextlib.suppress(OSError):
                os.replace(path, aside)
            return settings
        if not isinstance(data, dict):
            return settings
        settings.close_to_tray = bool(data.get("close_to_tray", True))
        settings.window_geometry = str(data.get("window_geometry", ""))
        settings.last_view = str(data.get("last_view", "containers"))
        theme = data.get("theme", "system")
        settings.theme = theme if theme in ("system", "light", "dark") else "system"
        settings.engine = str(data.get("engine", "auto"))
        version = data.get("version", 1)
        settings.version = version if isinstance(version, int) else 1
        settings.first_run_done = bool(data.get("first_run_done", False))
        settings.wizard_step = str(data.get("wizard_step", ""))
        settings.open_window_on_start = bool(data.get("open_window_on_start", True))
        settings.start_at_login = bool(data.get("start_at_login", False))
        settings.extra = {k: v for k, v in data.items() if k not in cls.KNOWN}
        return settings

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update(
            close_to_tray=self.close_to_tray,
            window_geometry=self.window_geometry,
            last_view=self.last_view,
            theme=self.theme,
            engine=self.engine,
            version=self.version,
            first_run_done=self.first_run_done,
            wizard_step=self.wizard_step,
            open_window_on_start=self.open_window_on_start,
            start_at_login=self.start_at_login,
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
