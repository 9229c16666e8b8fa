"""The containers store: keeps :class:`ContainersModel` in step with the engine, plus stats.

Data flow (no polling): ``client_changed`` -> one full list; ``engine_event`` (container events)
-> the ids are collected and re-listed in one ``filters={"id": [...]}`` request (a burst of 200
starts costs a handful of requests), ``destroy`` removes the row. CPU and memory come from one
stats stream per *visible* running row (the view says which), read off the GUI thread by ONE
:class:`engine.stats_monitor.StatsMonitor` thread over raw sockets, which keeps only the latest
sample per container (TLS endpoints fall back to :class:`AsyncStatsSource` on the loop). ONE
timer (running only while stats are wanted) applies the latest samples to the model once per
tick as one ``dataChanged`` range per parent. Nothing runs on the GUI thread per sample.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.models.containers import ContainersModel, carry_over, container_row
from engine.endpoint import Endpoint
from engine.errors import EngineError
from engine.stats_monitor import StatsMonitor, supports

log = logging.getLogger(__name__)

IGNORED_ACTIONS = {
    "attach",
    "detach",
    "resize",
    "top",
    "export",
    "commit",
    "copy",
    "archive-path",
    "extract-to-dir",
    "exec_create",
    "exec_start",
    "exec_die",
    "exec_detach",
}
ID_BATCH = 100
DIE_RETRIES = 5
DIE_RETRY_MS = 200
MAX_STATS_STREAMS = 40
STATS_TICK_MS = 1000  # apply collected stats samples this often (window focused)
STATS_TICK_UNFOCUSED_MS = 2000


class ContainerStore(QObject):
    """Keeps :class:`ContainersModel` in step with the engine: resync + event diffs + stats."""

    synced = Signal()  # after every full resync
    row_updated = Signal(str)  # a container id whose row changed through an event

    def __init__(self, ctx: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = ContainersModel(self)
        self._pending: set[str] = set()
        # Ids whose action finished: the next re-list shows the engine's word, ending "stopping…".
        self._settling: set[str] = set()
        # Ids whose "die" event came: the engine emits it before its list view says "exited",
        # so a re-list that still says "running" is retried a few times (retries left).
        self._dying: dict[str, int] = {}
        self._flushing = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(15)
        self._flush_timer.timeout.connect(self._flush)
        # Where samples come from while stats are wanted: one background thread reading raw
        # sockets (engine.stats_monitor), or async streams for TLS endpoints.
        self._source: StatsMonitor | AsyncStatsSource | None = None
        self._stats_tick = QTimer(self)
        self._stats_tick.setInterval(STATS_TICK_MS)
        self._stats_tick.timeout.connect(self.apply_stats)
        self.stats_ticks = 0  # ticks that changed the model (for tests and benchmarks)
        self.synced_once = False
        ctx.client_changed.connect(self._on_client)
        ctx.engine_event.connect(self._on_event)
        if ctx.client is not None:
            self.resync()

    # -- resync ---------------------------------------------------------------------------------
    def _on_client(self, client: Any) -> None:
        self.stop_all_stats()
        if client is None:
            return
        self.resync()

    def resync(self) -> None:
        client = self.ctx.client
        if client is None:
            return

        async def _list() -> list[Any]:
            return list(await client.containers.list(all=True))

        self.ctx.runner.run(
            _list,
            key="containers.refresh",
            title="List containers",
            on_done=self._apply_list,
            on_error=self._quiet_when_disconnected,
        )

    def _apply_list(self, summaries: list[Any]) -> None:
        if not shiboken6.isValid(self):
            return
        old = {cid: self.model.get(cid) for cid in self.model.ids()}
        rows = {}
        for s in summaries:
            rows[s.id] = carry_over(old.get(s.id), container_row(s))
        self.model.set_rows(rows)
        for cid in [c for c in self._settling if c in rows]:
            self._settling.discard(cid)
            self.model.set_pending(cid, None)
        self.synced_once = True
        self.synced.emit()
        if self._pending:
            self._flush_timer.start()

    def _quiet_when_disconnected(self, exc: BaseException) -> bool:
        # The connection went away mid-request: the state page says so; no dialog.
        return self.ctx.client is None and isinstance(exc, (EngineError, OSError))

    # -- events ---------------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if getattr(event, "type", "") != "container":
            return
        action = str(getattr(event, "action", "")).split(":", 1)[0]
        cid = str(getattr(event, "actor_id", ""))
        if not cid or action in IGNORED_ACTIONS:
            return
        if action == "destroy":
            self._pending.discard(cid)
            self._stop_stats(cid)
            self.model.remove(cid)
            return
        if action == "die":
            self._dying[cid] = DIE_RETRIES
        self._pending.add(cid)
        if not self._flushing and not self._flush_timer.isActive():
            self._flush_timer.start()

    def settle(self, cid: str) -> None:
        """An action on ``cid`` finished: re-list it, and let that row replace its pending text.

        Events alone are not enough: ``stop`` sends ``kill`` before the container is down, so the
        re-list they cause can still say "running" while the action is in flight.
        """
        self._settling.add(cid)
        self.refresh(cid)

    def refresh(self, cid: str) -> None:
        """Re-list one container soon (batched with the ids named by events)."""
        self._pending.add(cid)
        if not self._flushing and not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        client = self.ctx.client
        if client is None or not self._pending or self._flushing:
            return
        ids = sorted(self._pending)[:ID_BATCH]
        self._pending.difference_update(ids)
        self._flushing = True

        async def _list() -> list[Any]:
            return list(await client.containers.list(all=True, filters={"id": ids}))

        def _done(summaries: list[Any]) -> None:
            if not shiboken6.isValid(self):
                return  # the view (and this store) went away while the list was in flight
            self._flushing = False
            seen = set()
            for s in summaries:
                seen.add(s.id)
                row = carry_over(self.model.get(s.id), container_row(s))
                if s.id in self._dying:
                    if row["state"] == "running" and self._dying[s.id] > 0:
                        self._dying[s.id] -= 1
                        QTimer.singleShot(DIE_RETRY_MS, self, lambda c=s.id: self.refresh(c))
                    else:
                        del self._dying[s.id]
                if row["state"] != "running":
                    self._stop_stats(s.id)
                self.model.upsert(s.id, row)
                if s.id in self._settling:
                    self._settling.discard(s.id)
                    self.model.set_pending(s.id, None)
                self.row_updated.emit(s.id)
            for cid in ids:
                if cid not in seen:
                    self._settling.discard(cid)
                    self._stop_stats(cid)
                    self.model.remove(cid)
            if self._pending:
                self._flush_timer.start()

        def _failed(exc: BaseException) -> bool:
            self._flushing = False
            return self._quiet_when_disconnected(exc)

        task = self.ctx.runner.run(
            _list, title="Update containers", on_done=_done, on_error=_failed
        )
        task.add_done_callback(
            lambda t: setattr(self, "_flushing", False) if t.cancelled() else None
        )

    # -- stats ----------------------------------------------------------------------------------
    def set_stats_targets(self, ids: Iterable[str]) -> None:
        """Stream stats for exactly these (running) container ids; stop the others."""
        wanted: list[str] = []
        for cid in ids:
            row = self.model.get(cid)
            if row is not None and row.get("state") == "running":
                wanted.append(cid)
            if len(wanted) >= MAX_STATS_STREAMS:
                break
        gone = [c for c in self.stats_streams if c not in wanted]
        client = self.ctx.client
        if not wanted or client is None:
            self._close_source()
        else:
            if self._source is None:
                self._source = stats_source_for(client)
            self._source.set_targets(wanted)
        self._clear_stats(gone)
        self._update_tick()

    @property
    def stats_streams(self) -> set[str]:
        return self._source.targets if self._source is not None else set()

    def pending_stats(self) -> set[str]:
        """Ids with a stats sample collected since the last tick and not applied yet."""
        return self._source.pending() if self._source is not None else set()

    def drop_pending_stats(self) -> None:
        """Forget the samples collected since the last tick."""
        if self._source is not None:
            self._source.latest()

    @property
    def stats_interval(self) -> int:
        """Milliseconds between two applications of the collected samples."""
        return self._stats_tick.interval()

    def set_stats_interval(self, ms: int) -> None:
        if ms != self._stats_tick.interval():
            self._stats_tick.setInterval(ms)  # restarts an active timer with the new interval

    def _update_tick(self) -> None:
        if self._source is not None and not self._stats_tick.isActive():
            self._stats_tick.start()
        elif self._source is None and self._stats_tick.isActive():
            self._stats_tick.stop()

    def apply_stats(self) -> None:
        """Apply the latest samples collected since the last tick in one model update."""
        source = self._source
        if source is None:
            return
        for cid, exc in source.errors().items():
            log.debug("stats for %s ended: %s", cid[:12], exc)
        samples = source.latest()
        if not samples:
            return
        targets = source.targets
        batch = {
            cid: (float(s.cpu_percent), int(s.memory_usage), int(s.memory_limit))
            for cid, s in samples.items()
            if cid in targets
        }
        if batch and self.model.update_stats(batch):
            self.stats_ticks += 1

    def _close_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.close()

    def _clear_stats(self, ids: Iterable[str]) -> None:
        self.model.update_stats({cid: (None, None, None) for cid in ids})

    def _stop_stats(self, cid: str) -> None:
        source = self._source
        if source is None or cid not in source.targets:
            self._clear_stats([cid])
            return
        self.set_stats_targets([c for c in source.targets if c != cid])

    def stop_all_stats(self) -> None:
        self.set_stats_targets([])


class AsyncStatsSource:
    """TLS endpoints: one ``client.containers.stats`` stream per container on the GUI loop.

    Same interface as :class:`engine.stats_monitor.StatsMonitor` (which cannot read TLS): each
    stream only records its latest sample; the store's tick takes them.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._latest: dict[str, Any] = {}
        self._errors: dict[str, BaseException] = {}

    def set_targets(self, ids: Iterable[str]) -> None:
        wanted = set(ids)
        for cid in [c for c in self._tasks if c not in wanted]:
            self._tasks.pop(cid).cancel()
            self._latest.pop(cid, None)
        for cid in wanted - set(self._tasks):
            task = asyncio.ensure_future(self._stream(cid))
            self._tasks[cid] = task
            task.add_done_callback(functools.partial(self._done, cid))

    @property
    def targets(self) -> set[str]:
        return set(self._tasks)

    def pending(self) -> set[str]:
        return set(self._latest)

    def latest(self) -> dict[str, Any]:
        out, self._latest = self._latest, {}
        return out

    def errors(self) -> dict[str, BaseException]:
        out, self._errors = self._errors, {}
        return out

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._latest.clear()

    def _done(self, cid: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(cid) is task:
            del self._tasks[cid]

    async def _stream(self, cid: str) -> None:
        try:
            async for sample in self._client.containers.stats(cid, stream=True):
                self._latest[cid] = sample
        except (EngineError, OSError) as exc:
            self._errors[cid] = exc


def stats_source_for(client: Any) -> StatsMonitor | AsyncStatsSource:
    """The one-thread raw-socket monitor where it can read the endpoint, else the async client."""
    endpoint = getattr(client, "endpoint", None)
    if isinstance(endpoint, Endpoint) and supports(endpoint):
        return StatsMonitor(endpoint, getattr(client, "api_version", None))
    return AsyncStatsSource(client)
