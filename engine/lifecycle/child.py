"""Start an engine's child process (dockerd, QEMU) the one way Portside does it.

The child gets a new session (terminal signals such as Ctrl-C must not reach it), its stdout and
stderr go through a pipe into a :class:`~engine.lifecycle.logfile.RotatingLogWriter` thread that
copies them into the engine log, and it does not outlive its owner: on Linux it gets SIGTERM (a
clean shutdown) when its owner dies without stopping it; on Windows it is put in a job object that
kills it when the owner's last handle to the job closes (the owner's exit, even a crash). So no
engine is left running without a lock holder. Nothing here is Unix-only at import time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.errors import EngineStartFailed
from engine.lifecycle import logfile

PR_SET_PDEATHSIG = 1

_libc: ctypes.CDLL | None = None


def _load_libc() -> ctypes.CDLL:
    # looked up once, in the parent: find_library runs ldconfig, far too slow for a forked child
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Note: Linux ties this to the forking *thread*.
    assert _libc is not None
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn_logged(
    argv: list[str],
    log_file: Path,
    *,
    env: Mapping[str, str] | None = None,
    on_output: Callable[[bytes], None] | None = None,
) -> tuple[subprocess.Popen[bytes], logfile.RotatingLogWriter]:
    """Start ``argv`` with its output copied into ``log_file``; returns it and the started writer.

    ``on_output`` is also handed each piece of output, on the writer's thread.

    Raises:
        EngineStartFailed: the program could not be run (missing, not executable).
    """
    linux = sys.platform.startswith("linux")
    if linux:
        _load_libc()
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            env=dict(env) if env is not None else None,
            close_fds=True,
            start_new_session=True,
            preexec_fn=_die_with_parent if linux else None,
        )
    except OSError as exc:
        os.close(read_fd)
        raise EngineStartFailed(f"Could not run {argv[0]}: {exc}") from exc
    finally:
        os.close(write_fd)
    if sys.platform == "win32":  # pragma: no cover - Windows only
        _kill_with_owner(proc)
    writer = logfile.RotatingLogWriter(read_fd, log_file, on_output=on_output)
    writer.start()
    return proc, writer


# -- Windows: a job object that kills its processes when Portside's handle to it closes -----------

#: JOBOBJECTINFOCLASS JobObjectExtendedLimitInformation
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
#: LimitFlags: end every process of the job when its last handle closes
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000


class _BasicLimits(ctypes.Structure):
    """JOBOBJECT_BASIC_LIMIT_INFORMATION (LARGE_INTEGER, DWORD, SIZE_T, ULONG_PTR: x64, arm64)."""

    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class _ExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (144 bytes on 64-bit Windows)."""

    _fields_ = [
        ("BasicLimitInformation", _BasicLimits),
        ("IoInfo", ctypes.c_uint64 * 6),  # IO_COUNTERS: six ULONGLONGs
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


_job: int | None = None


def kill_on_close_limits() -> _ExtendedLimits:
    """The limits Portside's job object gets (pure; its layout is checked by a test)."""
    limits = _ExtendedLimits()
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    return limits


def _kill_with_owner(proc: subprocess.Popen[bytes]) -> None:  # pragma: no cover - Windows only
    """Put ``proc`` in this process' kill-on-close job (made once; its handle is never closed
    by us, so it closes exactly when this process ends). A failure is only logged: the engine
    then runs as before, and a leftover is ended by the next start (ManagedEngine's clean-up)."""
    global _job
    if sys.platform != "win32":  # (also tells mypy this is Windows code)
        return
    import logging

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = ctypes.c_void_p
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
    kernel32.SetInformationJobObject.argtypes = [
        ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32,
    ]
    kernel32.AssignProcessToJobObject.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    if _job is None:
        job = kernel32.CreateJobObjectW(None, None)
        limits = kill_on_close_limits()
        if not job or not kernel32.SetInformationJobObject(
            job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(limits),
            ctypes.sizeof(limits),
        ):
            logging.getLogger(__name__).warning(
                "no kill-on-close job object (error %s)", ctypes.get_last_error()
            )
            return
        _job = job
    handle = int(vars(proc)["_handle"])  # where Popen keeps its process handle on Windows
    if not kernel32.AssignProcessToJobObject(_job, handle):
        logging.getLogger(__name__).warning(
            "could not tie pid %s to Portside's job object (error %s)",
            proc.pid, ctypes.get_last_error(),
        )
