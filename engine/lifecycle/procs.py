"""Processes and mounts an engine leaves behind, found through /proc and ended by pid (on macOS:
``kill(pid, 0)`` and ``ps`` for the one process asked about).

Only things provably ours are touched: processes whose command line names this engine's own
exec/data root (containerd, its shims), processes inside the cgroup of a container stored in this
engine's data root, and mounts under this engine's roots.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

MNT_DETACH = 2


def pid_alive(pid: int) -> bool:
    """Whether a process with that pid exists (zombies count as gone; on macOS, where there is no
    /proc, ``kill(pid, 0)`` says, and a zombie counts as alive)."""
    if not sys.platform.startswith("linux"):
        return _pid_alive_by_signal(pid)
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    except PermissionError:
        return True


def _pid_alive_by_signal(pid: int) -> bool:
    """POSIX without /proc. Never on Windows, where ``os.kill(pid, 0)`` would send Ctrl+C: there
    a child cannot outlive Portside (child.py's job object), so nothing asks."""
    if sys.platform == "win32" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: When this process began, on a clock every process on the host shares (see ``started_at``).
_IMPORTED_AT = time.monotonic()


def started_at() -> float:
    """When this process was created, in ``time.monotonic()`` seconds.

    On Linux that is the kernel's own record of the exec (``/proc/self/stat`` field 22, on the
    boot clock ``CLOCK_MONOTONIC`` shares with it up to suspended time, which a few-seconds race
    never spans); elsewhere the moment this module was imported, a little later than the exec.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 counted from 1; 3 is the first after the name
        boot_now = time.clock_gettime(time.CLOCK_BOOTTIME)
        started_boot = ticks / os.sysconf("SC_CLK_TCK")
        return time.monotonic() - (boot_now - started_boot)
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED_AT


def cmdline(pid: int) -> list[str]:
    """The process' argv, or [] when it is gone or unreadable (on macOS from ``ps``, split at
    spaces: good for finding a path in it, not for telling arguments apart)."""
    if not sys.platform.startswith("linux"):
        return _cmdline_by_ps(pid)
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _cmdline_by_ps(pid: int) -> list[str]:
    if sys.platform == "win32" or pid <= 0:
        return []
    try:
        out = subprocess.run(["ps", "-ww", "-o", "command=", "-p", str(pid)],
                             capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return out.split()


def is_dockerd_of(pid: int, data_root: Path) -> bool:
    """Whether ``pid`` is a dockerd running on ``data_root``."""
    argv = cmdline(pid)
    root = str(data_root)
    return (
        bool(argv)
        and "dockerd" in Path(argv[0]).name
        and any(arg == root or arg == f"--data-root={root}" for arg in argv)
    )


def dockerds_of(data_root: Path) -> list[int]:
    """Pids of every live dockerd running on ``data_root`` (each verified by its command line)."""
    return [pid for pid in _all_pids() if is_dockerd_of(pid, data_root) and pid_alive(pid)]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def processes_naming(paths: Iterable[Path]) -> list[int]:
    """Pids (not ours) whose command line mentions any of ``paths``."""
    roots = [str(p).rstrip("/") for p in paths]
    me = os.getpid()
    found = []
    for pid in _all_pids():
        if pid == me:
            continue
        argv = cmdline(pid)
        # a path prefix match on a component boundary: /x/data must not match /x/data2
        if any(arg == r or r + "/" in arg for arg in argv for r in roots):
            found.append(pid)
    return found


def processes_in_containers(container_ids: Iterable[str]) -> list[int]:
    """Pids whose cgroup path names one of the (64-hex) container ids."""
    ids = [cid for cid in container_ids if len(cid) == 64]
    if not ids:
        return []
    found = []
    for pid in _all_pids():
        try:
            groups = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            continue
        if any(cid in groups for cid in ids):
            found.append(pid)
    return found


def terminate(pids: Iterable[int], timeout: float = 5.0) -> None:
    """SIGTERM each pid, then SIGKILL whatever is still alive after ``timeout``."""
    pending = [pid for pid in pids if pid_alive(pid)]
    for pid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM if timeout > 0 else signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [pid for pid in pending if pid_alive(pid)]
        if pending:
            time.sleep(0.05)
    for pid in pending:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def kill(pids: Iterable[int], timeout: float = 5.0) -> None:
    """SIGKILL each pid and wait (up to ``timeout``) until they are gone."""
    pids = list(pids)
    terminate(pids, timeout=0.0)
    pending = [pid for pid in pids if pid_alive(pid)]
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        time.sleep(0.02)
        pending = [pid for pid in pending if pid_alive(pid)]


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1 : i + 4]) == 3 and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[str]:
    """Mount points listed in a ``/proc/<pid>/mountinfo`` text, in order."""
    points = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(_unescape(fields[4]))
    return points


def mounts_under(roots: Iterable[Path], mountinfo: str | None = None) -> list[str]:
    """Mount points at or below any of ``roots``, deepest first."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return []
    prefixes = [str(r).rstrip("/") for r in roots]
    hits = {
        point
        for point in parse_mountinfo(mountinfo)
        if any(point == p or point.startswith(p + "/") for p in prefixes)
    }
    return sorted(hits, key=lambda p: (-p.count("/"), p))


def unmount_all(roots: Iterable[Path]) -> list[str]:
    """Lazily unmount everything under ``roots``; returns what could not be unmounted."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    failed: list[str] = []
    roots = list(roots)
    for _attempt in range(3):
        points = mounts_under(roots)
        if not points:
            return []
        failed = []
        for point in points:
            if libc.umount2(os.fsencode(point), MNT_DETACH) != 0:
                failed.append(f"{point}: {os.strerror(ctypes.get_errno())}")
    return failed if mounts_under(roots) else []
