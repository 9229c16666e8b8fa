"""The application context: one per app; owns the engine, the client and the /events task.

Flow: the engine reports its state (``Engine.subscribe``); when it is RUNNING the context creates
ONE :class:`EngineClient`, connects, starts ONE ``/events`` task and emits ``client_changed`` with
the client — every view then does one full resync. Each event is re-emitted as ``engine_event``
and views apply it as a diff. When the events stream breaks the context reconnects (with a
growing back-off), replays events since the last one seen, and emits ``client_changed`` again for a
resync. When the engine stops, the client is closed and ``client_changed(None)`` tells views to
show their state page.

The context never polls lists; only the events stream and the engine's status drive updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.runner import Runner
from engine.errors import EngineError, PortsideError
from engine.lifecycle.base import Engine, EngineState, EngineStatus

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: seconds switch_engine waits for clean-ups on the old engine (hold_client) before closing it
HOLD_LIMIT = 5.0


def _default_client_factory(endpoint: str) -> Any:
    from engine.client import EngineClient

    return EngineClient(endpoint)


def _client_for(engine: Engine) -> Any:
    """A client for one of Portside's engines, with the TLS settings its endpoint needs (the VM's
    ``tls`` API mode); engines that do not say use their endpoint string."""
    from engine.client import EngineClient

    endpoint = engine.status.endpoint or getattr(engine, "endpoint", None)
    how = getattr(engine, "client_endpoint", None)
    return EngineClient(how() if how is not None else str(endpoint))


class AppContext(QObject):
    """Owns the engine, the single EngineClient and the single /events stream.

    Signals:
        engine_status_changed(EngineStatus): every engine state change (Qt thread).
        client_changed(EngineClient | None): a (re)connected client -> views resync; None ->
            disconnected, views show their state page.
        engine_event(Event): one per /events message, for the whole app.
        connection_changed(): connection state/detail changed (footer, state pages).
        notification_requested(str, str): (title, message) for the tray.
    """

    engine_status_changed = Signal(object)
    client_changed = Signal(object)
    engine_event = Signal(object)
    #: (new Engine) emitted by switch_engine BEFORE the old client closes: pages, log windows,
    #: dialogs and models tied to the old engine close or empty themselves (app/engines/forget.py)
    engine_switching = Signal(object)
    connection_changed = Signal()
    notification_requested = Signal(str, str)
    _status_from_engine = Signal(object)

    def __init__(
        self,
        engine: Engine,
        *,
        attached: bool,
        runner: Runner | None = None,
        client_factory: Callable[[str], Any] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._attached = attached
        self._runner = runner or Runner(self)
        self._runner.notifier = self.notify
        self._runner.window_visible = self.window_visible
        self._client_factory = client_factory or _default_client_factory
        self._client: Any = None
        self._connect_task: asyncio.Task[None] | None = None
        self._events_task: asyncio.Task[None] | None = None
        self._last_event_time: float | None = None
        self.server_version: str = ""
        self.api_version: str = ""
        self.connection_detail: str = ""
        self.connecting = False
        self.events_received = 0
        self._visible_provider: Callable[[], bool] = lambda: True
        self._closed = False
        self._background: set[asyncio.Task[None]] = set()
        #: Portside-run engines switched away from (still running; stopped by shutdown)
        self._parked: list[Engine] = []
        #: clean-ups on the current engine that keep its client open (see hold_client)
        self._holds: set[asyncio.Future[Any]] = set()
        self._status_from_engine.connect(self._on_engine_status)
        self._unsubscribe = engine.subscribe(self._status_from_engine.emit)

    # -- properties --------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def client(self) -> Any:
        """The connected EngineClient, or None while disconnected."""
        return self._client

    @property
    def runner(self) -> Runner:
        return self._runner

    @property
    def attached(self) -> bool:
        """True for an external engine Portside does not manage (left running on quit)."""
        return self._attached

    def window_visible(self) -> bool:
        return self._visible_provider()

    def set_visibility_provider(self, provider: Callable[[], bool]) -> None:
        self._visible_provider = provider

    def notify(self, title: str, message: str) -> None:
        """Ask the tray to show a notification (the window is hidden)."""
        log.info("notification: %s: %s", title, message)
        self.notification_requested.emit(title, message)

    # -- engine control ----------------------------------------------------------------------
    def start(self) -> None:
        """Start (or, attached, check) the engine; connecting follows the RUNNING status."""
        status = self._engine.status
        self.engine_status_changed.emit(status)
        if status.state == EngineState.RUNNING:
            self._ensure_connected()
            if not self._attached:
                return
        self.start_engine()

    def start_engine(self) -> None:
        self._runner.run(
            self._start_engine, key="engine.lifecycle", title="Start engine",
            notify_when_hidden=True,
        )

    def stop_engine(self) -> None:
        self._runner.run(
            self._engine.stop, key="engine.lifecycle", title="Stop engine",
            notify_when_hidden=True,
        )

    def restart_engine(self) -> None:
        self._runner.run(
            self._engine.restart, key="engine.lifecycle", title="Restart engine",
            notify_when_hidden=True,
        )

    async def use_engine(self, engine: Engine, *, attached: bool) -> None:
        """Switch to ``engine`` (the first-run wizard's choice); the caller starts it.

        The client is dropped (views show their state page), the old engine's status no longer
        reaches us, and the old engine is stopped when Portside ran it.
        """
        if engine is self._engine:
            return
        # pages, log windows and dialogs tied to the old engine close (app/engines/forget.py)
        self.engine_switching.emit(engine)
        # everything in flight on the old engine ends before its client closes (the guide asked
        # first about named work: app/engines/busy.py); else a list that was running fails on the
        # closed client and is reported as "Cannot reach the Docker engine". Not the guide's own
        # start, which is what calls this.
        current = asyncio.current_task()
        self._runner.cancel_all(keep=current)
        await self._runner.drain(limit=5.0, keep=current)
        old, old_attached = self._engine, self._attached
        self._drop_client()
        with contextlib.suppress(Exception):
            self._unsubscribe()
        self._engine, self._attached = engine, attached
        self._client_factory = _default_client_factory  # not the switcher's ssh/TLS one
        self._last_event_time = None
        self.server_version = self.api_version = self.connection_detail = ""
        self._unsubscribe = engine.subscribe(self._status_from_engine.emit)
        self.engine_status_changed.emit(engine.status)
        self.connection_changed.emit()
        if not old_attached and old.status.state in (EngineState.RUNNING, EngineState.STARTING):
            await old.stop()

    def hold_client(self, task: asyncio.Future[Any]) -> None:
        """Keep the current client open until ``task`` is done: a clean-up on this engine (a
        closed terminal hangs up its shell in the container). ``switch_engine`` waits for these
        (at most :data:`HOLD_LIMIT` seconds) before it closes the old client."""
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    async def switch_engine(
        self,
        engine: Engine,
        *,
        attached: bool,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        """Move the whole app to ``engine`` in one step (the engines switcher, app/engines/).

        ``engine_switching`` goes first, so whatever is tied to the old engine (container pages
        with their log, stats and exec streams, log windows, dialogs, rows) closes while its
        client still works; then every task in flight on the old engine, the events task and the
        client are cancelled and closed AND awaited (views get ``client_changed(None)``), and the
        new engine is attached (or started) through ``client_factory`` (its transport: unix,
        TLS, ssh). Its state (or why it is unreachable) reaches views as for any engine, and its
        client brings ``client_changed(client)``: one full resync. A Portside-run engine we move
        away from keeps running (switching back is instant); :meth:`shutdown` stops it.
        """
        if engine is self._engine:
            return
        self.engine_switching.emit(engine)
        self._runner.cancel_all()
        await self._runner.drain(limit=5.0)
        if self._holds:  # clean-ups the closing pages started on the old engine
            await asyncio.wait(list(self._holds), timeout=HOLD_LIMIT)
        tasks = [t for t in (self._connect_task, self._events_task) if t is not None]
        self._drop_client()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        closing = list(self._background)
        if closing:
            await asyncio.gather(*closing, return_exceptions=True)
        with contextlib.suppress(Exception):
            self._unsubscribe()
        old, old_attached = self._engine, self._attached
        if not old_attached and old not in self._parked:
            self._parked.append(old)
        if engine in self._parked:
            self._parked.remove(engine)
        self._engine, self._attached = engine, attached
        self._client_factory = client_factory or _default_client_factory
        self._last_event_time = None
        self.server_version = self.api_version = self.connection_detail = ""
        self._unsubscribe = engine.subscribe(self._status_from_engine.emit)
        self.engine_status_changed.emit(engine.status)
        self.connection_changed.emit()
        if engine.status.state == EngineState.RUNNING:
            self._ensure_connected()
            if not attached:
                return
        try:
            status = await engine.start()
        except (PortsideError, OSError) as exc:
            # the state page shows the engine's FAILED status and its reason; no dialog
            log.warning("switching to %s: %s", engine.endpoint, exc)
            return
        if status.state == EngineState.RUNNING and engine is self._engine:
            self._ensure_connected()

    async def _start_engine(self) -> None:
        status = await self._engine.start()
        # An ExternalEngine may report RUNNING without a state *change*; make sure we connect.
        if status.state == EngineState.RUNNING:
            self._ensure_connected()

    def reconnect(self) -> None:
        """Drop the connection and connect again (full resync)."""
        self._drop_client()
        if self._engine.status.state == EngineState.RUNNING or self._attached:
            self._ensure_connected()

    def resync(self) -> None:
        """Ask every view for one full resync over the current client (F5)."""
        if self._client is not None:
            self.client_changed.emit(self._client)

    # -- status -> connection ----------------------------------------------------------------
    @Slot(object)
    def _on_engine_status(self, status: EngineStatus) -> None:
        if self._closed:
            return
        log.info("engine %s: %s %s", status.state.name, status.endpoint or "", status.detail)
        self.engine_status_changed.emit(status)
        if status.state == EngineState.RUNNING:
            self._ensure_connected()
        else:
            self._drop_client()
        self.connection_changed.emit()

    def _ensure_connected(self) -> None:
        if self._closed or self._client is not None:
            return
        if self._connect_task is not None and not self._connect_task.done():
            return
        self._connect_task = asyncio.ensure_future(self._connect_loop())

    def _drop_client(self) -> None:
        for task in (self._connect_task, self._events_task):
            if task is not None and not task.done():
                task.cancel()
        self._connect_task = self._events_task = None
        client, self._client = self._client, None
        if client is not None:
            closing = asyncio.ensure_future(self._close_client(client))
            self._background.add(closing)
            closing.add_done_callback(self._background.discard)
            self.client_changed.emit(None)
        self.connecting = False
        self.connection_changed.emit()

    async def _close_client(self, client: Any) -> None:
        try:
            aclose = getattr(client, "aclose", None)
            if aclose is not None:
                await aclose()
            else:
                await client.__aexit__(None, None, None)
        except Exception:  # closing a dead connection: nothing the user can act on
            log.debug("closing the engine client failed", exc_info=True)

    async def _connect_loop(self) -> None:
        """Connect with back-off until it works or the engine leaves RUNNING."""
        attempt = 0
        self.connecting = True
        self.connection_changed.emit()
        while not self._closed:
            if self._client_factory is _default_client_factory:
                client = _client_for(self._engine)
            else:
                endpoint = self._engine.status.endpoint or getattr(self._engine, "endpoint", None)
                client = self._client_factory(str(endpoint))
            try:
                await client.__aenter__()
                if not getattr(client, "api_version", None):
                    await client.connect()
                version = await client.version()
            except asyncio.CancelledError:
                await self._close_client(client)
                raise
            except (PortsideError, OSError) as exc:
                await self._close_client(client)
                self.connection_detail = str(exc)
                self.connection_changed.emit()
                log.warning("connecting to the engine failed: %s", exc)
                if self._attached and self._engine.status.state != EngineState.RUNNING:
                    self.connecting = False
                    self.connection_changed.emit()
                    return
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1
                if not self._attached and self._engine.status.state != EngineState.RUNNING:
                    self.connecting = False
                    self.connection_changed.emit()
                    return
                continue
            self.server_version = str(getattr(version, "version", "") or "")
            self.api_version = str(getattr(client, "api_version", "") or "")
            self.connection_detail = ""
            self.connecting = False
            self._client = client
            since = self._last_event_time if self._last_event_time is not None else time.time()
            self._events_task = asyncio.ensure_future(self._events_loop(client, since))
            self.connection_changed.emit()
            self.client_changed.emit(client)
            return

    async def _events_loop(self, client: Any, since: float) -> None:
        """THE /events stream: re-emit every event; on a break reconnect and resync."""
        try:
            async for event in client.events(since=f"{since:.9f}"):
                nano = getattr(event, "time_nano", None)
                if nano:
                    self._last_event_time = nano / 1e9
                self.events_received += 1
                self.engine_event.emit(event)
            reason = "the engine closed the events stream"
        except asyncio.CancelledError:
            raise
        except (EngineError, OSError) as exc:
            reason = str(exc)
        log.warning("events stream ended (%s); reconnecting", reason)
        if self._client is client:
            self._client = None
            self._events_task = None
            await self._close_client(client)
            self.client_changed.emit(None)
            self.connection_detail = reason
            self.connection_changed.emit()
            if self._attached:
                # Nobody reports an external engine's state: re-check it ourselves.
                with contextlib.suppress(PortsideError, OSError):
                    await self._engine.start()
            if self._engine.status.state == EngineState.RUNNING or self._attached:
                self._ensure_connected()

    # -- shutdown ----------------------------------------------------------------------------
    async def shutdown(self, *, stop_engine: bool | None = None) -> None:
        """Close the client and the events task; stop the engine unless attached."""
        self._closed = True
        self._runner.cancel_all()
        await self._runner.drain(limit=2.0)
        for task in (self._connect_task, self._events_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        client, self._client = self._client, None
        if client is not None:
            await self._close_client(client)
        with contextlib.suppress(Exception):
            self._unsubscribe()
        should_stop = (not self._attached) if stop_engine is None else stop_engine
        if should_stop and self._engine.status.state in (
            EngineState.RUNNING,
            EngineState.STARTING,
        ):
            await self._engine.stop()
        for parked in self._parked if stop_engine is not False else ():
            if parked.status.state in (EngineState.RUNNING, EngineState.STARTING):
                with contextlib.suppress(PortsideError, OSError):
                    await parked.stop()
