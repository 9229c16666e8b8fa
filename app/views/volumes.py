"""The Volumes view: name, driver, size (from ``/system/df``), used by; create, remove, prune.

Rows are keyed by volume name. The full list (volumes + containers + df sizes) happens when a
client (re)connects; volume create/destroy events upsert/remove rows, container create events and
volume mount events add the container to "Used by", container destroy events take it out. Sizes
come from ``/system/df`` (expensive for the engine), so they are read on resync, after a prune, or
on "Refresh sizes" — never on a timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from app.dialogs.base import ResourceView
from app.dialogs.common import human_size
from app.dialogs.create import CreateVolumeDialog
from app.dialogs.volume_details import VolumeDetailsDialog
from app.models.keyed import RIGHT, Column, KeyedTableModel
from app.views.empty_state import install_empty_state
from engine.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


def _used_by_text(value: Any) -> str:
    names = sorted((value or {}).values())
    if not names:
        return "—"
    return ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")


VOLUME_COLUMNS = (
    Column("name", "Name"),
    Column("driver", "Driver"),
    Column("size", "Size", align=RIGHT, format=human_size, search=False),
    Column(
        "used_by",
        "Used by",
        format=_used_by_text,
        sort_key=lambda v: len(v or {}),
    ),
    Column("mountpoint", "Mountpoint"),
)


def volume_mounts(mounts: Any) -> list[str]:
    """Names of the volumes in a container's ``Mounts`` list."""
    out = []
    for m in mounts or ():
        if isinstance(m, dict) and m.get("Type") == "volume" and m.get("Name"):
            out.append(str(m["Name"]))
    return out


def volume_row(volume: Any, size: int | None, used_by: dict[str, str]) -> dict[str, Any]:
    return {
        "name": volume.name,
        "driver": volume.driver,
        "size": size,
        "used_by": dict(used_by),
        "mountpoint": volume.mountpoint,
        "_search": " ".join(f"{k}={v}" for k, v in (volume.labels or {}).items()),
    }


class VolumesView(ResourceView):
    refresh_key = "volumes.refresh"
    refresh_title = "List volumes"
    what = "volumes"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, KeyedTableModel(VOLUME_COLUMNS), parent)
        self.add_action("Create…", self.open_create, icon="volume-create")
        self.add_action(
            "Details…", self.open_details, icon="action-details", needs_selection=True,
            tip="Which containers use the volume, its mountpoint and size (double-click)",
        )
        self.add_remove_action()
        self.add_action("Prune…", self.prune_dialog, icon="image-prune")
        self.add_action("Refresh sizes", self.refresh_sizes, icon="action-refresh")
        self.table.setColumnWidth(4, 380)  # mountpoints are long paths
        self.finish_setup()
        self.empty_state = install_empty_state(
            self,
            "No volumes yet",
            "Volumes keep a container's data when the container is removed. Create one here, "
            "or run a container with a volume.",
            [("Create a volume…", self.open_create)],
        )

    # -- full resync ----------------------------------------------------------------------------
    async def fetch_all(self, client: Any) -> Any:
        volumes, containers, df = await asyncio.gather(
            client.volumes.list(), client.containers.list(all=True), client.df()
        )
        return volumes, containers, df

    def apply_all(self, result: Any) -> None:
        volumes, containers, df = result
        sizes = self._sizes(df)
        users: dict[str, dict[str, str]] = {}
        for c in containers:
            for vname in volume_mounts(c.raw.get("Mounts")):
                users.setdefault(vname, {})[c.id] = c.name
        self.model.set_rows(
            {v.name: volume_row(v, sizes.get(v.name), users.get(v.name, {})) for v in volumes}
        )
        self.show_count(len(volumes), "volume")
        self.empty_state.listed()

    @staticmethod
    def _sizes(df: Any) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for v in df.volumes:
            size = v.size
            out[v.name] = size if size is not None and size >= 0 else None
        return out

    def refresh_sizes(self) -> asyncio.Task[Any] | None:
        client = self.ctx.client

        def done(df: Any) -> None:
            for name, size in self._sizes(df).items():
                self.model.update_fields(name, size=size)
            self.say("Sizes updated.")

        return self.run(  # type: ignore[no-any-return]
            lambda: client.df(), key="volumes.sizes", title="Volume sizes", on_done=done
        )

    # -- diffs ----------------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if event.type == "volume":
            if event.action == "create":
                self._refresh_volume(event.actor_id)
            elif event.action == "destroy":
                self.remove_row(event.actor_id)
            elif event.action == "prune":
                # One event for a whole prune (possibly from another client): list again.
                self.resync()
            elif event.action == "mount":
                container = event.attributes.get("container")
                if container:
                    self._refresh_container(container)
        elif event.type == "container":
            if event.action == "create":
                self._refresh_container(event.actor_id)
            elif event.action == "destroy":
                for name in self.model.ids():
                    row = self.model.get(name)
                    if row and event.actor_id in row["used_by"]:
                        used = dict(row["used_by"])
                        used.pop(event.actor_id)
                        self.model.update_fields(name, used_by=used)

    def _refresh_volume(self, name: str) -> None:
        def apply(volume: Any) -> None:
            old = self.model.get(volume.name)
            used = dict(old["used_by"]) if old else {}
            size = volume.size if volume.size is not None and volume.size >= 0 else None
            if size is None and old:
                size = old.get("size")
            self.model.upsert(volume.name, volume_row(volume, size, used))

        self.refresh_row(
            lambda client: client.volumes.inspect(name),
            lambda volume: str(volume.name),
            apply,
            key=f"volumes.event.{name}",
            title="Update volume",
        )

    def _refresh_container(self, container_id: str) -> None:
        client = self.ctx.client
        if client is None:
            return

        def done(details: Any) -> None:
            for vname in volume_mounts(details.mounts):
                row = self.model.get(vname)
                if row is not None and container_id not in row["used_by"]:
                    used = dict(row["used_by"])
                    used[container_id] = details.name.lstrip("/")
                    self.model.update_fields(vname, used_by=used)

        def failed(exc: BaseException) -> bool:
            if not isinstance(exc, NotFound):
                log.warning("reading container %s mounts failed: %s", container_id, exc)
            return True

        self.launch(
            lambda: client.containers.inspect(container_id),
            key=f"volumes.container.{container_id}",
            title="Update volume usage",
            on_done=done,
            on_error=failed,
        )

    # -- actions --------------------------------------------------------------------------------
    def on_activated(self) -> None:
        self.open_details()

    def open_details(self, name: str | None = None) -> VolumeDetailsDialog | None:
        """Which containers use the volume, its mountpoint and size (double-click, Enter)."""
        return self.open_for_selected(name, lambda key: VolumeDetailsDialog(self.ctx, key, self))

    def open_create(self) -> CreateVolumeDialog:
        return self.show_create(
            CreateVolumeDialog(self.ctx, self), lambda name: f"Created volume {name}."
        )

    def remove_selected(self) -> None:
        names = self.selected_ids()
        if not names:
            return
        in_use = [n for n in names if (self.model.get(n) or {}).get("used_by")]
        text = f"Remove {len(names)} volume(s) and all their data?\n\n" + "\n".join(
            f"• {n}" for n in names[:15]
        )
        if in_use:
            text += (
                f"\n\n{len(in_use)} of them are used by containers; remove those containers first."
            )
        if self.ask("Remove volumes", text):
            self.remove_volumes(names)

    def remove_volumes(self, names: list[str]) -> asyncio.Task[Any] | None:
        client = self.ctx.client
        return self.remove_each(  # type: ignore[no-any-return]
            names, lambda name: client.volumes.remove(name), str, "volume"
        )

    def prune_dialog(self) -> None:
        if self.ask(
            "Prune volumes",
            "Remove every volume no container uses? Their data is lost.",
            ok="Prune",
        ):
            self.prune()

    def prune(self, filters: Mapping[str, list[str]] | None = None) -> asyncio.Task[Any] | None:
        """Remove every unused volume, named ones too (as the question says); ``filters`` (e.g.
        ``{"label": ["k=v"]}``) narrows the prune."""
        client = self.ctx.client
        return self.prune_rows(  # type: ignore[no-any-return]
            lambda: client.volumes.prune(filters=filters, all=True),
            title="Prune volumes",
            noun="volume",
            work="Remove unused volumes",
        )
