"""Reset to factory defaults: the settings back to their defaults, the old file kept (no Qt).

Data flow: the live :class:`app.settings.Settings` object the window shares is reset *in place*
(so the window's later saves, e.g. its geometry on quit, write the defaults and not the old
values), after a copy of the file is kept as ``settings.before-reset-<date>-<time>.json`` next to
it (never overwriting an earlier one). ``first_run_done`` is False again, so the first-run guide
opens at the next start. Start-at-login goes back to off, so the OS entry is removed too.

Not touched: the engine's data and ``daemon.json`` (Purge data does that), the docker CLI's
configuration and context, the logins in the keyring.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ResetResult:
    """What a reset did: where the old settings are, what else changed."""

    settings_file: Path
    backup: Path | None
    notes: list[str] = field(default_factory=list)


def backup_path(settings_file: Path, now: float | None = None) -> Path:
    """A name for the copy that no earlier copy has."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    candidate = settings_file.with_name(f"settings.before-reset-{stamp}.json")
    n = 1
    while candidate.exists():
        n += 1
        candidate = settings_file.with_name(f"settings.before-reset-{stamp}-{n}.json")
    return candidate


def reset_settings(settings: Settings, *, autostart_off: bool = True) -> ResetResult:
    """Reset ``settings`` (and its file) to the defaults; raises OSError if it cannot be saved."""
    path = settings.path
    backup: Path | None = None
    if path.exists():
        backup = backup_path(path)
        shutil.copy2(path, backup)
    defaults = Settings(path=path)
    for f in dataclasses.fields(Settings):
        if f.name not in ("path", "notices"):
            setattr(settings, f.name, getattr(defaults, f.name))
    settings.save()
    result = ResetResult(path, backup)
    if autostart_off:
        from app import autostart

        try:
            if autostart.is_enabled():
                autostart.disable()
                result.notes.append("Portside no longer starts when you log in.")
        except OSError as exc:
            log.warning("could not remove the autostart entry: %s", exc)
            result.notes.append(f"The start-at-login entry could not be removed: {exc}.")
    return result
