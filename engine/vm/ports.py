"""Published container ports, reachable on the host's 127.0.0.1 at the same port.

    dockerd in the VM ──/events (container start, die, destroy...)──► PortForwarder
        ──► GET /containers/json ──► wanted_forwards() ──► diff(active, wanted)
        ──► QMP human-monitor-command "hostfwd_add net0 tcp:127.0.0.1:P-:P" / "hostfwd_remove"

Events carry no port list, so every relevant container event re-lists the running containers and
the forwards are brought in line with that list (a diff: only the changes reach QEMU). The list
is read once when the forwarder starts, with the event stream opened from that moment on
(``since``), so a container started in between is not missed. A port the host already uses cannot
be forwarded: QEMU says so in its answer, and the forwarder records a clear message per port
(``problems``) that the engine puts into its status and log — nothing crashes.

Ports a container publishes on the VM's own 127.0.0.1 are not forwarded (slirp reaches the guest
at 10.0.2.15, not its loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.errors import EngineError, LifecycleError
from engine.models import ContainerSummary, Event
from engine.vm.qmp import QMPSession

log = logging.getLogger(__name__)

#: The slirp netdev's id on QEMU's command line (image contract).
NETDEV = "net0"
#: Container events after which the published ports may have changed.
SYNC_ACTIONS = frozenset({"start", "restart", "die", "stop", "kill", "destroy", "unpause", "pause"})
#: Host addresses a published port may be bound to in the VM and still be forwarded.
FORWARDABLE_IPS = frozenset({"", "0.0.0.0", "::"})


@dataclass(frozen=True, order=True)
class Forward:
    """One forwarded port: host 127.0.0.1:port → guest :port."""

    proto: str
    port: int

    def add_command(self) -> str:
        return f"hostfwd_add {NETDEV} {self.proto}:127.0.0.1:{self.port}-:{self.port}"

    def remove_command(self) -> str:
        return f"hostfwd_remove {NETDEV} {self.proto}:127.0.0.1:{self.port}"

    def __str__(self) -> str:
        return f"{self.port}/{self.proto}"


def wanted_forwards(containers: Iterable[ContainerSummary]) -> set[Forward]:
    """The forwards the running containers' published ports need."""
    wanted = set()
    for container in containers:
        if container.state != "running":
            continue
        for port in container.ports:
            if port.public_port and port.ip in FORWARDABLE_IPS and port.type in ("tcp", "udp"):
                wanted.add(Forward(port.type, port.public_port))
    return wanted


def diff(active: set[Forward], wanted: set[Forward]) -> tuple[list[Forward], list[Forward]]:
    """(to add, to remove), sorted so the log reads in port order."""
    return sorted(wanted - active), sorted(active - wanted)


def needs_sync(event: Event) -> bool:
    """Whether a ``/events`` message may change the published ports."""
    return event.type == "container" and event.action.split(":")[0] in SYNC_ACTIONS


def add_failed(output: str) -> bool:
    """QEMU answers a failed ``hostfwd_add`` with text (and no QMP error)."""
    return "could not" in output.lower() or "error" in output.lower()


class PortForwarder:
    """Keeps QEMU's host forwards in line with the VM engine's published ports.

    Args:
        qmp: the VM's QMP connection.
        endpoint: the (forwarded) engine API endpoint.
        on_change: called after each sync that changed something or met a problem.
    """

    def __init__(
        self,
        qmp: QMPSession,
        endpoint: str | Endpoint,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._qmp = qmp
        self._endpoint = endpoint
        self._on_change = on_change
        self.active: set[Forward] = set()
        self.problems: dict[Forward, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.synced = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def sync(self, client: EngineClient) -> None:
        """List running containers and apply the difference to QEMU."""
        containers = await client.containers.list()
        wanted = wanted_forwards(containers)
        to_add, to_remove = diff(self.active, wanted)
        changed = bool(to_add or to_remove)
        for forward in to_remove:
            await self._qmp.human_command(forward.remove_command())
            self.active.discard(forward)
            self.problems.pop(forward, None)
            log.info("VM port %s: forward removed", forward)
        for forward in to_add:
            output = await self._qmp.human_command(forward.add_command())
            if add_failed(output):
                self.problems[forward] = (
                    f"port {forward} is not reachable on 127.0.0.1:{forward.port}: the host "
                    f"already uses it (QEMU: {output.strip()}). Publish another host port."
                )
                log.warning("VM %s", self.problems[forward])
            else:
                self.active.add(forward)
                self.problems.pop(forward, None)
                log.info("VM port %s: forwarded from 127.0.0.1:%s", forward, forward.port)
        for forward in list(self.problems):
            if forward not in wanted:
                del self.problems[forward]
                changed = True
        self.synced.set()
        if changed or self.problems:
            self._on_change()

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with EngineClient(self._endpoint, timeout=30) as client:
                    since = time.time()
                    await self.sync(client)
                    delay = 0.5
                    async for event in client.events(since=since, filters={"type": ["container"]}):
                        if needs_sync(event):
                            await self.sync(client)
            except (EngineError, LifecycleError, OSError) as exc:
                # the forward restarts, or the engine is going away: try again shortly
                log.info("VM port forwarder: %s; again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        """Stop following events and drop every forward (QEMU may already be gone)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for forward in sorted(self.active):
            with contextlib.suppress(LifecycleError):
                await self._qmp.human_command(forward.remove_command(), timeout=5)
        self.active.clear()
        self.problems.clear()
