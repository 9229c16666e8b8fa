"""Who owns an engine: the process holding the ``flock`` on its ``engine.lock``, nothing else.

The owner (the supervisor of ``portside engine start``, or the Portside app) takes an exclusive
``flock`` on the data root's lock file before it starts dockerd and holds it until the engine is
stopped and cleaned up; the kernel drops it when the owner dies, however it dies. A pid written in
``state.json`` or in the lock file only *names* a candidate: a stale one may now belong to any
process, even another home's supervisor. So the owner is found through the lock itself:

    /proc/locks ── FLOCK entries on the lock file's inode ──> candidate pids
    /proc/<pid>/fd ── has the lock file open? ──> the owner

Reading ``/proc/locks`` takes no lock, so looking never gets in the way of an owner taking it.
Where ``/proc/locks`` is missing (not Linux), a shared try-lock tells held from free.

``start_guard`` is a second, short-lived lock (``start.lock``) the CLI holds while a
``portside engine start`` brings an engine up: a ``stop`` issued meanwhile waits for the start to
finish and then stops that engine, instead of finding nothing and letting it come up anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.errors import LifecycleError

PROC_LOCKS = "/proc/locks"


@dataclass(frozen=True)
class Owner:
    """The holder of an engine's lock.

    Attributes:
        pid: its process id, or None when the lock is held by a process this user cannot see
            (another pid namespace, or a pid whose descriptors we may not read).
    """

    pid: int | None


def _flock_pids(inode: int, locks_text: str) -> list[int]:
    """Pids of the granted FLOCK entries on ``inode`` in a ``/proc/locks`` text."""
    pids = []
    for line in locks_text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:2147188 0 EOF"; waiters have "->" after the id
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            pid = int(fields[4])
            file_inode = int(fields[5].rsplit(":", 1)[1])
        except (ValueError, IndexError):
            continue
        if file_inode == inode:
            pids.append(pid)
    return pids


def _has_open(pid: int, target: os.stat_result) -> bool:
    """Whether process ``pid`` has the file ``target`` open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            info = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _held(lock_file: Path) -> bool:
    """Try-lock (shared, non-blocking): whether someone holds an exclusive lock on the file."""
    try:
        fd = os.open(lock_file, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops our shared lock at once
    return False


def owner(lock_file: Path) -> Owner | None:
    """The live owner of the engine whose lock file this is, or None when nobody holds it."""
    try:
        target = os.stat(lock_file)
    except OSError:
        return None
    try:
        with open(PROC_LOCKS, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return Owner(None) if _held(lock_file) else None
    for pid in _flock_pids(target.st_ino, text):
        if _has_open(pid, target):
            return Owner(pid)
    # an entry on an equal inode of another file system, or a holder we cannot inspect
    return Owner(None) if _held(lock_file) else None


@contextlib.contextmanager
def start_guard(path: Path, timeout: float) -> Iterator[None]:
    """Hold ``path`` exclusively (waiting up to ``timeout`` s): one start or stop at a time."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LifecycleError(
                        f"Another `portside engine start` or `stop` on {path.parent} did not "
                        f"finish within {timeout:.0f} s; wait for it, then try again."
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
