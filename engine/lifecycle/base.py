"""What every engine Portside runs or attaches to looks like: states, status, subscriptions.

Plain Python, no Qt: the GUI wraps an :class:`Engine` in a small adapter that turns the
callbacks into signals.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.endpoint import Endpoint

log = logging.getLogger(__name__)


class EngineState(Enum):
    """Where an engine is in its life."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FAILED = "failed"


@dataclass(frozen=True)
class EngineStatus:
    """A snapshot of an engine's state.

    Attributes:
        state: the state.
        endpoint: where clients reach it (``unix:///...``), or None when unknown.
        detail: human-readable context; for FAILED the error and the engine log's last lines.
        pid: the engine process' id when Portside runs it.
    """

    state: EngineState
    endpoint: str | None
    detail: str = ""
    pid: int | None = None


StatusCallback = Callable[[EngineStatus], None]


class Engine(ABC):
    """An engine Portside starts, stops and watches (or just attaches to).

    Subscribers are called on every state change, in order. Changes made from the event loop call
    them right away; changes noticed on a watcher thread (a crash) are handed to the loop that
    started the engine, so callbacks always run on that loop's thread when there is one.
    """

    name: str = "engine"
    manages_process: bool = False

    def __init__(self) -> None:
        self._subscribers: list[StatusCallback] = []
        self._status_lock = threading.RLock()
        self._status = EngineStatus(EngineState.STOPPED, None)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def status(self) -> EngineStatus:
        """The current status (safe to read from any thread)."""
        with self._status_lock:
            return self._status

    @property
    @abstractmethod
    def endpoint(self) -> str:
        """Where clients reach this engine, e.g. ``unix:///run/user/1000/portside/docker.sock``."""

    def client_endpoint(self) -> Endpoint:
        """How a client reaches this engine, TLS settings included (where ``endpoint`` is a
        ``tcp://`` address, the string alone does not say which certificates to use)."""
        from engine.endpoint import Endpoint

        return Endpoint.parse(self.status.endpoint or self.endpoint)

    def subscribe(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback(status)`` on every state change; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @abstractmethod
    async def start(self) -> EngineStatus:
        """Start (or attach to) the engine; returns the RUNNING status or raises."""

    @abstractmethod
    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - the contract's shape
        """Stop (or detach from) the engine."""

    async def restart(self) -> EngineStatus:
        """Stop, then start again."""
        await self.stop()
        return await self.start()

    def _remember_loop(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    def _set_status(self, status: EngineStatus) -> None:
        with self._status_lock:
            if status == self._status:
                return
            self._status = status
            self._on_status(status)
        self._notify(status)

    def _on_status(self, status: EngineStatus) -> None:  # noqa: B027 - optional hook
        """Hook run under the status lock on every change (e.g. to persist it)."""

    def _notify(self, status: EngineStatus) -> None:
        loop = self._loop
        on_loop_thread = True
        if loop is not None and not loop.is_closed():
            try:
                on_loop_thread = asyncio.get_running_loop() is loop
            except RuntimeError:
                on_loop_thread = False
        if not on_loop_thread and loop is not None:
            try:
                loop.call_soon_threadsafe(self._deliver, status)
                return
            except RuntimeError:  # the loop closed meanwhile; deliver here instead
                pass
        self._deliver(status)

    def _deliver(self, status: EngineStatus) -> None:
        for callback in list(self._subscribers):
            try:
                callback(status)
            except Exception:  # a broken subscriber must not break the engine
                log.exception("engine status subscriber %r failed", callback)
