"""The one switcher object per window: the engines list, the current engine, and the switch.

Data flow: :meth:`EngineSwitcher.reload` reads ``engine.engines.list_engines()`` (files and the
environment only, no I/O to engines); ``switch_to(id)`` first asks when work the user started
still runs on the old engine (app/engines/busy.py; kept: nothing changes and the menus and the
Engines window show the old engine again), then remembers the choice (``engine_id`` in
settings.json, saved at once), emits ``changed`` so the footer button, the tray submenu and the
Engines dialog mark the new current engine, and runs ``AppContext.switch_engine`` as a task of
its own (not through the Runner: the switch cancels every Runner task of the old engine). Two
quick switches run one after the other, never interleaved.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.engines.busy import confirm_switch
from app.engines.targets import initial_id, target_for
from engine.engines import EngineEntry, EnginesFileError, list_engines
from engine.lifecycle.base import Engine

log = logging.getLogger(__name__)


class EngineSwitcher(QObject):
    """Engines list + current engine for one window.

    Signals:
        changed(): the list or the current engine changed (menus and lists rebuild).
        busy_changed(bool): a switch started / ended.
    """

    changed = Signal()
    busy_changed = Signal(bool)

    def __init__(self, ctx: Any, settings: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings
        self.entries: list[EngineEntry] = []
        #: why the list is incomplete ("" when engines.json was read fine)
        self.problem = ""
        self._engines: dict[str, Engine] = {}
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._asking = False  # the switch question is up
        self.reload()
        self.current_id = initial_id(ctx.engine, ctx.attached, self.entries)
        #: the engine given by --host (not in any list) stays reachable from the switcher
        self.launch_entry: EngineEntry | None = None
        if not self.current_id:
            url = str(getattr(ctx.engine, "endpoint", "") or "")
            self.launch_entry = EngineEntry(
                id="launch", name="Attached at launch", kind="env", url=url,
                description="The engine Portside was started with (--host)",
            )
            self.entries.append(self.launch_entry)
            self.current_id = "launch"
        self._engines[self.current_id] = ctx.engine
        # the first-run guide may move the app too (AppContext.use_engine): follow it
        ctx.engine_status_changed.connect(self._follow_ctx)

    # -- the list ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the list again (after an add, edit or remove, or when a menu opens)."""
        try:
            self.entries = list_engines()
            self.problem = ""
            launch = getattr(self, "launch_entry", None)
            if launch is not None:
                self.entries.append(launch)
        except EnginesFileError as exc:
            self.problem = str(exc)
            log.warning("engines list: %s", exc)
        self.changed.emit()

    def entry(self, entry_id: str) -> EngineEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    @property
    def current(self) -> EngineEntry | None:
        return self.entry(self.current_id)

    def current_name(self) -> str:
        entry = self.current
        if entry is not None:
            return entry.name
        return str(getattr(self.ctx.engine, "endpoint", "") or "engine")

    def _follow_ctx(self, *_: Any) -> None:
        """Name the engine the context uses when something else than a switch moved it."""
        if self._tasks or self._engines.get(self.current_id) is self.ctx.engine:
            return
        found = next((i for i, e in self._engines.items() if e is self.ctx.engine), "")
        found = found or initial_id(self.ctx.engine, self.ctx.attached, self.entries)
        if found:
            self.current_id = found
            self._engines[found] = self.ctx.engine
            self.changed.emit()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    # -- the switch -------------------------------------------------------------------------------
    def switch_to(self, entry_id: str, parent: QWidget | None = None) -> asyncio.Task[None] | None:
        """Move the app to the entry ``entry_id``; None when it is the current one or unknown,
        or when the user keeps the work running on the old engine (asked over ``parent``, by
        default the window)."""
        entry = self.entry(entry_id)
        if entry is None or (entry_id == self.current_id and not self._tasks):
            return None
        if self._asking:
            return None  # one question at a time (the tray stays usable while it is up)
        work = self.ctx.runner.work_in_flight()
        if work:
            self._asking = True
            try:
                go = confirm_switch(
                    work, self.current_name(), entry.name,
                    parent or self.ctx.runner.dialog_parent(),
                )
            finally:
                self._asking = False
            if not go:
                self.changed.emit()  # a menu already checked the new entry: show the old one
                return None
        self.current_id = entry_id
        self.settings.engine_id = entry_id
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("could not remember the engine in %s: %s", self.settings.path, exc)
        self.changed.emit()
        task = asyncio.ensure_future(self._switch(entry))
        was_busy = self.busy
        self._tasks.add(task)
        if not was_busy:
            self.busy_changed.emit(True)
        task.add_done_callback(self._finished)
        return task

    async def _switch(self, entry: EngineEntry) -> None:
        async with self._lock:
            if entry.id != self.current_id:
                return  # a later choice replaced this one while it waited
            target = target_for(entry, self._engines)
            log.info("switching to %s (%s)", entry.name, entry.url)
            await self.ctx.switch_engine(
                target.engine, attached=target.attached, client_factory=target.client_factory
            )

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not shiboken6.isValid(self):
            return  # the window closed while it switched
        if not task.cancelled() and task.exception() is not None:
            self.ctx.runner.report("Switch engine", task.exception())
        if not self._tasks:
            self.busy_changed.emit(False)
