"""Start an engine's child process (dockerd, QEMU) the one way Portside does it.

The child gets a new session (terminal signals such as Ctrl-C must not reach it), its stdout and
stderr go through a pipe into a :class:`~engine.lifecycle.logfile.RotatingLogWriter` thread that
copies them into the engine log, and on Linux it gets SIGTERM (a clean shutdown) when its owner
dies without stopping it, so no engine is left running without a lock holder. Nothing here is
Unix-only at import time.
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
    writer = logfile.RotatingLogWriter(read_fd, log_file, on_output=on_output)
    writer.start()
    return proc, writer
