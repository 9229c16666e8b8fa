"""A network's details: driver, subnets and gateways, options, and the connected containers with
their addresses.

Data flow: :class:`NetworkDetailsDialog` reads ``GET /networks/{id}`` through the runner; its
``Containers`` map (container id → name, IPv4/IPv6 address, MAC) fills the table. The engine
lists only containers attached right now (a stopped container has no endpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from app.dialogs.common import short_id
from app.dialogs.details import DetailsDialog, count_of, labels_text
from app.models.keyed import Column

if TYPE_CHECKING:
    from app.context import AppContext

ENDPOINT_COLUMNS = (
    Column("name", "Container"),
    Column("ipv4", "IPv4 address"),
    Column("ipv6", "IPv6 address"),
    Column("mac", "MAC address"),
)


def endpoint_rows(network: Any) -> dict[str, dict[str, Any]]:
    """Rows keyed by container id from a network inspect's ``Containers``."""
    rows: dict[str, dict[str, Any]] = {}
    for cid, info in (network.containers or {}).items():
        info = info if isinstance(info, dict) else {}
        rows[cid] = {
            "name": str(info.get("Name") or short_id(cid)),
            "ipv4": str(info.get("IPv4Address") or "—"),
            "ipv6": str(info.get("IPv6Address") or "—"),
            "mac": str(info.get("MacAddress") or "—"),
        }
    return rows


class NetworkDetailsDialog(DetailsDialog):
    """Opened by a double-click on a network in the Networks view."""

    kind = "network"
    fact_names = ("Name", "ID", "Driver", "Subnet", "Gateway", "Options", "Labels")

    def __init__(
        self, ctx: AppContext, network_id: str, name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            ctx, network_id, f"Network {name}", ENDPOINT_COLUMNS, "Connected containers", parent
        )
        self.network_id = network_id
        self.load()

    async def fetch(self, client: Any) -> Any:
        return await client.networks.inspect(self.network_id)

    def apply(self, network: Any) -> None:
        rows = endpoint_rows(network)
        self.set_fact("Name", network.name)
        self.set_fact("ID", short_id(network.id))
        self.set_fact("Driver", f"{network.driver}, scope {network.scope}")
        subnets = [s.subnet for s in network.subnets if s.subnet]
        gateways = [s.gateway for s in network.subnets if s.gateway]
        none = "none" if network.driver in ("host", "null") else "not set"
        self.set_fact("Subnet", ", ".join(subnets) or none)
        self.set_fact("Gateway", ", ".join(gateways) or none)
        options = [
            word
            for word, on in (
                ("internal (no outside access)", network.internal),
                ("attachable", network.attachable),
                ("IPv6", network.ipv6),
            )
            if on
        ]
        self.set_fact("Options", ", ".join(options) or "none")
        self.set_fact("Labels", labels_text(network.labels))
        self.show_rows(
            rows,
            f"{count_of(len(rows), 'container')} connected."
            if rows
            else "No container is connected right now.",
        )
