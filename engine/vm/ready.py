"""The guest's readiness lines, read from the virtio-serial port ``org.portside.ready``, or from
the serial console where the host has no unix sockets.

QEMU offers the port as a unix socket (server, no wait); :class:`ReadyWatcher` connects to it
right after QEMU starts and reads lines the guest's init writes (image contract)::

    init <uptime>      portside-init started (kernel and initramfs are done)
    sshd <uptime>      sshd listens
    ready <uptime>     dockerd answers /_ping inside the VM
    failed <reason>    dockerd died while starting

The init writes each of these lines to the serial console too, as ``portside: ready 5.21``. In the
``tls`` API mode (Windows: no AF_UNIX in Python) QEMU gets no readiness port and the watcher is
fed from the console instead: the engine log's writer thread hands it QEMU's output
(:meth:`ReadyWatcher.feed_threadsafe`), and :class:`ConsoleLines` finds the lines in it.

Each line is stamped with the host's clock when it arrives, which, with the guest's own uptime,
splits a boot into firmware, kernel, init and engine time (:meth:`BootTimes.phases`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("init", "sshd", "ready", "failed")
#: What the init's ``say`` puts before a readiness line on the console (image contract).
CONSOLE_PREFIX = "portside: "
#: A console line longer than this is cut (a runaway line must not grow the buffer forever).
CONSOLE_LINE_MAX = 4096


def parse_line(line: str) -> tuple[str, str] | None:
    """``("init", "1.83")`` for a known line; None for anything else (ignored)."""
    kind, _, rest = line.strip().partition(" ")
    return (kind, rest.strip()) if kind in KINDS else None


def parse_console_line(line: str) -> tuple[str, str] | None:
    """``("ready", "5.21")`` for the console line ``portside: ready 5.21``; None otherwise.

    The prefix may follow other text on the same line (a kernel message can interleave).
    """
    _, found, rest = line.rpartition(CONSOLE_PREFIX)
    return parse_line(rest) if found else None


class ConsoleLines:
    """Splits console output (bytes in pieces of any size) into readiness lines."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        """The readiness lines completed by ``data``."""
        *lines, self._partial = (self._partial + data).split(b"\n")
        self._partial = self._partial[-CONSOLE_LINE_MAX:]
        found = []
        for raw in lines:
            parsed = parse_console_line(raw.decode("utf-8", "replace").replace("\r", ""))
            if parsed is not None:
                found.append(parsed)
        return found


@dataclass
class BootTimes:
    """When each readiness line came (host seconds after QEMU started) and the guest's uptime."""

    started: float = 0.0
    host: dict[str, float] = field(default_factory=dict)
    guest: dict[str, float] = field(default_factory=dict)
    pinged: float | None = None

    def phases(self) -> dict[str, float]:
        """firmware, kernel, init, engine, forward seconds (those that can be told)."""
        out: dict[str, float] = {}
        if "init" in self.host and "init" in self.guest:
            # the guest's uptime counts from the kernel's start: the rest before it is firmware
            out["firmware"] = max(0.0, self.host["init"] - self.guest["init"])
            out["kernel"] = self.guest["init"]
        if "sshd" in self.guest and "init" in self.guest:
            out["init"] = self.guest["sshd"] - self.guest["init"]
        if "ready" in self.guest and "sshd" in self.guest:
            out["engine"] = self.guest["ready"] - self.guest["sshd"]
        if self.pinged is not None and "ready" in self.host:
            out["forward"] = max(0.0, self.pinged - self.host["ready"])
        if self.pinged is not None:
            out["total"] = self.pinged
        return out

    def summary(self) -> str:
        return ", ".join(f"{k} {v:.1f} s" for k, v in self.phases().items())


class ReadyWatcher:
    """Reads the readiness port (``path``), or is fed the console (``path`` None); :meth:`wait`
    for a kind of line."""

    def __init__(self, path: Path | None, started: float) -> None:
        self.path = path
        self.times = BootTimes(started=started)
        self.failure = ""
        self._seen: dict[str, asyncio.Event] = {kind: asyncio.Event() for kind in KINDS}
        self._task: asyncio.Task[None] | None = None
        self._console = ConsoleLines()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.path is not None:
            self._task = asyncio.ensure_future(self._run())

    def feed_threadsafe(self, data: bytes) -> None:
        """(any thread) Console output from QEMU; its readiness lines reach the loop."""
        loop = self._loop
        found = self._console.feed(data)
        if found and loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._record_all, found)

    def _record_all(self, found: list[tuple[str, str]]) -> None:
        for kind, value in found:
            self._record(kind, value)

    def _record(self, kind: str, value: str) -> None:
        self.times.host.setdefault(kind, time.monotonic() - self.times.started)
        if kind == "failed":
            self.failure = value
        else:
            with contextlib.suppress(ValueError):
                self.times.guest.setdefault(kind, float(value))
        self._seen[kind].set()

    def seen(self, kind: str) -> bool:
        return self._seen[kind].is_set()

    async def wait(self, kind: str) -> str:
        """Wait for ``kind`` or a ``failed`` line; returns the kind that came."""
        wanted = asyncio.ensure_future(self._seen[kind].wait())
        failed = asyncio.ensure_future(self._seen["failed"].wait())
        try:
            await asyncio.wait({wanted, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wanted.cancel()
            failed.cancel()
        return "failed" if self._seen["failed"].is_set() else kind

    async def _run(self) -> None:
        assert self.path is not None
        while True:
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.02)
        try:
            while line := await reader.readline():
                parsed = parse_line(line.decode("utf-8", "replace"))
                if parsed is not None:
                    self._record(*parsed)
        finally:
            writer.close()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self._task
            self._task = None
