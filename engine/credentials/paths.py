"""Where Portside keeps its settings; cheap to import (the credential helper needs it).

``PORTSIDE_CONFIG_DIR`` overrides the location (tests use it). Otherwise it is
``platformdirs.user_config_dir("portside")``; on Linux that is computed here without importing
platformdirs (same rule: ``$XDG_CONFIG_HOME`` or ``~/.config``, plus ``portside``).
"""

from __future__ import annotations

import os
import sys

APP_NAME = "portside"
CONFIG_DIR_ENV = "PORTSIDE_CONFIG_DIR"


def config_dir() -> str:
    """Portside's settings folder (not created here)."""
    override = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if override:
        return os.path.abspath(os.path.expanduser(override))
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CONFIG_HOME", "").strip()
        if not base:
            base = os.path.expanduser("~/.config")
        return os.path.join(base, APP_NAME)
    import platformdirs

    return str(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def atomic_write(path: str, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` atomically: temp file in the same folder, fsync, rename.

    Readers see the old or the new file, never a partial one. The folder is created if needed.
    """
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
