"""``/volumes``: list, create, inspect, remove, prune.

Data flow: requests are built by :func:`~engine.client.request.build_request` and sent through
the client's :class:`~engine.client.connection.Connection`; answers become
:class:`engine.models.Volume` objects. Prune asks for named volumes too where the negotiated API
version needs it (1.42+ removes only anonymous ones by default).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from engine import models
from engine.client.connection import Resource
from engine.client.negotiation import version_at_least
from engine.client.request import build_request, encode_filters, quote_path


class Volumes(Resource):
    """``/volumes``."""

    async def list(self, filters: Mapping[str, Any] | None = None) -> builtins.list[models.Volume]:
        spec = build_request("GET", "/volumes", params={"filters": encode_filters(filters)})
        data = await self._c._json(spec) or {}
        return [models.Volume.from_api(v) for v in data.get("Volumes") or ()]

    async def create(
        self,
        name: str | None = None,
        driver: str = "local",
        labels: Mapping[str, str] | None = None,
        driver_opts: Mapping[str, str] | None = None,
    ) -> models.Volume:
        body: dict[str, Any] = {"Driver": driver}
        if name:
            body["Name"] = name
        if labels:
            body["Labels"] = dict(labels)
        if driver_opts:
            body["DriverOpts"] = dict(driver_opts)
        data = await self._c._json(build_request("POST", "/volumes/create", json_body=body))
        return models.Volume.from_api(data)

    async def inspect(self, name: str) -> models.Volume:
        data = await self._c._json(build_request("GET", f"/volumes/{quote_path(name)}"))
        return models.Volume.from_api(data)

    async def remove(self, name: str, force: bool = False) -> None:
        spec = build_request(
            "DELETE", f"/volumes/{quote_path(name)}", params={"force": force or None}
        )
        await self._c._send(spec)

    async def prune(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        all: bool = False,
    ) -> models.PruneResult:
        """Remove unused volumes.

        Since API 1.42 the engine removes only anonymous ones unless ``all`` is set; ``all``
        asks for named ones too (ignored by older engines, which always remove both).
        """
        merged: dict[str, Any] = dict(filters or {})
        api = self._c.api_version or await self._c.connect()
        if all and version_at_least(api, "1.42"):
            merged["all"] = ["true"]
        return await self._prune("/volumes/prune", merged)
