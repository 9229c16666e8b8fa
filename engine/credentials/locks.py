"""Advisory file locks that serialise Portside's read-modify-write of its own files.

Who takes which lock (always in this order when nested, so no two processes wait on each
other):

1. ``<config_dir>/docker-config.json.lock`` — enabling/disabling Portside in docker config files
   (the config file and the remembered previous ``credsStore`` are read and written under it;
   a migration stores logins while holding it).
2. ``<config_dir>/credentials.lock`` — one keyring write at a time per user: ``store``/``erase``
   by the helper (parallel ``docker login``s) and sign-in/sign-out in the app. The Secret
   Service has no transaction: two ``CreateItem`` + ``Delete`` sequences for one server
   interleave into duplicates or failed deletes without it.
3. ``<index>.lock`` beside the login index — its own read-modify-write.

``flock`` locks belong to the open file, so they are released when the process dies. Where
there is no ``fcntl`` (Windows) the lock is a no-op: atomic replace still prevents torn files.
This module imports only ``os`` (the helper's ``store`` path uses it).
"""

from __future__ import annotations

import os


class FileLock:
    """``with FileLock(path):`` holds an exclusive lock on ``path`` (created 0600 if missing)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1

    def __enter__(self) -> FileLock:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            self._fd = fd
            return self
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = -1
