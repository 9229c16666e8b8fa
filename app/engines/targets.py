"""From an engines-list entry to what the AppContext runs on: an Engine and a client factory.

No Qt. Portside's own engines (``portside-native``, ``portside-vm``) are the lifecycle objects
that start and stop ``dockerd`` (the one the app launched with is reused, so switching back to
it is instant); every other entry (a docker context, ``DOCKER_HOST``, an engine the user added)
is an :class:`EntryEngine`: attaching means one :func:`engine.engines.probe` (unix, TLS or ssh,
with the reason in words when it fails), and its clients come from
:func:`engine.engines.client_for`, so the events stream, logs and stats use the entry's
transport.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.engines import EngineEntry, client_for, probe
from engine.errors import EngineError
from engine.lifecycle.base import Engine, EngineState, EngineStatus

OWN_IDS = ("portside-native", "portside-vm")


class EntryEngine(Engine):
    """An engine of the list Portside does not run: ``start`` probes it, ``stop`` detaches."""

    manages_process = False

    def __init__(self, entry: EngineEntry) -> None:
        super().__init__()
        self.entry = entry
        self.name = entry.name
        self._status = EngineStatus(EngineState.STOPPED, entry.url)
        #: what the last probe found (version, OS/arch, or why it failed)
        self.last_probe: Any = None

    @property
    def endpoint(self) -> str:
        return self.entry.url

    async def start(self) -> EngineStatus:
        """RUNNING when the engine answers; else FAILED with the probe's reason, and raises."""
        self._remember_loop()
        self._set_status(EngineStatus(EngineState.STARTING, self.entry.url))
        found = await probe(self.entry)
        self.last_probe = found
        if not found.running:
            reason = found.reason or f"it is {found.state}"
            detail = f"{self.entry.name} ({self.entry.url}) cannot be used: {reason}"
            self._set_status(EngineStatus(EngineState.FAILED, self.entry.url, detail))
            raise EngineError(detail)
        self._set_status(EngineStatus(EngineState.RUNNING, self.entry.url))
        return self.status

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - Engine.stop's shape
        """Detach; the engine keeps running."""
        self._set_status(EngineStatus(EngineState.STOPPED, self.entry.url))


@dataclass
class Target:
    """What ``AppContext.switch_engine`` needs for one entry."""

    engine: Engine
    attached: bool
    client_factory: Callable[[str], Any] | None


def own_engine(entry_id: str) -> Engine:
    """A new lifecycle object for one of Portside's own engines."""
    if entry_id == "portside-vm":
        from engine.vm.engine import VMEngine

        return VMEngine()
    from engine.lifecycle import EnginePaths, NativeEngine

    return NativeEngine(EnginePaths.default())


def target_for(entry: EngineEntry, known: dict[str, Engine]) -> Target:
    """The engine for ``entry`` (reusing ``known[entry.id]``, and remembering a new one)."""
    engine = known.get(entry.id)
    if entry.id in OWN_IDS:
        if engine is None:
            engine = known[entry.id] = own_engine(entry.id)
        return Target(engine, getattr(engine, "manages_process", True) is False, None)
    if not isinstance(engine, EntryEngine) or engine.entry != entry:
        engine = known[entry.id] = EntryEngine(entry)

    def factory(_endpoint: str) -> Any:
        return client_for(entry)

    return Target(engine, True, factory)


def initial_id(engine: Engine, attached: bool, entries: list[EngineEntry]) -> str:
    """Which entry the engine the app launched with is ("" for a --host not in the list)."""
    if isinstance(engine, EntryEngine):
        return engine.entry.id
    if not attached:
        return "portside-vm" if engine.name == "Portside VM" else "portside-native"
    url = str(getattr(engine, "endpoint", "") or "")
    for kind in ("env", "user", "context", "portside"):
        for entry in entries:
            if entry.kind == kind and entry.url == url:
                return entry.id
    return ""


def remembered_target(entry_id: str) -> Target | None:
    """The engine remembered in settings (``engine_id``), None when it is gone from the list."""
    from engine.engines import find_engine

    if entry_id in OWN_IDS:
        return Target(own_engine(entry_id), False, None)
    try:
        entry = find_engine(entry_id)
    except Exception:  # engines.json unreadable: start as if nothing was remembered
        return None
    return None if entry is None else target_for(entry, {})
