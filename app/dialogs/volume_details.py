"""A volume's details: mountpoint, driver, size, labels, and which containers use it (and where).

Data flow: :class:`VolumeDetailsDialog` reads, in one go through the runner, the volume
(``GET /volumes/{name}``), the containers that mount it (``GET /containers/json?all=1`` with the
``volume`` filter, running or not) and the size: the inspect's ``UsageData`` when the engine fills
it, else the shared ``/system/df`` read (:meth:`engine.client.EngineClient.df`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from app.dialogs.common import human_size
from app.dialogs.details import DetailsDialog, count_of, labels_text
from app.models.keyed import Column


def local_time(rfc3339: str | None) -> str:
    """The engine's UTC RFC 3339 time as the local date and time a person reads (or as given)."""
    import datetime

    from app.models.images import parse_created

    seconds = parse_created(rfc3339)
    if seconds <= 0:
        return str(rfc3339 or "unknown")
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


if TYPE_CHECKING:
    from app.context import AppContext

USER_COLUMNS = (
    Column("name", "Container"),
    Column("state", "State"),
    Column("destination", "Mounted at"),
    Column("mode", "Mode"),
)


def volume_users(volume_name: str, containers: Any) -> dict[str, dict[str, Any]]:
    """Rows (keyed by container id) for the containers whose mounts include ``volume_name``."""
    rows: dict[str, dict[str, Any]] = {}
    for c in containers:
        for m in c.raw.get("Mounts") or ():
            if isinstance(m, dict) and m.get("Type") == "volume" and m.get("Name") == volume_name:
                rows[c.id] = {
                    "name": c.name,
                    "state": c.status or c.state,
                    "destination": str(m.get("Destination") or ""),
                    "mode": "read-write" if m.get("RW", True) else "read-only",
                }
    return rows


class VolumeDetailsDialog(DetailsDialog):
    """Opened by a double-click on a volume in the Volumes view."""

    kind = "volume"
    fact_names = ("Name", "Mountpoint", "Size", "Driver", "Created", "Labels")

    def __init__(self, ctx: AppContext, name: str, parent: QWidget | None = None) -> None:
        super().__init__(
            ctx, name, f"Volume {name}", USER_COLUMNS, "Used by these containers", parent
        )
        self.name = name
        self.volume_size: int | None = None
        self.load()

    async def fetch(self, client: Any) -> Any:
        volume, containers = await asyncio.gather(
            client.volumes.inspect(self.name),
            client.containers.list(all=True, filters={"volume": [self.name]}),
        )
        size = volume.size
        if size is None:  # the inspect leaves UsageData empty: the df read has the sizes
            df = await client.df()
            size = next((v.size for v in df.volumes if v.name == self.name), None)
        return volume, containers, size

    def apply(self, result: Any) -> None:
        volume, containers, size = result
        users = volume_users(self.name, containers)
        self.volume_size = size
        self.set_fact("Name", volume.name)
        self.set_fact("Mountpoint", volume.mountpoint)
        self.set_fact("Size", human_size(size) if size is not None else "unknown")
        self.set_fact("Driver", volume.driver + (f" ({volume.scope})" if volume.scope else ""))
        self.set_fact("Created", local_time(volume.created_at))
        self.set_fact("Labels", labels_text(volume.labels))
        count = len(users)
        self.show_rows(
            users,
            f"{count_of(count, 'container')} use{'s' if count == 1 else ''} this volume."
            if count
            else "No container uses this volume.",
        )
