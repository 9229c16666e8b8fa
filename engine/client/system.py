""":class:`EngineClient`: the system endpoints, with the resource groups hung on one connection.

Data flow: ``EngineClient(endpoint)`` opens one :class:`~engine.client.connection.Connection`
and gives it to each resource group (``client.containers``, ``.execs``, ``.images``,
``.volumes``, ``.networks``). Its own methods are the engine-wide calls: ``/version``,
``/info``, ``/system/df`` (one read in flight shared by every caller, retried while another
client's read holds the engine), ``/build/prune``, the ``/events`` stream and ``/auth``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from engine import models
from engine.client.connection import Connection
from engine.client.containers import Containers
from engine.client.execs import Execs
from engine.client.images import Images
from engine.client.networks import Networks
from engine.client.request import build_request, encode_filters
from engine.client.response import parse_json
from engine.client.volumes import Volumes
from engine.endpoint import Endpoint
from engine.errors import AuthDenied, AuthRequired, EngineAPIError
from engine.registry import AuthConfig

#: How long :meth:`EngineClient.df` waits out another client's disk-usage computation.
DF_BUSY_RETRY_SECONDS = 30.0
#: How many times it reads again after the engine's layer/image race (see ``_df_read``).
DF_LAYER_RETRIES = 3


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared task's exception as seen: every caller got it through ``shield``."""
    if not task.cancelled():
        task.exception()


class EngineClient(Connection):
    """An async client for one Docker engine: the engine-wide calls and the resource groups.

    Takes the arguments of :class:`~engine.client.connection.Connection` (endpoint, timeout,
    transport); the API version is negotiated on first use (or by :meth:`connect`).
    """

    def __init__(
        self,
        endpoint: str | Endpoint | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(endpoint, timeout=timeout, transport=transport)
        self._df_task: asyncio.Task[models.DiskUsage] | None = None
        self.containers = Containers(self)
        self.execs = Execs(self)
        self.images = Images(self)
        self.volumes = Volumes(self)
        self.networks = Networks(self)

    async def version(self) -> models.Version:
        return models.Version.from_api(await self._json(build_request("GET", "/version")))

    async def info(self) -> models.Info:
        return models.Info.from_api(await self._json(build_request("GET", "/info")))

    async def df(self) -> models.DiskUsage:
        """``/system/df`` (it walks every layer and volume: can take seconds).

        The engine computes disk usage for one request at a time and refuses the others with an
        error, "a disk usage operation is already running". Callers of this client share the one
        read in flight (a caller that gives up does not cancel it for the others), and that
        refusal, caused by another client, is retried for up to ``DF_BUSY_RETRY_SECONDS``; so is,
        ``DF_LAYER_RETRIES`` times, the engine's "layer … was not found" from a deletion mid-read.
        """
        task = self._df_task
        if task is None or task.done():
            task = self._df_task = asyncio.ensure_future(self._df_read())
            task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _df_read(self) -> models.DiskUsage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DF_BUSY_RETRY_SECONDS
        delay = 0.1
        layer_races = 0
        while True:
            try:
                data = await self._json(build_request("GET", "/system/df"), read_timeout=None)
            except EngineAPIError as exc:  # dockerd 20.10 answers 500, newer ones 409
                busy = "already running" in exc.explanation
                # The engine lists layers, then images: an image deleted in between (a prune, a
                # removal, a build's intermediate) fails the read with "layer … was not found
                # (corruption?)". A new read no longer sees it; real corruption stays, so few.
                raced = "was not found (corruption?)" in exc.explanation
                layer_races += raced
                if not (busy or raced) or loop.time() >= deadline or layer_races > DF_LAYER_RETRIES:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            return models.DiskUsage.from_api(data)

    async def build_prune(self, *, all: bool = False) -> models.PruneResult:
        """Delete the build cache (``POST /build/prune``); ``all`` also drops cache still in use."""
        spec = build_request("POST", "/build/prune", params={"all": all} if all else None)
        data = await self._json(spec, read_timeout=None)
        return models.PruneResult.from_api(data or {})

    async def events(
        self,
        *,
        since: int | float | str | datetime | None = None,
        until: int | float | str | datetime | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[models.Event]:
        """Stream engine events (no read timeout; ends only with ``until`` or the engine).

        ``filters`` keys: type, event, container, image, label, network, volume, daemon, ...
        """
        spec = build_request(
            "GET",
            "/events",
            params={"since": since, "until": until, "filters": encode_filters(filters)},
        )
        async for msg in self._json_lines(spec):
            yield models.Event.from_api(msg)

    async def auth(self, auth: AuthConfig) -> models.AuthResult:
        """Check credentials with the registry (``POST /auth``).

        Raises:
            AuthDenied: the registry refused the user name or password.
        """
        spec = build_request("POST", "/auth", json_body=auth.to_json())
        try:
            resp = await self._send(spec)
        except (AuthRequired, AuthDenied) as exc:
            raise AuthDenied(exc.status, exc.explanation, method="POST", path="/auth") from exc
        data = parse_json(resp.content) if resp.status_code == 200 else {}
        return models.AuthResult.from_api(data if isinstance(data, dict) else {})
