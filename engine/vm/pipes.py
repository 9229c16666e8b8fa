"""Byte pipes to QEMU's ``pipe`` chardevs, for hosts where Portside uses no unix sockets.

Used by QMP (``qmp_pipe``) and by the 9P share servers (``ninep.transport``): one chardev is one
pipe, both ways::

    make_fifos(P) (POSIX) ─► QEMU -chardev pipe,path=P | windows pipe name
    open_pipe(P, what) ─► None until QEMU has its end open (retry) ─► Pipe
    Pipe.write(bytes, deadline) / Pipe.read(deadline) ─► what is waiting (b"" once QEMU exited)
    Pipe.interrupt() (any thread) ─► a waiting read/write raises PipeClosed

- POSIX: two FIFOs we make before QEMU starts, ``P.in`` (QEMU reads) and ``P.out`` (QEMU writes),
  mode 0600 in the private 0700 run folder. QEMU opens both read-write, so it never sees an end of
  file from us. We open ``P.in`` write-only (refused with ENXIO until QEMU has it open: callers
  retry until their deadline) and then ``P.out`` read-only. We hold no writer on ``P.out``, so
  when QEMU exits our read sees the end of file at once, and a write to ``P.in`` fails with EPIPE.
  Both are non-blocking and waited on with ``poll`` beside a wake-up pipe (``interrupt``).
- Windows: QEMU makes the server pipe ``\\\\.\\pipe\\NAME`` and waits in its start-up until one
  client connects (so connect right after spawning QEMU, each of its pipe chardevs); we open it
  read-write, retrying while it is not there yet or busy. There is no reader sitting on the pipe:
  on a synchronous Windows pipe handle a ReadFile pending in one thread holds up a WriteFile on
  the same handle in another, so a read only takes what ``PeekNamedPipe`` says is waiting.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import select
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

#: Bytes asked of the pipe per read.
CHUNK = 65536
_ERROR_BROKEN_PIPE = 109
_ERROR_PIPE_BUSY = 231
_ERROR_PIPE_NOT_CONNECTED = 233


class PipeError(Exception):
    """A pipe that cannot be opened (the message says which and why)."""


class PipeClosed(PipeError):
    """The pipe was closed (``interrupt``) while a read or write waited."""


def windows_pipe_name(root: Path, kind: str = "qmp") -> str:
    """The name of the ``kind`` pipe of the VM in ``root``: named pipes share one namespace per
    machine, so the name comes from the folder (two users' or two engine folders' VMs never
    meet)."""
    folder = os.path.normcase(os.path.abspath(root))
    return f"portside-{kind}-{hashlib.sha256(folder.encode()).hexdigest()[:16]}"


def fifo_paths(path: Path) -> tuple[Path, Path]:
    """(``path.in``: QEMU reads, ``path.out``: QEMU writes)."""
    return Path(f"{path}.in"), Path(f"{path}.out")


def make_fifos(path: Path) -> tuple[Path, Path]:
    """Make QEMU's two FIFOs for ``path`` afresh (mode 0600), before QEMU starts: QEMU only opens
    them (and falls back to opening ``path`` itself when they are missing)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        raise PipeError("Windows has no FIFOs: QEMU's pipes there are named pipes.")
    made = fifo_paths(path)
    for fifo in made:
        with contextlib.suppress(FileNotFoundError):
            fifo.unlink()
        os.mkfifo(fifo, 0o600)
        os.chmod(fifo, 0o600)  # mkfifo's mode passes through the umask
    return made


def remove_fifos(path: Path) -> None:
    """Remove the FIFOs of :func:`make_fifos` (gone already is fine)."""
    for fifo in fifo_paths(path):
        with contextlib.suppress(FileNotFoundError):
            fifo.unlink()


class Pipe(Protocol):
    """One open pipe to QEMU. Only the worker holding the session's lock calls write/read."""

    def write(self, data: bytes, deadline: float) -> None:
        """All of ``data``; TimeoutError at ``deadline``."""

    def read(self, deadline: float) -> bytes:
        """What is waiting (at least a byte, waiting until ``deadline`` for it); ``b""`` once
        QEMU's end is closed; TimeoutError at ``deadline``."""

    def interrupt(self) -> None:
        """Make a waiting write/read (now or later) raise :class:`PipeClosed` (from any thread)."""

    def close(self) -> None: ...


def _closed_error() -> PipeClosed:
    return PipeClosed("The pipe to QEMU is closed.")


if sys.platform == "win32":  # pragma: no cover - Windows only
    import ctypes
    import msvcrt
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _peek_named_pipe = _kernel32.PeekNamedPipe
    _peek_named_pipe.argtypes = [
        wintypes.HANDLE,
        wintypes.LPVOID,
        wintypes.DWORD,
        wintypes.LPDWORD,
        wintypes.LPDWORD,
        wintypes.LPDWORD,
    ]
    _peek_named_pipe.restype = wintypes.BOOL

    class _WindowsPipe:
        """QEMU's named pipe, one synchronous handle both ways. A read only takes what
        ``PeekNamedPipe`` says is waiting, so no ReadFile is ever pending to hold up a write."""

        def __init__(self, file: Any) -> None:
            self._file = file
            self._handle = msvcrt.get_osfhandle(file.fileno())
            self._stop = threading.Event()

        @classmethod
        def open(cls, name: str, what: str) -> _WindowsPipe | None:
            """The pipe, or None while QEMU has not made it yet (or another client holds it)."""
            try:
                file = open(rf"\\.\pipe\{name}", "r+b", buffering=0)  # noqa: SIM115 - kept open
            except FileNotFoundError:
                return None
            except OSError as exc:
                if getattr(exc, "winerror", None) == _ERROR_PIPE_BUSY:
                    return None
                raise PipeError(f"{what} {name} cannot be opened: {exc}.") from exc
            return cls(file)

        def _waiting(self) -> int | None:
            """Bytes waiting in the pipe; None once QEMU's end is closed."""
            available = wintypes.DWORD(0)
            if _peek_named_pipe(self._handle, None, 0, None, ctypes.byref(available), None):
                return int(available.value)
            error = ctypes.get_last_error()
            if error in (_ERROR_BROKEN_PIPE, _ERROR_PIPE_NOT_CONNECTED):
                return None
            raise ctypes.WinError(error)

        def write(self, data: bytes, deadline: float) -> None:
            # a synchronous WriteFile returns once the pipe took the bytes; it waits only while
            # QEMU's main loop hangs with the pipe full: no deadline ends that, killing QEMU does
            view = memoryview(data)
            while view:
                if self._stop.is_set():
                    raise _closed_error()
                view = view[self._file.write(view) :]

        def read(self, deadline: float) -> bytes:
            delay = 0.001
            while True:
                waiting = self._waiting()
                if waiting is None:
                    return b""
                if waiting:
                    return bytes(self._file.read(min(waiting, CHUNK)))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                if self._stop.wait(min(delay, remaining)):
                    raise _closed_error()
                delay = min(delay * 2, 0.02)

        def interrupt(self) -> None:
            self._stop.set()

        def close(self) -> None:
            self._file.close()

else:

    class _FifoPipe:
        """The two FIFOs (POSIX), non-blocking, waited on with ``poll`` beside a wake-up pipe."""

        def __init__(self, to_qemu: int, from_qemu: int) -> None:
            self._to_qemu = to_qemu
            self._from_qemu = from_qemu
            self._wake_read, self._wake_write = os.pipe()
            os.set_blocking(self._wake_write, False)

        @classmethod
        def open(cls, path: Path, what: str) -> _FifoPipe | None:
            """Both ends, or None while QEMU has not opened ``path.in`` yet."""
            to_path, from_path = fifo_paths(path)
            try:
                to_qemu = os.open(to_path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # a FIFO without a reader yet: QEMU is not there
                    return None
                hint = (
                    " (make_fifos makes it before QEMU starts)" if exc.errno == errno.ENOENT else ""
                )
                raise PipeError(
                    f"{what} {to_path} cannot be opened: {exc.strerror}{hint}."
                ) from exc
            try:
                from_qemu = os.open(from_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                os.close(to_qemu)
                raise PipeError(f"{what} {from_path} cannot be opened: {exc.strerror}.") from exc
            for fd, where in ((to_qemu, to_path), (from_qemu, from_path)):
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.close(to_qemu)
                    os.close(from_qemu)
                    raise PipeError(f"{where} is not a FIFO; remove it and start the VM again.")
            return cls(to_qemu, from_qemu)

        def _wait(self, fd: int, events: int, deadline: float) -> None:
            poller = select.poll()
            poller.register(fd, events)
            poller.register(self._wake_read, select.POLLIN)
            while True:
                remaining = deadline - time.monotonic()
                ready = dict(poller.poll(max(0, math.ceil(remaining * 1000))))
                if self._wake_read in ready:
                    raise _closed_error()
                if fd in ready:
                    return  # readable, writable, or QEMU's end closed (the read/write says which)
                if remaining <= 0:
                    raise TimeoutError

        def write(self, data: bytes, deadline: float) -> None:
            view = memoryview(data)
            while view:
                self._wait(self._to_qemu, select.POLLOUT, deadline)
                with contextlib.suppress(BlockingIOError):
                    view = view[os.write(self._to_qemu, view) :]

        def read(self, deadline: float) -> bytes:
            while True:
                self._wait(self._from_qemu, select.POLLIN, deadline)
                with contextlib.suppress(BlockingIOError):
                    return os.read(self._from_qemu, CHUNK)

        def interrupt(self) -> None:
            with contextlib.suppress(OSError):
                os.write(self._wake_write, b"x")

        def close(self) -> None:
            for fd in (self._to_qemu, self._from_qemu, self._wake_read, self._wake_write):
                with contextlib.suppress(OSError):
                    os.close(fd)


def open_pipe(target: Path | str, what: str) -> Pipe | None:
    """QEMU's pipe chardev ``target`` (the FIFOs' path, or a Windows pipe name), or None while
    QEMU has not opened it yet (retry); ``what`` names it in errors ("QEMU's QMP pipe")."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _WindowsPipe.open(str(target), what)
    else:
        return _FifoPipe.open(Path(target), what)
