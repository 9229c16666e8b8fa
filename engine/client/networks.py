"""``/networks``: list, create, inspect, remove, prune, connect and disconnect containers.

Data flow: requests are built by :func:`~engine.client.request.build_request` and sent through
the client's :class:`~engine.client.connection.Connection`; answers become
:class:`engine.models.Network` objects.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from engine import models
from engine.client.connection import Resource
from engine.client.request import build_request, encode_filters, quote_path


class Networks(Resource):
    """``/networks``."""

    async def list(self, filters: Mapping[str, Any] | None = None) -> builtins.list[models.Network]:
        spec = build_request("GET", "/networks", params={"filters": encode_filters(filters)})
        return [models.Network.from_api(n) for n in await self._c._json(spec) or ()]

    async def create(
        self,
        name: str,
        driver: str = "bridge",
        subnet: str | None = None,
        gateway: str | None = None,
        labels: Mapping[str, str] | None = None,
        *,
        internal: bool = False,
        attachable: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> str:
        """Create a network; returns its id."""
        body: dict[str, Any] = {
            "Name": name,
            "Driver": driver,
            "CheckDuplicate": True,
            "Internal": internal,
            "Attachable": attachable,
        }
        if subnet or gateway:
            pool = {"Subnet": subnet} if subnet else {}
            if gateway:
                pool["Gateway"] = gateway
            body["IPAM"] = {"Driver": "default", "Config": [pool]}
        if labels:
            body["Labels"] = dict(labels)
        if options:
            body["Options"] = dict(options)
        data = await self._c._json(build_request("POST", "/networks/create", json_body=body))
        return str(data["Id"])

    async def inspect(self, network: str) -> models.Network:
        data = await self._c._json(build_request("GET", f"/networks/{quote_path(network)}"))
        return models.Network.from_api(data)

    async def remove(self, network: str) -> None:
        await self._c._send(build_request("DELETE", f"/networks/{quote_path(network)}"))

    async def prune(self, filters: Mapping[str, Any] | None = None) -> models.PruneResult:
        return await self._prune("/networks/prune", filters)

    async def connect(
        self, network: str, container: str, *, aliases: builtins.list[str] | None = None
    ) -> None:
        body: dict[str, Any] = {"Container": container}
        if aliases:
            body["EndpointConfig"] = {"Aliases": list(aliases)}
        spec = build_request("POST", f"/networks/{quote_path(network)}/connect", json_body=body)
        await self._c._send(spec)

    async def disconnect(self, network: str, container: str, force: bool = False) -> None:
        spec = build_request(
            "POST",
            f"/networks/{quote_path(network)}/disconnect",
            json_body={"Container": container, "Force": force},
        )
        await self._c._send(spec)
