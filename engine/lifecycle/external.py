"""An engine Portside does not run: it only attaches to its socket and watches ``/_ping``."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from engine.endpoint import Endpoint, resolve_endpoint
from engine.errors import EngineUnreachable
from engine.lifecycle.base import Engine, EngineState, EngineStatus

DEFAULT_SOCKET = "/var/run/docker.sock"


def default_endpoint() -> Endpoint:
    """``DOCKER_HOST``, else the system socket, else the rootless one (``$XDG_RUNTIME_DIR``)."""
    if "DOCKER_HOST" in os.environ:
        return resolve_endpoint(None)
    if Path(DEFAULT_SOCKET).exists():
        return Endpoint.parse(f"unix://{DEFAULT_SOCKET}")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime, "docker.sock").exists():
        return Endpoint.parse(f"unix://{Path(runtime, 'docker.sock')}")
    return Endpoint.parse(f"unix://{DEFAULT_SOCKET}")


class ExternalEngine(Engine):
    """An engine someone else runs (system dockerd, rootless dockerd, a remote host).

    ``start()`` only checks that it answers; ``stop()`` only detaches. The process is never touched.
    """

    name = "External engine"
    manages_process = False

    def __init__(self, endpoint: str | Endpoint | None = None, *, timeout: float = 5.0) -> None:
        super().__init__()
        self._target = resolve_endpoint(endpoint) if endpoint else default_endpoint()
        self._endpoint = self._target.url
        self._timeout = timeout
        self._status = EngineStatus(EngineState.STOPPED, self._endpoint)

    @property
    def endpoint(self) -> str:
        """The endpoint this engine is attached to."""
        return self._endpoint

    async def ping(self) -> None:
        """Raise :class:`EngineUnreachable` unless ``/_ping`` answers OK."""
        try:
            async with httpx.AsyncClient(
                transport=self._target.transport(),
                base_url=self._target.base_url,
                timeout=self._timeout,
            ) as client:
                response = await client.get("/_ping")
        except httpx.TransportError as exc:
            raise EngineUnreachable(self._endpoint, str(exc) or type(exc).__name__) from exc
        if response.status_code != 200:
            raise EngineUnreachable(self._endpoint, f"/_ping answered HTTP {response.status_code}")

    async def start(self) -> EngineStatus:
        """Attach: RUNNING when the engine answers, else FAILED and :class:`EngineUnreachable`."""
        self._remember_loop()
        self._set_status(EngineStatus(EngineState.STARTING, self._endpoint))
        try:
            await self.ping()
        except EngineUnreachable as exc:
            self._set_status(EngineStatus(EngineState.FAILED, self._endpoint, str(exc)))
            raise
        self._set_status(EngineStatus(EngineState.RUNNING, self._endpoint))
        return self.status

    async def refresh(self) -> EngineStatus:
        """Re-check the engine: RUNNING if it answers, FAILED (with the reason) otherwise."""
        try:
            await self.ping()
        except EngineUnreachable as exc:
            self._set_status(EngineStatus(EngineState.FAILED, self._endpoint, str(exc)))
        else:
            self._set_status(EngineStatus(EngineState.RUNNING, self._endpoint))
        return self.status

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - Engine.stop's shape
        """Detach (the engine keeps running)."""
        self._set_status(EngineStatus(EngineState.STOPPED, self._endpoint))
