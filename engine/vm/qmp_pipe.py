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

The transports (two FIFOs on POSIX, a named pipe on Windows) are ``engine/vm/pipes.py``'s, shared
with the 9P share servers. On Windows the greeting may be written before we read: connect does
not need it (:meth:`PipeQMPClient.connect` asks ``query-version`` when it did not come).

Errors are :class:`~engine.vm.qmp.QMPError`. A command whose answer did not come in time leaves the
session *out of step* (the late answer would be read as the next command's): every later call
raises at once. QEMU exiting mid-command is an end of file, reported at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.vm import pipes
from engine.vm.pipes import Pipe, PipeClosed, PipeError
from engine.vm.pipes import fifo_paths as fifo_paths  # re-exported: QMP's FIFOs, as before
from engine.vm.pipes import make_fifos as make_fifos
from engine.vm.pipes import remove_fifos as remove_fifos
from engine.vm.qmp import READ_LIMIT, QMPError, QMPSession, answer_value, decode, encode

log = logging.getLogger(__name__)

#: The chardev's id on QEMU's command line.
CHARDEV_ID = "qmp"
#: How often an idle session takes the events QEMU wrote meanwhile.
DRAIN_INTERVAL = 30.0
#: How many of the last events a session keeps (for logs and tests; nothing waits on them).
RECENT_EVENTS = 64
#: How long close waits for a command's worker to let go of the pipe.
CLOSE_WAIT = 5.0


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
    """The QMP pipe's name for the VM in ``root`` (see :func:`pipes.windows_pipe_name`)."""
    return pipes.windows_pipe_name(root, "qmp")


class PipeQMPClient(QMPSession):
    """A QMP session over QEMU's pipe chardev (use :meth:`connect`); the same calls as
    :class:`~engine.vm.qmp.QMPClient` but events are not streamed (``recent_events`` keeps the
    last few, VMEngine waits on none)."""

    def __init__(self, pipe: Pipe, where: str) -> None:
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
            except PipeClosed as exc:
                if self._broken is None:
                    self._broken = "The QMP pipe is closed."
                raise QMPError(self._broken) from exc
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
        except (QMPError, PipeError, OSError) as exc:
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


def _open_pipe(target: Path | str) -> Pipe | None:
    try:
        return pipes.open_pipe(target, "QEMU's QMP pipe")
    except PipeError as exc:
        raise QMPError(str(exc)) from exc


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())

