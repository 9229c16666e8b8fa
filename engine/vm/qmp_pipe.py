"""QMP over QEMU's ``pipe`` chardev, for hosts where Portside uses no unix sockets (Windows; Linux
on request, which is how this is tested).

What runs where::

    VMEngine ─► make_fifos(P) (POSIX) ─► spawn QEMU with chardev_args(P | windows_pipe_name(root))
    PipeQMPClient.connect ─► open the pipe, retrying until QEMU has it open ─► qmp_capabilities
    execute(cmd) ─► asyncio.to_thread ─► [one lock] write {"execute": cmd, "id": n}
                                           read lines until the one with "id": n
                                           (the greeting is kept, events go to recent_events)
    every DRAIN_INTERVAL s ─► the same worker takes whatever QEMU wrote meanwhile (events)

There is no reader sitting on the pipe: on a synchronous Windows pipe handle a ReadFile pending in
one thread holds up a WriteFile on the same handle in another. Each command is one blocking
request/response in a worker thread instead, under one lock, and the worker only ever reads what is
already waiting (``poll`` on POSIX, ``PeekNamedPipe`` on Windows), so a timeout works while it
waits. QEMU writes events at any time; the drain keeps them from filling the pipe (a Windows QEMU
blocks its main loop on a full pipe; a POSIX one buffers without end).

The transports:

- POSIX: two FIFOs we make before QEMU starts, ``P.in`` (QEMU reads) and ``P.out`` (QEMU writes),
  mode 0600 in the private 0700 run folder. QEMU opens both read-write, so it never sees an end of
  file from us. We open ``P.in`` write-only (refused with ENXIO until QEMU has it open: connect
  retries until its deadline) and then ``P.out`` read-only. We hold no writer on ``P.out``, so when
  QEMU exits our read sees the end of file at once, and a write to ``P.in`` fails with EPIPE.
- Windows: QEMU makes the server pipe ``\\\\.\\pipe\\NAME`` and waits in its start-up until one
  client connects (so connect right after spawning QEMU); we open it read-write, retrying while it
  is not there yet or busy. The greeting may be written before we read: connect does not need it
  (:meth:`PipeQMPClient.connect` asks ``query-version`` when it did not come).

Errors are :class:`~engine.vm.qmp.QMPError`. A command whose answer did not come in time leaves the
session *out of step* (the late answer would be read as the next command's): every later call
raises at once. QEMU exiting mid-command is an end of file, reported at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import math
import os
import secrets
import select
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.vm.qmp import READ_LIMIT, QMPCommands, QMPError, answer_value, decode, encode

if TYPE_CHECKING:
    from engine.vm.qmp import QMPClient, QMPSession

log = logging.getLogger(__name__)

#: The chardev's id on QEMU's command line.
CHARDEV_ID = "qmp"
#: How often an idle session takes the events QEMU wrote meanwhile.
DRAIN_INTERVAL = 30.0
#: How many of the last events a session keeps (for logs and tests; nothing waits on them).
RECENT_EVENTS = 64
#: Bytes asked of the pipe per read.
CHUNK = 65536
#: How long close waits for a command's worker to let go of the pipe.
CLOSE_WAIT = 5.0
_ERROR_BROKEN_PIPE = 109
_ERROR_PIPE_BUSY = 231
_ERROR_PIPE_NOT_CONNECTED = 233


def chardev_args(target: Path | str) -> list[str]:
    """QEMU's arguments for QMP on a pipe chardev: ``target`` is the FIFOs' common path on POSIX
    (see :func:`make_fifos`) or the pipe's name on Windows (see :func:`windows_pipe_name`)."""
    return [
        "-chardev",
        # a comma inside a QEMU option value is written twice (as qemu._opt does; qemu.py imports
        # this module, so not from there)
        f"pipe,id={CHARDEV_ID},path={str(target).replace(',', ',,')}",
        "-mon",
        f"chardev={CHARDEV_ID},mode=control",
    ]


def windows_pipe_name(root: Path) -> str:
    """The QMP pipe's name for the VM in ``root``: named pipes share one namespace per machine, so
    the name comes from the folder (two users' or two engine folders' VMs never meet)."""
    folder = os.path.normcase(os.path.abspath(root))
    return f"portside-qmp-{hashlib.sha256(folder.encode()).hexdigest()[:16]}"


def fifo_paths(path: Path) -> tuple[Path, Path]:
    """(``path.in``: QEMU reads, ``path.out``: QEMU writes)."""
    return Path(f"{path}.in"), Path(f"{path}.out")


def make_fifos(path: Path) -> tuple[Path, Path]:
    """Make QEMU's two FIFOs for ``path`` afresh (mode 0600), before QEMU starts: QEMU only opens
    them (and falls back to opening ``path`` itself when they are missing)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        raise QMPError("Windows has no FIFOs: QMP uses the named pipe of windows_pipe_name().")
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


class _Pipe(Protocol):
    """One open pipe to QEMU. Only the worker holding the session's lock calls write/read."""

    def write(self, data: bytes, deadline: float) -> None:
        """All of ``data``; TimeoutError at ``deadline``."""

    def read(self, deadline: float) -> bytes:
        """What is waiting (at least a byte, waiting until ``deadline`` for it); ``b""`` once
        QEMU's end is closed; TimeoutError at ``deadline``."""

    def interrupt(self) -> None:
        """Make a waiting write/read (now or later) raise :class:`QMPError` (from any thread)."""

    def close(self) -> None: ...


def _closed_error() -> QMPError:
    return QMPError("The QMP pipe is closed.")


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
        def open(cls, name: str) -> _WindowsPipe | None:
            """The pipe, or None while QEMU has not made it yet (or another client holds it)."""
            try:
                file = open(rf"\\.\pipe\{name}", "r+b", buffering=0)  # noqa: SIM115 - kept open
            except FileNotFoundError:
                return None
            except OSError as exc:
                if getattr(exc, "winerror", None) == _ERROR_PIPE_BUSY:
                    return None
                raise QMPError(f"QEMU's QMP pipe {name} cannot be opened: {exc}.") from exc
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
        def open(cls, path: Path) -> _FifoPipe | None:
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
                raise QMPError(
                    f"QEMU's QMP pipe {to_path} cannot be opened: {exc.strerror}{hint}."
                ) from exc
            try:
                from_qemu = os.open(from_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                os.close(to_qemu)
                raise QMPError(
                    f"QEMU's QMP pipe {from_path} cannot be opened: {exc.strerror}."
                ) from exc
            for fd, where in ((to_qemu, to_path), (from_qemu, from_path)):
                if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.close(to_qemu)
                    os.close(from_qemu)
                    raise QMPError(f"{where} is not a FIFO; remove it and start the VM again.")
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


def _open_pipe(target: Path | str) -> _Pipe | None:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _WindowsPipe.open(str(target))
    else:
        return _FifoPipe.open(Path(target))


class PipeQMPClient(QMPCommands):
    """A QMP session over QEMU's pipe chardev (use :meth:`connect`); the same calls as
    :class:`~engine.vm.qmp.QMPClient` but events are not streamed (``recent_events`` keeps the
    last few, VMEngine waits on none)."""

    def __init__(self, pipe: _Pipe, where: str) -> None:
        self._pipe = pipe
        self._where = where
        self._lock = threading.Lock()  # held by the worker thread for a whole exchange
        self._buffer = bytearray()
        # ids unique across sessions: an earlier session's late answer may still be in the pipe
        self._next_id = secrets.randbelow(1 << 48)
        self._broken: str | None = None  # why no command may run any more
        self._closed = False
        self._drain_task: asyncio.Task[None] | None = None
        self.greeting: dict[str, Any] = {}
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)

    @classmethod
    async def connect(
        cls,
        target: Path | str,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        drain_interval: float = DRAIN_INTERVAL,
        alive: Callable[[], bool] = lambda: True,
    ) -> PipeQMPClient:
        """Open QEMU's QMP pipe (retrying until QEMU has opened it, or ``timeout``) and leave
        negotiation mode.

        Call it right after spawning QEMU: a Windows QEMU waits in its start-up (before the
        machine runs) until a client connects to its pipe.

        Args:
            target: what :func:`chardev_args` was given.
            timeout: for opening the pipe and the negotiation together.
            drain_interval: how often an idle session takes QEMU's events.
            alive: False once QEMU has exited (then connect fails at once, not at ``timeout``).
        """
        deadline = time.monotonic() + timeout
        where = str(target) if sys.platform != "win32" else rf"\\.\pipe\{target}"
        while (pipe := _open_pipe(target)) is None:
            if not alive():
                raise QMPError(f"QEMU exited before it opened its QMP pipe {where}.")
            if time.monotonic() >= deadline:
                raise QMPError(
                    f"QEMU did not open its QMP pipe {where} within {timeout:.0f} s "
                    "(it did not start, or not with chardev_args())."
                )
            await asyncio.sleep(0.02)
        client = cls(pipe, where)
        try:
            try:
                await client.execute("qmp_capabilities", timeout=max(1.0, _left(deadline)))
            except QMPError as exc:
                # a second session on a running QEMU: the monitor left negotiation already
                if exc.error_class != "CommandNotFound" or "negotiation" not in str(exc):
                    raise
            if not client.greeting:  # QEMU wrote it before we (or an earlier session) read
                version = await client.execute("query-version", timeout=max(1.0, _left(deadline)))
                client.greeting = {"version": version, "capabilities": []}
        except BaseException:
            await client.close()
            raise
        client._drain_task = asyncio.ensure_future(client._drain_loop(drain_interval))
        return client

    async def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """Run ``command``; returns its ``return`` value or raises :class:`QMPError`."""
        if self._broken is not None:
            raise QMPError(self._broken)
        self._next_id += 1
        ident = self._next_id
        deadline = time.monotonic() + timeout
        answer = await asyncio.to_thread(
            self._exchange, command, encode(command, arguments, ident), ident, deadline, timeout
        )
        return answer_value(command, answer)

    async def close(self) -> None:
        """Close the pipe (QEMU keeps running); a command waiting for its answer ends now."""
        if self._drain_task is not None:
            self._drain_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drain_task
            self._drain_task = None
        if self._closed:
            return
        self._closed = True
        if self._broken is None:
            self._broken = "The QMP pipe is closed."
        self._pipe.interrupt()
        await asyncio.to_thread(self._close_pipe)

    # -- the worker thread's side ------------------------------------------------------------

    def _exchange(
        self, command: str, line: bytes, ident: int, deadline: float, timeout: float
    ) -> dict[str, Any]:
        if not self._lock.acquire(timeout=_left(deadline)):
            raise QMPError(
                f"QEMU did not answer {command} within {timeout:.0f} s "
                "(an earlier command still waits for its answer)."
            )
        try:
            if self._broken is not None:
                raise QMPError(self._broken)
            try:
                self._pipe.write(line, deadline)
                while True:
                    message = self._next_message(deadline)
                    if message.get("id") == ident:
                        return message
                    self._keep(message)
            except TimeoutError as exc:
                self._broken = (
                    f"The QMP pipe is out of step: QEMU did not answer {command} within "
                    f"{timeout:.0f} s, and its late answer would be read as the next one's."
                )
                raise QMPError(f"QEMU did not answer {command} within {timeout:.0f} s.") from exc
            except BrokenPipeError as exc:  # QEMU's reading end is gone: it exited
                self._broken = f"QEMU closed its QMP pipe {self._where} (it exited)."
                raise QMPError(self._broken) from exc
            except OSError as exc:
                self._broken = f"The QMP pipe to QEMU broke ({exc})."
                raise QMPError(f"QMP {command}: the pipe to QEMU broke ({exc}).") from exc
            except QMPError as exc:
                if self._broken is None:
                    self._broken = str(exc)
                raise
        finally:
            self._lock.release()

    def _next_message(self, deadline: float) -> dict[str, Any]:
        """The next whole line from QEMU; TimeoutError when none is complete by ``deadline``."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                if line.strip():
                    return decode(line)
                continue
            if len(self._buffer) > READ_LIMIT:
                raise QMPError(f"QEMU sent a QMP line over {READ_LIMIT} bytes.")
            chunk = self._pipe.read(deadline)
            if not chunk:
                raise QMPError(f"QEMU closed its QMP pipe {self._where} (it exited).")
            self._buffer += chunk

    def _keep(self, message: dict[str, Any]) -> None:
        if "QMP" in message:
            self.greeting = message["QMP"] if isinstance(message["QMP"], dict) else {}
        elif "event" in message:
            self.recent_events.append(message)
            log.debug("QMP event %s", message.get("event"))
        else:
            log.warning("QMP answer nobody waits for: %.200s", message)

    def _drain(self) -> None:
        """Take what QEMU wrote since the last command (events), without waiting."""
        if not self._lock.acquire(blocking=False):
            return  # a command is reading anyway
        try:
            while self._broken is None:
                self._keep(self._next_message(time.monotonic()))
        except TimeoutError:
            pass  # nothing more waiting (a part line stays in the buffer)
        except (QMPError, OSError) as exc:
            if self._broken is None:
                self._broken = str(exc)
        finally:
            self._lock.release()

    async def _drain_loop(self, interval: float) -> None:
        while self._broken is None:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self._drain)

    def _close_pipe(self) -> None:
        held = self._lock.acquire(timeout=CLOSE_WAIT)
        try:
            self._pipe.close()
        finally:
            if held:
                self._lock.release()


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


if TYPE_CHECKING:

    def _both_are_sessions(socket: QMPClient, pipe: PipeQMPClient) -> list[QMPSession]:
        return [socket, pipe]  # mypy checks both against the protocol here
