"""The I/O shell: one long-lived ``httpx.AsyncClient`` per engine, and the one place foreign
errors are translated.

Data flow: a resource method builds a :class:`~engine.client.request.RequestSpec` (pure) and
calls :meth:`Connection._json` / :meth:`~Connection._send` (whole answers) or
:meth:`~Connection._stream` / :meth:`~Connection._json_lines` / :meth:`~Connection._progress`
(streams, no read timeout). Before the first versioned request :meth:`Connection.connect`
negotiates the API version over ``/_ping``. Transport errors become :class:`EngineUnreachable`
in :meth:`~Connection._unreachable`; error statuses become the exception tree in
:func:`~engine.client.response.error_from_response` — nowhere else.

:class:`Resource` is the base of the resource groups (``client.containers``, ``.images``, ...):
each holds the connection and sends through it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from types import TracebackType
from typing import Any, Self

import httpx

from engine import models
from engine.client.negotiation import negotiate_version
from engine.client.request import RequestSpec, build_request, encode_filters
from engine.client.response import JSON, error_from_response, parse_json
from engine.endpoint import Endpoint, resolve_endpoint
from engine.errors import EngineUnreachable
from engine.streams import JSONLinesDecoder, Progress, check_progress

_ANY_STATUS = tuple(range(300, 600))
# httpcore lets ssl.SSLError through unmapped when the engine ends TLS after the handshake (TLS
# 1.3: a refused client certificate arrives as an alert on the first read).
_TRANSPORT_ERRORS = (httpx.TransportError, ssl.SSLError)


class Connection:
    """An async connection to one Docker engine, over one long-lived ``httpx.AsyncClient``.

    Args:
        endpoint: an :class:`Endpoint`, a string like ``unix:///run/docker.sock`` /
            ``tcp://host:2375``, or None to use ``DOCKER_HOST`` or the default socket.
        timeout: seconds for connect/read/write of ordinary requests (streams never time out
            while reading).
        transport: a custom ``httpx`` transport (tests use ``httpx.MockTransport``).

    The API version is negotiated on first use (or by :meth:`connect`).
    """

    def __init__(
        self,
        endpoint: str | Endpoint | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        self.timeout = timeout
        self.api_version: str | None = None
        self._connect_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self.endpoint.base_url,
            transport=transport if transport is not None else self.endpoint.transport(),
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "Portside"},
        )

    # -- lifetime ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection (running streams end with :class:`EngineUnreachable`)."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    # -- the one place transport errors are translated -------------------------------------

    def _unreachable(self, exc: Exception) -> EngineUnreachable:
        from engine.engines.failures import translate  # TLS and ssh failures in words

        refused = translate(exc, self.endpoint)
        if refused is not None:
            return refused
        if isinstance(exc, httpx.ConnectTimeout):
            reason = "connection timed out"
        elif isinstance(exc, httpx.TimeoutException):
            reason = f"no answer within {self.timeout:g} s"
        elif isinstance(exc, httpx.ConnectError):
            cause = exc.__cause__ or exc.__context__
            reason = str(cause or exc) or "connection refused"
        elif isinstance(exc, httpx.RemoteProtocolError):
            reason = f"the connection broke ({exc})"
        else:
            reason = str(exc) or type(exc).__name__
        return EngineUnreachable(self.endpoint.url, reason)

    def _timeout(self, read: float | bool | None) -> httpx.Timeout:
        if read is True:
            return httpx.Timeout(self.timeout)
        return httpx.Timeout(self.timeout, read=None if read is False else read)

    async def _send(
        self,
        spec: RequestSpec,
        *,
        read_timeout: float | bool | None = True,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send one request and read the whole answer; error statuses raise.

        Args:
            read_timeout: True = the client's timeout; a number = that many seconds; None or
                False = wait for ever (``wait``, ``stop`` with a long grace period).
            ok: extra statuses >= 300 that are not errors (304 for start/stop).
        """
        request = await self._request(spec, read_timeout)
        try:
            resp = await self._http.send(request)
        except _TRANSPORT_ERRORS as exc:
            raise self._unreachable(exc) from exc
        if resp.status_code >= 300 and resp.status_code not in ok:
            raise error_from_response(resp.status_code, resp.content, spec.method, spec.path)
        return resp

    async def _request(
        self, spec: RequestSpec, read_timeout: float | bool | None
    ) -> httpx.Request:
        """The httpx request for ``spec`` (negotiating the API version first if it needs one)."""
        if spec.versioned:
            await self.connect()
        return self._http.build_request(
            spec.method,
            spec.url(self.api_version),
            params=list(spec.params),
            headers=dict(spec.headers),
            json=spec.json_body,
            content=spec.content,
            timeout=self._timeout(read_timeout),
        )

    @asynccontextmanager
    async def _stream(self, spec: RequestSpec) -> AsyncIterator[httpx.Response]:
        """Open a streaming response (no read timeout); error statuses raise before yielding."""
        request = await self._request(spec, None)
        try:
            resp = await self._http.send(request, stream=True)
        except _TRANSPORT_ERRORS as exc:
            raise self._unreachable(exc) from exc
        try:
            if resp.status_code >= 300 and resp.status_code != 101:
                try:
                    body = await resp.aread()
                except _TRANSPORT_ERRORS:
                    body = b""
                raise error_from_response(resp.status_code, body, spec.method, spec.path)
            yield resp
        finally:
            await resp.aclose()

    async def _chunks(self, resp: httpx.Response) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in resp.aiter_bytes():
                if chunk:
                    yield chunk
        except _TRANSPORT_ERRORS as exc:
            raise self._unreachable(exc) from exc

    async def _json(self, spec: RequestSpec, **kw: Any) -> JSON:
        resp = await self._send(spec, **kw)
        return parse_json(resp.content)

    async def _json_lines(self, spec: RequestSpec) -> AsyncGenerator[dict[str, Any], None]:
        """A stream of JSON messages (events, stats, progress), however the chunks split them."""
        decoder = JSONLinesDecoder()
        async with self._stream(spec) as resp:
            async with aclosing(self._chunks(resp)) as chunks:
                async for chunk in chunks:
                    for msg in decoder.feed(chunk):
                        yield msg
            for msg in decoder.close():
                yield msg

    async def _progress(self, spec: RequestSpec) -> AsyncIterator[Progress]:
        """A JSON-lines progress stream; ``errorDetail`` inside it raises :class:`StreamError`."""
        async with aclosing(self._json_lines(spec)) as messages:
            async for msg in messages:
                yield Progress.from_message(check_progress(msg))

    # -- version negotiation ----------------------------------------------------------------

    async def connect(self) -> str:
        """Negotiate the API version (``HEAD /_ping``, falling back to ``GET``); idempotent.

        Returns:
            the version used for every later request, ``min(API_VERSION, engine's)``.

        Raises:
            EngineUnreachable: nothing answers at the endpoint.
            ApiVersionTooOld: the engine is older than API ``MIN_API_VERSION``.
        """
        if self.api_version is not None:
            return self.api_version
        async with self._connect_lock:
            if self.api_version is not None:
                return self.api_version
            resp = await self._send(
                build_request("HEAD", "/_ping", versioned=False), ok=_ANY_STATUS
            )
            if resp.status_code != 200:
                resp = await self._send(
                    build_request("GET", "/_ping", versioned=False), ok=_ANY_STATUS
                )
                # an error with no Api-Version is not a Docker engine's: negotiation says so
                if resp.status_code >= 300 and "Api-Version" in resp.headers:
                    raise error_from_response(resp.status_code, resp.content, "GET", "/_ping")
            self.api_version = negotiate_version(resp.headers.get("Api-Version"))
            return self.api_version

    async def ping(self) -> bool:
        """True if the engine answers ``/_ping`` with OK; False if it cannot be reached.

        Other failures (an error status) raise.
        """
        try:
            resp = await self._send(build_request("GET", "/_ping", versioned=False))
        except EngineUnreachable:
            return False
        return resp.text.strip() == "OK"

    # -- used by hijack.py ------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` (for :mod:`engine.hijack`)."""
        return self._http


class Resource:
    """One group of endpoints (``/containers``, ``/images``, ...) sending through a connection."""

    def __init__(self, client: Connection) -> None:
        self._c = client

    async def _prune(
        self, path: str, filters: Mapping[str, Any] | None = None
    ) -> models.PruneResult:
        """``POST {path}`` with the engine's ``filters``: what was removed and space reclaimed."""
        spec = build_request("POST", path, params={"filters": encode_filters(filters)})
        return models.PruneResult.from_api(await self._c._json(spec, read_timeout=None))
