"""The engines list as a table model, with each engine's state, version and OS/arch.

Data flow: :class:`EnginesModel` takes the switcher's entries (``set_entries``, a diff: rows
keyed by entry id) and probes every entry on the qasync loop, at most :data:`PROBES_AT_ONCE`
at a time (``engine.engines.probe``: one ``/version`` over the entry's own transport, closed
right after; an ssh entry's processes end with it). Each answer updates its row's State,
Version and OS/arch cells; a failure's reason is the State cell's tooltip and the row's
``reason``. An entry is probed when it first shows (the Engines window opens, an engine is added
or edited, a context appears) and when the user presses Refresh — never on a timer.
``close()`` cancels the probes still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import shiboken6

from app.models.keyed import Column, KeyedTableModel, Row
from engine.engines import EngineEntry, EngineProbe, probe

log = logging.getLogger(__name__)

PROBES_AT_ONCE = 4

STATE_WORDS = {
    "": "Checking…",
    "running": "Running",
    "unreachable": "Unreachable",
    "tls-error": "TLS error",
    "ssh-error": "SSH error",
    "invalid": "Invalid",
    "error": "Error",
}

KIND_WORDS = {
    "portside": "Portside",
    "context": "docker context",
    "env": "DOCKER_HOST",
    "user": "Added",
    "launch": "--host",
}


def _name(row: Row) -> str:
    return f"{row['name']} (in use)" if row.get("current") else str(row["name"])


def _os_arch(row: Row) -> str:
    return "/".join(p for p in (row.get("os"), row.get("arch")) if p)


COLUMNS = (
    Column("name", "Engine", display_row=_name, tooltip=lambda r: r.get("description") or None),
    Column("kind", "From", format=lambda v: KIND_WORDS.get(str(v), str(v))),
    Column("url", "Address", tooltip=lambda r: r.get("tls_text") or None),
    Column(
        "state", "State", format=lambda v: STATE_WORDS.get(str(v or ""), str(v)),
        tooltip=lambda r: r.get("reason") or None,
    ),
    Column("version", "Version"),
    Column("os", "OS/arch", display_row=_os_arch),
)


def entry_row(entry: EngineEntry, current: bool, old: Row | None = None) -> dict[str, Any]:
    """A row for ``entry``; the probe's cells are kept from ``old`` until the next probe."""
    tls = entry.tls
    tls_text = ""
    if tls is not None:
        tls_text = "TLS, verifying the engine" if tls.verify else "TLS without verification"
    row: dict[str, Any] = {
        "name": entry.name, "kind": "launch" if entry.id == "launch" else entry.kind,
        "url": entry.url, "current": current,
        "description": entry.description, "tls_text": tls_text, "editable": entry.editable,
        "state": "", "reason": "", "version": "", "os": "", "arch": "",
    }
    if old is not None and old.get("url") == entry.url:
        for key in ("state", "reason", "version", "os", "arch"):
            row[key] = old.get(key, "")
    return row


def probe_cells(found: EngineProbe) -> dict[str, Any]:
    return {
        "state": found.state, "reason": found.reason, "version": found.version,
        "os": found.os, "arch": found.arch,
    }


class EnginesModel(KeyedTableModel):
    """Rows keyed by entry id; :meth:`probe_all` fills State, Version and OS/arch."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(COLUMNS, parent)
        self.entries: dict[str, EngineEntry] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(PROBES_AT_ONCE)
        self.probes_done = 0  # answers applied (tests wait on it)

    def set_entries(self, entries: list[EngineEntry], current_id: str) -> None:
        """Show ``entries``; an entry not probed yet (new, or its address changed) is probed."""
        old = dict(self.entries)
        self.entries = {e.id: e for e in entries}
        self.set_rows({
            e.id: entry_row(e, e.id == current_id, self.get(e.id)) for e in entries
        })
        for entry in entries:
            if old.get(entry.id) != entry:
                self.probe(entry.id)

    def probe_all(self) -> None:
        """Probe every entry again (the old answers stay until the new ones come)."""
        for entry_id in list(self.entries):
            self.probe(entry_id)

    def probe(self, entry_id: str) -> None:
        entry = self.entries.get(entry_id)
        if entry is None:
            return
        self.update_fields(entry_id, state="", reason="")
        task = asyncio.ensure_future(self._probe(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _probe(self, entry: EngineEntry) -> None:
        async with self._gate:
            try:
                found = await probe(entry)
            except Exception as exc:  # probe never raises for an engine problem; a bug shows here
                log.exception("probing %s failed", entry.url)
                found = EngineProbe("error", f"Portside could not check this engine: {exc}")
        if shiboken6.isValid(self) and self.entries.get(entry.id) == entry:
            self.update_fields(entry.id, **probe_cells(found))
            self.probes_done += 1

    @property
    def probing(self) -> bool:
        return any(not t.done() for t in self._tasks)

    def close(self) -> None:
        """Cancel the probes in flight (the dialog closes)."""
        for task in list(self._tasks):
            with contextlib.suppress(RuntimeError):
                task.cancel()
