"""The Networks view: name, driver, subnet, containers; create, remove, prune, connect/disconnect.

Rows are keyed by network id. "Containers" are the containers attached right now (the network's
endpoints — what ``network inspect`` lists and what connect/disconnect events move; the engine
disconnects a container's endpoints when it stops). The full list happens only when a client
(re)connects; network create/destroy/connect/disconnect events update single rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QInputDialog, QWidget

from app.dialogs.base import ResourceView
from app.dialogs.common import short_id
from app.dialogs.create import CreateNetworkDialog
from app.dialogs.network_details import NetworkDetailsDialog
from app.models.keyed import RIGHT, Column, KeyedTableModel

if TYPE_CHECKING:
    from app.context import AppContext


BUILTIN = {"bridge", "host", "none"}


def _containers_text(value: Any) -> str:
    names = sorted((value or {}).values())
    if not names:
        return "—"
    return f"{len(names)}: " + ", ".join(names[:3]) + (" …" if len(names) > 3 else "")


NETWORK_COLUMNS = (
    Column("name", "Name"),
    Column("driver", "Driver"),
    Column("subnet", "Subnet"),
    Column("containers", "Containers", format=_containers_text, sort_key=lambda v: len(v or {})),
    Column("scope", "Scope", search=False),
    Column("short_id", "ID", align=RIGHT),
)


def network_row(network: Any, containers: dict[str, str]) -> dict[str, Any]:
    subnets = ", ".join(s.subnet for s in network.subnets if s.subnet)
    return {
        "name": network.name,
        "driver": network.driver,
        "subnet": subnets,
        "containers": dict(containers),
        "scope": network.scope,
        "short_id": short_id(network.id),
        "builtin": network.name in BUILTIN,
        "_search": " ".join(f"{k}={v}" for k, v in (network.labels or {}).items()),
    }


def endpoints_of(network: Any) -> dict[str, str]:
    """Container id → name from a network inspect's ``Containers``."""
    out: dict[str, str] = {}
    for cid, info in (network.containers or {}).items():
        name = str((info or {}).get("Name") or "") if isinstance(info, dict) else ""
        out[cid] = name or cid[:12]
    return out


class NetworksView(ResourceView):
    refresh_key = "networks.refresh"
    refresh_title = "List networks"
    what = "networks"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, KeyedTableModel(NETWORK_COLUMNS), parent)
        self.add_action("Create…", self.open_create, icon="network-create")
        self.add_action(
            "Details…", self.open_details, icon="action-details", needs_selection=True,
            tip="Subnet, gateway and connected containers with their addresses (double-click)",
        )
        self.add_action(
            "Connect…", self.connect_dialog, icon="network-connect", needs_selection=True
        )
        self.add_action(
            "Disconnect…",
            self.disconnect_dialog,
            icon="network-disconnect",
            needs_selection=True,
        )
        self.add_remove_action()
        self.add_action("Prune…", self.prune_dialog, icon="image-prune")
        self.finish_setup()

    # -- full resync ----------------------------------------------------------------------------
    async def fetch_all(self, client: Any) -> Any:
        networks = await client.networks.list()
        # The list leaves "Containers" empty; inspect each (few networks, only on resync).
        details = await asyncio.gather(
            *(client.networks.inspect(n.id) for n in networks), return_exceptions=True
        )
        return [d for d in details if not isinstance(d, BaseException)]

    def apply_all(self, networks: Any) -> None:
        self.model.set_rows({n.id: network_row(n, endpoints_of(n)) for n in networks})
        self.show_count(len(networks), "network")

    # -- diffs ----------------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if event.type != "network":
            return
        if event.action == "destroy":
            self.remove_row(event.actor_id)
        elif event.action == "prune":
            self.resync()
        elif event.action in ("create", "connect", "disconnect"):
            self.refresh_network(event.actor_id)

    def refresh_network(self, network_id: str) -> None:
        self.refresh_row(
            lambda client: client.networks.inspect(network_id),
            lambda network: str(network.id),
            lambda network: self.model.upsert(
                network.id, network_row(network, endpoints_of(network))
            ),
            key=f"networks.event.{network_id}",
            title="Update network",
            gone=lambda: self.remove_row(network_id),
        )

    # -- actions --------------------------------------------------------------------------------
    def on_activated(self) -> None:
        self.open_details()

    def open_details(self, network_id: str | None = None) -> NetworkDetailsDialog | None:
        """Subnet, gateway and the connected containers with their addresses (double-click)."""
        return self.open_for_selected(
            network_id, lambda nid: NetworkDetailsDialog(self.ctx, nid, self._name(nid), self)
        )

    def open_create(self) -> CreateNetworkDialog:
        return self.show_create(
            CreateNetworkDialog(self.ctx, self), lambda nid: f"Created network {nid[:12]}."
        )

    def _name(self, network_id: str) -> str:
        row = self.model.get(network_id)
        return str(row["name"]) if row else network_id[:12]

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        builtin = [i for i in ids if (self.model.get(i) or {}).get("builtin")]
        if builtin:
            self.say("bridge, host and none are built into the engine and can't be removed.")
            ids = [i for i in ids if i not in builtin]
        if not ids:
            return
        names = [self._name(i) for i in ids]
        if self.ask(
            "Remove networks", "Remove these networks?\n\n" + "\n".join(f"• {n}" for n in names)
        ):
            self.remove_networks(ids)

    def remove_networks(self, ids: list[str]) -> asyncio.Task[Any] | None:
        client = self.ctx.client
        return self.remove_each(  # type: ignore[no-any-return]
            ids, lambda nid: client.networks.remove(nid), self._name, "network"
        )

    def prune_dialog(self) -> None:
        if self.ask("Prune networks", "Remove every network no container uses?", ok="Prune"):
            self.prune()

    def prune(self, filters: Mapping[str, list[str]] | None = None) -> asyncio.Task[Any] | None:
        """Remove unused networks; ``filters`` (e.g. ``{"label": ["k=v"]}``) narrows the prune."""
        client = self.ctx.client

        def done(result: Any) -> None:
            gone = set(result.deleted)
            for nid in self.model.ids():
                if self._name(nid) in gone or nid in gone:
                    self.remove_row(nid)
            names = ", ".join(result.deleted) or "nothing"
            self.say(f"Pruned {len(result.deleted)} network(s): {names}.")

        return self.run(  # type: ignore[no-any-return]
            lambda: client.networks.prune(filters=filters), title="Prune networks", on_done=done,
            work="Remove unused networks",
        )

    def choose_container(self, title: str, choices: dict[str, str]) -> str | None:
        """Pick one container (id → label); None when cancelled."""
        labels = list(choices.values())
        label, ok = QInputDialog.getItem(self, title, "Container:", labels, 0, False)
        if not ok:
            return None
        for cid, text in choices.items():
            if text == label:
                return cid
        return None

    def connect_dialog(self) -> None:
        ids = self.selected_ids()
        client = self.ctx.client
        if not ids or client is None:
            return
        network_id = ids[0]

        def chosen(containers: Any) -> None:
            attached = (self.model.get(network_id) or {}).get("containers", {})
            choices = {c.id: f"{c.name} ({c.state})" for c in containers if c.id not in attached}
            if not choices:
                self.say("Every container is already connected to this network.")
                return
            cid = self.choose_container(f"Connect to {self._name(network_id)}", choices)
            if cid:
                self.connect_container(network_id, cid)

        self.run(lambda: client.containers.list(all=True), title="List containers", on_done=chosen)

    def connect_container(self, network_id: str, container: str) -> asyncio.Task[Any] | None:
        client = self.ctx.client
        return self.run(  # type: ignore[no-any-return]
            lambda: client.networks.connect(network_id, container),
            title="Connect container",
            on_done=lambda _r: self.say(f"Connected to {self._name(network_id)}."),
        )

    def disconnect_dialog(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        attached = dict((self.model.get(ids[0]) or {}).get("containers", {}))
        if not attached:
            self.say("No container is connected to this network.")
            return
        cid = self.choose_container(f"Disconnect from {self._name(ids[0])}", attached)
        if cid and self.ask(
            "Disconnect container",
            f"Disconnect {attached[cid]} from {self._name(ids[0])}?",
            ok="Disconnect",
        ):
            self.disconnect_container(ids[0], cid)

    def disconnect_container(self, network_id: str, container: str) -> asyncio.Task[Any] | None:
        client = self.ctx.client
        return self.run(  # type: ignore[no-any-return]
            lambda: client.networks.disconnect(network_id, container),
            title="Disconnect container",
            on_done=lambda _r: self.say(f"Disconnected from {self._name(network_id)}."),
        )
