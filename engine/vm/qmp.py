"""A small asyncio client for QEMU's machine protocol (QMP) over a unix socket.

QMP is JSON objects, one per line, both ways::

    QEMU → {"QMP": {"version": ..., "capabilities": [...]}}      greeting
    us   → {"execute": "qmp_capabilities"}                        leave negotiation mode
    QEMU → {"return": {}}
    us   → {"execute": "system_powerdown", "id": 3}
    QEMU → {"event": "POWERDOWN", ...}                              events come any time
    QEMU → {"return": {}, "id": 3}                                  the answer, matched by id

One reader task reads every line: answers resolve the waiting :meth:`QMPClient.execute` call by
id, events go to a queue that :meth:`QMPClient.events` yields from. Errors come back as
``{"error": {"class", "desc"}}`` and raise :class:`QMPError`. The framing is the pure
:func:`encode`/:func:`decode`; only :meth:`connect` touches a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from engine.errors import LifecycleError

#: QMP lines can be long (``query-*`` answers); asyncio's default 64 KiB limit is too small.
READ_LIMIT = 16 * 1024 * 1024


class QMPError(LifecycleError):
    """QEMU answered a command with an error, or the QMP connection failed."""

    def __init__(self, message: str, error_class: str = "") -> None:
        super().__init__(message)
        self.error_class = error_class


def encode(command: str, arguments: dict[str, Any] | None = None, id: int | None = None) -> bytes:
    """One QMP command as a line of JSON."""
    message: dict[str, Any] = {"execute": command}
    if arguments:
        message["arguments"] = arguments
    if id is not None:
        message["id"] = id
    return json.dumps(message, separators=(",", ":")).encode() + b"\r\n"


def decode(line: bytes) -> dict[str, Any]:
    """One line from QEMU as a dict; raises :class:`QMPError` on garbage."""
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise QMPError(f"QEMU sent a line that is not JSON: {line[:200]!r}") from exc
    if not isinstance(message, dict):
        raise QMPError(f"QEMU sent a QMP message that is not an object: {line[:200]!r}")
    return message


def answer_value(command: str, answer: dict[str, Any]) -> Any:
    """The ``return`` of QEMU's answer to ``command``; an ``error`` raises :class:`QMPError`."""
    if "error" in answer:
        error = answer["error"] if isinstance(answer["error"], dict) else {}
        raise QMPError(
            f"QMP {command}: {error.get('desc', answer['error'])}", str(error.get("class", ""))
        )
    return answer.get("return")


class QMPSession(ABC):
    """What VMEngine and PortForwarder use of a QMP connection: :class:`QMPClient` (unix socket)
    or :class:`engine.vm.qmp_pipe.PipeQMPClient` (pipe chardev, no unix sockets on the host).
    Each brings its own ``execute`` and ``close``; the commands VMEngine sends are made here."""

    @abstractmethod
    async def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """Run ``command``; returns its ``return`` value or raises :class:`QMPError`."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (QEMU keeps running)."""

    async def human_command(self, line: str, *, timeout: float = 30.0) -> str:  # noqa: ASYNC109
        """Run a human monitor command (``hostfwd_add ...``); returns its text output."""
        out = await self.execute("human-monitor-command", {"command-line": line}, timeout=timeout)
        return out if isinstance(out, str) else ""

    async def powerdown(self) -> None:
        """Press the ACPI power button (the guest shuts down cleanly)."""
        await self.execute("system_powerdown")

    async def quit(self) -> None:
        """End QEMU at once (it answers, then exits and the connection closes)."""
        with contextlib.suppress(QMPError):
            await self.execute("quit", timeout=5)


class QMPClient(QMPSession):
    """A connected QMP session (use :meth:`connect`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._read_task: asyncio.Task[None] | None = None
        self._closed: BaseException | None = None
        self.greeting: dict[str, Any] = {}

    @classmethod
    async def connect(cls, path: Path, timeout: float = 10.0) -> QMPClient:  # noqa: ASYNC109
        """Connect to QEMU's QMP socket (retrying while QEMU creates it) and negotiate."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(path), limit=READ_LIMIT)
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                if time.monotonic() > deadline:
                    raise QMPError(f"QEMU's QMP socket {path} did not open: {exc}") from exc
                await asyncio.sleep(0.02)
        client = cls(reader, writer)
        try:
            greeting = decode(await asyncio.wait_for(reader.readline(), timeout))
            if "QMP" not in greeting:
                raise QMPError(f"QEMU's QMP greeting is missing: {greeting}")
            client.greeting = greeting["QMP"]
            client._read_task = asyncio.ensure_future(client._read_loop())
            await client.execute("qmp_capabilities", timeout=timeout)
        except BaseException:
            await client.close()
            raise
        return client

    async def execute(
        self,
        command: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """Run ``command``; returns its ``return`` value or raises :class:`QMPError`."""
        if self._closed is not None:
            raise QMPError(f"The QMP connection is closed ({self._closed}).")
        self._next_id += 1
        ident = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        try:
            self._writer.write(encode(command, arguments, ident))
            await self._writer.drain()
            answer = await asyncio.wait_for(future, timeout)
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise QMPError(f"QMP {command}: the connection to QEMU broke ({exc}).") from exc
        except TimeoutError as exc:
            raise QMPError(f"QEMU did not answer {command} within {timeout:.0f} s.") from exc
        finally:
            self._waiting.pop(ident, None)
        return answer_value(command, answer)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """QEMU's events as they come, until the connection closes."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def close(self) -> None:
        """Close the connection (QEMU keeps running)."""
        if self._read_task is not None:
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._read_task
        self._writer.close()
        with contextlib.suppress(OSError, RuntimeError):
            await self._writer.wait_closed()
        self._finish(QMPError("closed"))

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    raise QMPError("QEMU closed the QMP connection")
                message = decode(line)
                if "event" in message:
                    self._events.put_nowait(message)
                    continue
                ident = message.get("id")
                future = self._waiting.get(ident) if isinstance(ident, int) else None
                if future is not None and not future.done():
                    future.set_result(message)
        except (QMPError, OSError, ValueError) as exc:
            self._finish(exc)

    def _finish(self, reason: BaseException) -> None:
        if self._closed is None:
            self._closed = reason
            self._events.put_nowait(None)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(QMPError(f"The QMP connection closed: {reason}"))
