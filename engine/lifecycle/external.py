"""An engine Portside does not run: it only attaches to its socket and watches ``/_ping``."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from engine.errors import EngineUnreachable, InvalidEndpoint
from engine.lifecycle.base import Engine, EngineState, EngineStatus

DEFAULT_SOCKET = "/var/run/docker.sock"


def default_endpoint() -> str:
    """``DOCKER_HOST``, else the system socket, else the rootless one (``$XDG_RUNTIME_DIR``)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    if Path(DEFAULT_SOCKET).exists():
        return f"unix://{DEFAULT_SOCKET}"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime, "docker.sock").exists():
        return f"unix://{Path(runtime, 'docker.sock')}"
    return f"unix://{DEFAULT_SOCKET}"


def _transport(endpoint: str) -> tuple[httpx.AsyncHTTPTransport, str]:
    if endpoint.startswith("unix://"):
        path = endpoint.removeprefix("unix://")
        if not path.startswith("/"):
            raise InvalidEndpoint(f"{endpoint!r}: a unix endpoint needs an absolute socket path.")
        return httpx.AsyncHTTPTransport(uds=path), "http://engine"
    if endpoint.startswith("tcp://"):
        return httpx.AsyncHTTPTransport(), "http://" + endpoint.removeprefix("tcp://")
    raise InvalidEndpoint(
        f"{endpoint!r} is not an endpoint Portside can attach to; use unix:///path/to/docker.sock "
        "or tcp://host:port."
    )


class ExternalEngine(Engine):
    """An engine someone else runs (system dockerd, rootless dockerd, a remote host).

    ``start()`` only checks that it answers; ``stop()`` only detaches. The process is never touched.
    """

    name = "External engine"
    manages_process = False

    def __init__(self, endpoint: str | None = None, *, timeout: float = 5.0) -> None:
        super().__init__()
        self._endpoint = endpoint or default_endpoint()
        _transport(self._endpoint)  # validate early
        self._timeout = timeout
        self._status = EngineStatus(EngineState.STOPPED, self._endpoint)

    @property
    def endpoint(self) -> str:
        """The endpoint this engine is attached to."""
        return self._endpoint

    async def ping(self) -> None:
        """Raise :class:`EngineUnreachable` unless ``/_ping`` answers OK."""
        transport, base = _transport(self._endpoint)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url=base, timeout=self._timeout
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
