"""Where a Portside-managed engine keeps its files.

One :class:`EnginePaths` describes one engine: its data root (images, containers, volumes), its
exec root (runtime state and containerd's sockets), the API socket, ``daemon.json``, the log, the
lock that keeps two owners off one data root, and the state file the CLI and the app read.

Unix socket paths are limited to 107 bytes, and containerd puts its own sockets a few levels under
the exec root, so the exec root and the API socket live in a *short* runtime directory when the
configured one would be too long (or does not exist).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from engine.errors import LifecycleError

APP_NAME = "portside"
#: Relocates everything an engine writes (tests and portable installs use it).
HOME_ENV = "PORTSIDE_HOME"
#: A folder holding Portside's own ``dockerd`` (and friends); searched before ``PATH``.
BUNDLE_ENV = "PORTSIDE_BUNDLE_DIR"

# sun_path is 108 bytes including the NUL. containerd's longest socket under the exec root is
# "containerd/containerd.sock.ttrpc" (32 bytes + a separator), so keep the exec root well short.
_SOCKET_MAX = 107
_EXEC_SUFFIX_MAX = len("/containerd/containerd.sock.ttrpc")


@dataclass(frozen=True)
class EnginePaths:
    """Every file and folder of one managed engine.

    Attributes:
        root: the folder holding the configuration, log, lock and state of this engine.
        data_root: dockerd's ``--data-root`` (images, containers, volumes).
        exec_root: dockerd's ``--exec-root`` (short path; runtime state only).
        pidfile: dockerd's ``--pidfile``.
        socket: the API socket (``-H unix://...``).
        daemon_json: dockerd's ``--config-file``; Portside writes it on first run, then only adds
            keys it needs and never drops the user's own.
        log_file: the engine log (dockerd's stdout and stderr), rotated by size.
        lock_file: ``flock`` target; the holder's pid is written inside.
        state_file: JSON with the last known state (read by ``portside engine status``).
    """

    root: Path
    data_root: Path
    exec_root: Path
    pidfile: Path
    socket: Path
    daemon_json: Path
    log_file: Path
    lock_file: Path
    state_file: Path

    @property
    def start_lock(self) -> Path:
        """Held by ``portside engine start``/``stop`` while they run: one of them at a time."""
        return self.root / "start.lock"

    @property
    def stop_request(self) -> Path:
        """When the last ``portside engine stop`` was issued (a start launched before it yields)."""
        return self.root / "stop-requested"

    @property
    def endpoint(self) -> str:
        """The engine's endpoint as clients spell it (``unix:///...``)."""
        return f"unix://{self.socket}"

    @classmethod
    def at(cls, root: Path | str) -> EnginePaths:
        """Everything under one folder; the runtime part moves to a short folder when needed."""
        root = Path(root).expanduser().absolute()
        run = root / "run"
        if not _fits(run):
            run = short_runtime_dir(root)
        return cls._build(root, root / "data", run)

    @classmethod
    def default(cls) -> EnginePaths:
        """The current user's engine: ``$PORTSIDE_HOME`` if set, else platformdirs' folders."""
        home = os.environ.get(HOME_ENV)
        if home:
            return cls.at(home)
        root = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "engine"
        run = _xdg_runtime() or short_runtime_dir(root)
        if not _fits(run):
            run = short_runtime_dir(root)
        return cls._build(root, root / "data", run)

    @classmethod
    def _build(cls, root: Path, data_root: Path, run: Path) -> EnginePaths:
        return cls(
            root=root,
            data_root=data_root,
            exec_root=run / "exec",
            pidfile=run / "docker.pid",
            socket=run / "docker.sock",
            daemon_json=root / "daemon.json",
            log_file=root / "engine.log",
            lock_file=root / "engine.lock",
            state_file=root / "state.json",
        )

    def check_root(self) -> None:
        """Raise :class:`LifecycleError` when the engine folder exists but is not a folder."""
        if self.root.exists() and not self.root.is_dir():
            raise LifecycleError(
                f"The engine folder {self.root} is a file, not a folder. Point --home (or "
                f"{HOME_ENV}) at a folder, or remove the file."
            )

    def ensure(self) -> None:
        """Create the folders (private to the user) that dockerd does not create itself."""
        self.check_root()
        for folder in (self.root, self.socket.parent):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.socket.parent.parent.parent == Path(_short_base()):
            _check_private(self.socket.parent)


def _fits(run: Path) -> bool:
    longest = max(
        len(os.fsencode(run / "docker.sock")), len(os.fsencode(run / "exec")) + _EXEC_SUFFIX_MAX
    )
    return longest <= _SOCKET_MAX - 10  # leave room for containerd's own variations


def _xdg_runtime() -> Path | None:
    # platformdirs falls back to /tmp/runtime-<uid> with a warning when XDG_RUNTIME_DIR is unset;
    # we pick our own fallback instead.
    value = os.environ.get("XDG_RUNTIME_DIR")
    if value and Path(value).is_dir() and os.access(value, os.W_OK):
        return Path(value) / APP_NAME
    return None


def _short_base() -> str:
    return "/tmp" if sys.platform != "darwin" else "/private/tmp"


def short_runtime_dir(root: Path) -> Path:
    """A short, per-user, per-root folder: ``/tmp/portside-<uid>/<hash of root>``."""
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:10]
    return Path(_short_base()) / f"{APP_NAME}-{os.getuid()}" / digest


def _check_private(folder: Path) -> None:
    """Refuse a shared-/tmp folder another user created (it could redirect our socket)."""
    for part in (folder.parent, folder):
        info = part.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            raise LifecycleError(
                f"{part} is not a folder owned by you; Portside will not put its engine socket "
                f"there. Remove it, or set {HOME_ENV} to a short folder of your own."
            )
        if info.st_mode & 0o077:
            part.chmod(0o700)
