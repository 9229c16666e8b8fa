"""The async Docker Engine API client.

Shape (after ``httpx``'s ``BaseClient``/``AsyncClient`` split): request building, version
negotiation and response/error parsing are pure module-level functions that tests call
synchronously; :class:`EngineClient` adds the I/O over ONE long-lived ``httpx.AsyncClient``.
Foreign exceptions are translated in exactly two places: :meth:`EngineClient._send` /
:meth:`EngineClient._stream` (transport errors -> :class:`EngineUnreachable`, error statuses ->
:func:`error_from_response`).

Usage::

    async with EngineClient() as docker:          # explicit, then DOCKER_HOST, then default socket
        for c in await docker.containers.list(all=True):
            print(c.name, c.state)
        async for kind, text in docker.containers.logs(cid, follow=True):
            ...

Streams (logs, events, stats, progress of pull/push/build/load/import, save) are async
iterators with no read timeout. They hold an HTTP connection until exhausted, cancelled or
closed; wrap them in ``contextlib.aclosing`` when breaking out of the loop early.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import ssl
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import httpx

from engine import models
from engine.endpoint import Endpoint, resolve_endpoint
from engine.errors import (
    ApiVersionTooOld,
    AuthDenied,
    AuthRequired,
    Conflict,
    EngineAPIError,
    EngineError,
    EngineUnreachable,
    NotFound,
    StreamError,
)
from engine.registry import AuthConfig, encode_registry_auth, parse_reference
from engine.streams import (
    JSONLinesDecoder,
    Progress,
    RawDecoder,
    StreamKind,
    TextDecoder,
    check_progress,
    decoder_for,
)

if TYPE_CHECKING:
    from engine.hijack import ExecSession

#: The newest API version this client speaks; we negotiate min(this, engine's).
API_VERSION: Final = "1.47"
#: The oldest engine API we accept (Docker Engine 20.10).
MIN_API_VERSION: Final = "1.41"

JSON = Any
Params = Mapping[str, Any]

_ANY_STATUS = tuple(range(300, 600))
# httpcore lets ssl.SSLError through unmapped when the engine ends TLS after the handshake (TLS
# 1.3: a refused client certificate arrives as an alert on the first read).
_TRANSPORT_ERRORS = (httpx.TransportError, ssl.SSLError)
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
_RAW_STREAM = "application/vnd.docker.raw-stream"


# --------------------------------------------------------------------------------------------
# Pure core
# --------------------------------------------------------------------------------------------


def parse_api_version(text: str) -> tuple[int, int]:
    """``"1.41"`` -> ``(1, 41)``; raises ValueError for anything else."""
    major, _, minor = text.strip().partition(".")
    if not major.isdigit() or not minor.isdigit():
        raise ValueError(f"not an API version: {text!r}")
    return int(major), int(minor)


def version_at_least(version: str, minimum: str) -> bool:
    """Numeric comparison (``"1.100" > "1.41"``, unlike string comparison)."""
    return parse_api_version(version) >= parse_api_version(minimum)


def negotiate_version(
    server: str | None, ours: str = API_VERSION, minimum: str = MIN_API_VERSION
) -> str:
    """Pick ``min(ours, server)``; raise :class:`ApiVersionTooOld` below ``minimum``.

    A missing or unparseable header means an engine too old to send it.
    """
    if not server:
        raise ApiVersionTooOld("unknown (no Api-Version header)", minimum)
    try:
        server_v = parse_api_version(server)
    except ValueError:
        raise ApiVersionTooOld(f"unknown ({server!r})", minimum) from None
    if server_v < parse_api_version(minimum):
        raise ApiVersionTooOld(server.strip(), minimum)
    return ours if parse_api_version(ours) <= server_v else server.strip()


def encode_param(value: Any) -> str:
    """Encode one query parameter the way the engine parses it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}"
    return str(value)


def encode_filters(filters: Mapping[str, Any] | None) -> str | None:
    """``{"label": ["a=b"], "dangling": True}`` -> the engine's JSON ``map[string][]string``."""
    if not filters:
        return None
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        out[key] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return json.dumps(out, separators=(",", ":"))


@dataclass(frozen=True)
class RequestSpec:
    """Everything needed to send one request, built without I/O.

    ``path`` is relative to the API version prefix unless ``versioned`` is False.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    content: bytes | AsyncIterable[bytes] | None = None
    versioned: bool = True

    def url(self, api_version: str | None) -> str:
        if self.versioned and api_version:
            return f"/v{api_version}{self.path}"
        return self.path


def build_request(
    method: str,
    path: str,
    *,
    params: Params | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | AsyncIterable[bytes] | None = None,
    versioned: bool = True,
) -> RequestSpec:
    """Drop ``None`` parameters, encode the rest; lists become repeated parameters."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, encode_param(v)) for v in value)
        else:
            pairs.append((key, encode_param(value)))
    return RequestSpec(
        method=method,
        path=path,
        params=tuple(pairs),
        headers=dict(headers or {}),
        json_body=json_body,
        content=content,
        versioned=versioned,
    )


def quote_path(segment: str) -> str:
    """Percent-encode an id or name for use as one path segment (image refs contain ``/``)."""
    from urllib.parse import quote

    return quote(segment, safe=":@")


def engine_message(body: bytes) -> str:
    """The engine's error text: the ``message`` field of its JSON body, else the body."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text


_AUTH_HINTS = ("unauthorized", "authentication required", "denied: requested access")


def error_from_response(status: int, body: bytes, method: str, path: str) -> EngineAPIError:
    """Map an error status to the exception tree, keeping the engine's message verbatim."""
    message = engine_message(body)
    cls: type[EngineAPIError]
    lowered = message.lower()
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status == 401 or any(h in lowered for h in _AUTH_HINTS):
        cls = AuthRequired
    elif status == 403:
        cls = AuthDenied
    else:
        cls = EngineAPIError
    return cls(status, message, method=method, path=path)


def parse_json(body: bytes) -> JSON:
    """Decode a JSON body; an engine that sends garbage is reported as an API error."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise EngineAPIError(200, f"The engine sent invalid JSON: {body[:200]!r}") from exc


def decode_path_stat(header: str | None) -> dict[str, Any]:
    """Decode ``X-Docker-Container-Path-Stat`` (base64 JSON: name, size, mode, mtime, ...)."""
    if not header:
        return {}
    data = json.loads(base64.b64decode(header + "=" * (-len(header) % 4)))
    return data if isinstance(data, dict) else {}


def auth_body(auth: AuthConfig) -> dict[str, str]:
    """The JSON body of ``POST /auth`` (empty fields left out)."""
    body = {
        "username": auth.username,
        "password": auth.password,
        "serveraddress": auth.serveraddress,
        "identitytoken": auth.identitytoken,
    }
    return {k: v for k, v in body.items() if v}


def split_reference(ref: str) -> tuple[str, str]:
    """Split an image reference into the engine's ``(name, tag-or-digest)``.

    ``"busybox"`` -> ``("docker.io/library/busybox", "latest")``; raises ValueError for
    malformed references (from :func:`engine.registry.parse_reference`).
    """
    parsed = parse_reference(ref)
    name = f"{parsed.registry}/{parsed.repository}"
    return name, parsed.digest or parsed.tag or "latest"


def _timestamp(value: int | float | str | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}"
    return str(value)


# --------------------------------------------------------------------------------------------
# I/O shell
# --------------------------------------------------------------------------------------------


#: How long :meth:`EngineClient.df` waits out another client's disk-usage computation.
DF_BUSY_RETRY_SECONDS = 30.0


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a shared task's exception as seen: every caller got it through ``shield``."""
    if not task.cancelled():
        task.exception()


class EngineClient:
    """An async client for one Docker engine, over one long-lived ``httpx.AsyncClient``.

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
        self._df_task: asyncio.Task[models.DiskUsage] | None = None
        self._http = httpx.AsyncClient(
            base_url=self.endpoint.base_url,
            transport=transport if transport is not None else self.endpoint.transport(),
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": "Portside"},
        )
        self.containers = Containers(self)
        self.execs = Execs(self)
        self.images = Images(self)
        self.volumes = Volumes(self)
        self.networks = Networks(self)

    # -- lifetime ------------------------------------------------------------------------

    async def __aenter__(self) -> EngineClient:
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

    async def _progress(self, spec: RequestSpec) -> AsyncIterator[Progress]:
        """A JSON-lines progress stream; ``errorDetail`` inside it raises :class:`StreamError`."""
        decoder = JSONLinesDecoder()
        async with self._stream(spec) as resp:
            async with aclosing(self._chunks(resp)) as chunks:
                async for chunk in chunks:
                    for msg in decoder.feed(chunk):
                        yield Progress.from_message(check_progress(msg))
            for msg in decoder.close():
                yield Progress.from_message(check_progress(msg))

    async def _json_lines(self, spec: RequestSpec) -> AsyncIterator[dict[str, Any]]:
        decoder = JSONLinesDecoder()
        async with self._stream(spec) as resp:
            async with aclosing(self._chunks(resp)) as chunks:
                async for chunk in chunks:
                    for msg in decoder.feed(chunk):
                        yield msg
            for msg in decoder.close():
                yield msg

    # -- system ---------------------------------------------------------------------------

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

    async def version(self) -> models.Version:
        return models.Version.from_api(await self._json(build_request("GET", "/version")))

    async def info(self) -> models.Info:
        return models.Info.from_api(await self._json(build_request("GET", "/info")))

    async def df(self) -> models.DiskUsage:
        """``/system/df`` (it walks every layer and volume: can take seconds).

        The engine computes disk usage for one request at a time and refuses the others with an
        error, "a disk usage operation is already running". Callers of this client share the one
        read in flight (a caller that gives up does not cancel it for the others), and that
        refusal, caused by another client, is retried for up to ``DF_BUSY_RETRY_SECONDS``.
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
        while True:
            try:
                data = await self._json(build_request("GET", "/system/df"), read_timeout=None)
            except EngineAPIError as exc:  # dockerd 20.10 answers 500, newer ones 409
                if "already running" not in exc.explanation or loop.time() >= deadline:
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
            params={
                "since": _timestamp(since),
                "until": _timestamp(until),
                "filters": encode_filters(filters),
            },
        )
        async for msg in self._json_lines(spec):
            yield models.Event.from_api(msg)

    async def auth(self, auth: AuthConfig) -> models.AuthResult:
        """Check credentials with the registry (``POST /auth``).

        Raises:
            AuthDenied: the registry refused the user name or password.
        """
        spec = build_request("POST", "/auth", json_body=auth_body(auth))
        try:
            resp = await self._send(spec)
        except (AuthRequired, AuthDenied) as exc:
            raise AuthDenied(exc.status, exc.explanation, method="POST", path="/auth") from exc
        data = parse_json(resp.content) if resp.status_code == 200 else {}
        return models.AuthResult.from_api(data if isinstance(data, dict) else {})

    # -- used by hijack.py ------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` (for :mod:`engine.hijack`)."""
        return self._http


class _Resource:
    def __init__(self, client: EngineClient) -> None:
        self._c = client


class Containers(_Resource):
    """``/containers``: list, inspect, lifecycle, logs, stats, archive."""

    async def list(
        self,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
        size: bool = False,
        limit: int | None = None,
    ) -> builtins.list[models.ContainerSummary]:
        spec = build_request(
            "GET",
            "/containers/json",
            params={
                "all": all or None,
                "size": size or None,
                "limit": limit,
                "filters": encode_filters(filters),
            },
        )
        data = await self._c._json(spec, read_timeout=None if size else True)
        return [models.ContainerSummary.from_api(d) for d in data or ()]

    async def inspect(self, container: str) -> models.ContainerDetails:
        data = await self._c._json(
            build_request("GET", f"/containers/{quote_path(container)}/json")
        )
        return models.ContainerDetails.from_api(data)

    async def create(self, config: Mapping[str, Any], name: str | None = None) -> str:
        """Create a container from an engine ``ContainerConfig`` (with ``HostConfig``)."""
        spec = build_request(
            "POST", "/containers/create", params={"name": name}, json_body=dict(config)
        )
        data = await self._c._json(spec)
        return str(data["Id"])

    async def _action(
        self, container: str, action: str, params: Params | None = None, wait: float | None = 0
    ) -> None:
        spec = build_request("POST", f"/containers/{quote_path(container)}/{action}", params=params)
        await self._c._send(
            spec,
            ok=(304,),
            read_timeout=True if wait == 0 else (None if wait is None else self._c.timeout + wait),
        )

    async def start(self, container: str) -> None:
        await self._action(container, "start")

    async def stop(self, container: str, timeout: int | None = None) -> None:  # noqa: ASYNC109
        """Stop (SIGTERM, then SIGKILL after ``timeout`` s; engine default 10)."""
        await self._action(container, "stop", {"t": timeout}, wait=timeout if timeout else 10)

    async def restart(self, container: str, timeout: int | None = None) -> None:  # noqa: ASYNC109
        await self._action(container, "restart", {"t": timeout}, wait=timeout if timeout else 10)

    async def pause(self, container: str) -> None:
        await self._action(container, "pause")

    async def unpause(self, container: str) -> None:
        await self._action(container, "unpause")

    async def kill(self, container: str, signal: str | int | None = None) -> None:
        await self._action(container, "kill", {"signal": signal})

    async def rename(self, container: str, new_name: str) -> None:
        await self._action(container, "rename", {"name": new_name})

    async def remove(self, container: str, force: bool = False, volumes: bool = False) -> None:
        spec = build_request(
            "DELETE",
            f"/containers/{quote_path(container)}",
            params={"force": force or None, "v": volumes or None},
        )
        await self._c._send(spec, read_timeout=None)

    async def prune(self, filters: Mapping[str, Any] | None = None) -> models.PruneResult:
        spec = build_request(
            "POST", "/containers/prune", params={"filters": encode_filters(filters)}
        )
        return models.PruneResult.from_api(await self._c._json(spec, read_timeout=None))

    async def commit(
        self,
        container: str,
        repo: str | None = None,
        tag: str | None = None,
        *,
        comment: str | None = None,
        author: str | None = None,
        changes: builtins.list[str] | None = None,
        pause: bool = True,
        config: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an image from a container's changes; returns the new image id."""
        spec = build_request(
            "POST",
            "/commit",
            params={
                "container": container,
                "repo": repo,
                "tag": tag,
                "comment": comment,
                "author": author,
                "changes": changes,
                "pause": pause,
            },
            json_body=dict(config or {}),
        )
        data = await self._c._json(spec, read_timeout=None)
        return str(data["Id"])

    async def top(self, container: str, ps_args: str | None = None) -> dict[str, Any]:
        """``{"Titles": [...], "Processes": [[...], ...]}``."""
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/top", params={"ps_args": ps_args}
        )
        data = await self._c._json(spec)
        return data if isinstance(data, dict) else {}

    async def wait(self, container: str, condition: str = "not-running") -> int:
        """Block until the container reaches ``condition``; returns its exit code."""
        spec = build_request(
            "POST", f"/containers/{quote_path(container)}/wait", params={"condition": condition}
        )
        data = await self._c._json(spec, read_timeout=None)
        error = (data or {}).get("Error") or {}
        if isinstance(error, dict) and error.get("Message"):
            raise EngineAPIError(200, str(error["Message"]), method="POST", path=spec.path)
        return int(data["StatusCode"])

    async def logs(
        self,
        container: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: int | str = "all",
        since: int | float | str | datetime | None = None,
        until: int | float | str | datetime | None = None,
    ) -> AsyncIterator[tuple[StreamKind, str]]:
        """Yield ``(StreamKind.STDOUT|STDERR, text)`` pieces as the engine sends them.

        Text is decoded incrementally per stream (a character split across frames stays
        whole). A TTY container has one combined stream, reported as STDOUT.
        """
        spec = build_request(
            "GET",
            f"/containers/{quote_path(container)}/logs",
            params={
                "follow": follow,
                "stdout": stdout,
                "stderr": stderr,
                "timestamps": timestamps,
                "tail": tail,
                "since": _timestamp(since),
                "until": _timestamp(until),
            },
        )
        async with self._c._stream(spec) as resp:
            content_type = resp.headers.get("content-type")
            tty: bool | None = None
            if content_type not in (_MULTIPLEXED, _RAW_STREAM):
                # API < 1.42 sets no Content-Type on logs: the container's TTY flag decides.
                tty = (await self.inspect(container)).tty
            frames = decoder_for(content_type, tty)
            text = TextDecoder()
            async with aclosing(self._c._chunks(resp)) as chunks:
                async for chunk in chunks:
                    for frame in frames.feed(chunk):
                        kind, piece = text.feed(frame)
                        if piece:
                            yield kind, piece
            frames.close()
            for kind, piece in text.flush():
                if piece:
                    yield kind, piece

    async def log_chunks(
        self, container: str, *, follow: bool = False, tail: int | str = "all"
    ) -> AsyncIterator[tuple[bool, bytes]]:
        """The logs response's bytes as read, with whether they are multiplexed frames.

        For readers that must keep up with any log rate by skipping what they cannot show (the
        GUI's log pane): :meth:`logs` decodes every frame into text; this leaves that to them.
        """
        spec = build_request(
            "GET",
            f"/containers/{quote_path(container)}/logs",
            params={"follow": follow, "stdout": True, "stderr": True, "tail": tail},
        )
        async with self._c._stream(spec) as resp:
            content_type = resp.headers.get("content-type")
            tty: bool | None = None
            if content_type not in (_MULTIPLEXED, _RAW_STREAM):
                tty = (await self.inspect(container)).tty
            multiplexed = not isinstance(decoder_for(content_type, tty), RawDecoder)
            async with aclosing(self._c._chunks(resp)) as chunks:
                async for chunk in chunks:
                    yield multiplexed, chunk

    async def stats(self, container: str, stream: bool = True) -> AsyncIterator[models.Stats]:
        """Resource usage samples (one per second while ``stream``; else exactly one).

        The first streamed sample has no previous CPU reading, so its ``cpu_percent`` is 0,
        as in ``docker stats``.
        """
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/stats", params={"stream": stream}
        )
        async for msg in self._c._json_lines(spec):
            yield models.Stats.from_api(msg)

    async def get_archive(self, container: str, path: str) -> tuple[bytes, dict[str, Any]]:
        """A tar of ``path`` inside the container, and its stat (name, size, mode, mtime)."""
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/archive", params={"path": path}
        )
        resp = await self._c._send(spec, read_timeout=None)
        return resp.content, decode_path_stat(resp.headers.get("X-Docker-Container-Path-Stat"))

    async def put_archive(
        self, container: str, path: str, tar: bytes, *, no_overwrite_dir_non_dir: bool = False
    ) -> None:
        """Extract a tar into directory ``path`` of the container."""
        spec = build_request(
            "PUT",
            f"/containers/{quote_path(container)}/archive",
            params={"path": path, "noOverwriteDirNonDir": no_overwrite_dir_non_dir or None},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        await self._c._send(spec, read_timeout=None)

    async def stat_path(self, container: str, path: str) -> dict[str, Any]:
        """Stat a path in the container (name, size, mode, mtime, linkTarget)."""
        spec = build_request(
            "HEAD", f"/containers/{quote_path(container)}/archive", params={"path": path}
        )
        try:
            resp = await self._c._send(spec)
        except NotFound as exc:
            # HEAD answers carry no body, so say what was not found ourselves.
            raise NotFound(
                404,
                f"No such container or path: {container}:{path}",
                method="HEAD",
                path=spec.path,
            ) from exc
        return decode_path_stat(resp.headers.get("X-Docker-Container-Path-Stat"))


class Execs(_Resource):
    """``/exec``: run a command in a running container."""

    async def create(
        self,
        container: str,
        cmd: builtins.list[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        env: builtins.list[str] | Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
    ) -> str:
        if isinstance(env, Mapping):
            env = [f"{k}={v}" for k, v in env.items()]
        body: dict[str, Any] = {
            "AttachStdin": stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": tty,
            "Cmd": list(cmd),
            "Privileged": privileged,
        }
        if env is not None:
            body["Env"] = list(env)
        if workdir:
            body["WorkingDir"] = workdir
        if user:
            body["User"] = user
        spec = build_request("POST", f"/containers/{quote_path(container)}/exec", json_body=body)
        data = await self._c._json(spec)
        return str(data["Id"])

    def start(self, exec_id: str, *, tty: bool = False, stdin: bool = False) -> ExecSession:
        """A hijacked, bidirectional session; use ``async with`` (or ``await``) to open it."""
        from engine.hijack import ExecSession

        return ExecSession(self._c, exec_id, tty=tty, stdin=stdin)

    async def inspect(self, exec_id: str) -> dict[str, Any]:
        data = await self._c._json(build_request("GET", f"/exec/{quote_path(exec_id)}/json"))
        return data if isinstance(data, dict) else {}

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        spec = build_request(
            "POST", f"/exec/{quote_path(exec_id)}/resize", params={"h": height, "w": width}
        )
        await self._c._send(spec)

    async def run(
        self,
        container: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> tuple[int, str, str]:
        """Run a command to completion without stdin; returns ``(exit code, stdout, stderr)``."""
        exec_id = await self.create(container, cmd, env=env, workdir=workdir, user=user)
        out: dict[StreamKind, builtins.list[str]] = {StreamKind.STDOUT: [], StreamKind.STDERR: []}
        async with self.start(exec_id) as session:
            async for kind, text in session.text():
                out.setdefault(kind, []).append(text)
        code = await session.exit_code()
        return code, "".join(out[StreamKind.STDOUT]), "".join(out[StreamKind.STDERR])


class Images(_Resource):
    """``/images`` and ``/build``."""

    async def list(
        self,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> builtins.list[models.ImageSummary]:
        spec = build_request(
            "GET",
            "/images/json",
            params={"all": all or None, "filters": encode_filters(filters)},
        )
        return [models.ImageSummary.from_api(d) for d in await self._c._json(spec) or ()]

    async def inspect(self, ref: str) -> models.ImageDetails:
        data = await self._c._json(build_request("GET", f"/images/{quote_path(ref)}/json"))
        return models.ImageDetails.from_api(data)

    @staticmethod
    def _auth_header(auth: AuthConfig | None) -> dict[str, str]:
        return {"X-Registry-Auth": encode_registry_auth(auth)}

    async def pull(
        self, ref: str, *, auth: AuthConfig | None = None, platform: str | None = None
    ) -> AsyncIterator[Progress]:
        """Pull one tag (``latest`` when none is given) or digest; yields progress.

        Raises:
            ValueError: the reference is malformed (before any request is made).
            StreamError: the pull failed after it started (e.g. manifest unknown, denied).
        """
        name, tag = split_reference(ref)
        spec = build_request(
            "POST",
            "/images/create",
            params={"fromImage": name, "tag": tag, "platform": platform},
            headers=self._auth_header(auth),
        )
        async for p in self._c._progress(spec):
            yield p

    async def push(self, ref: str, *, auth: AuthConfig | None = None) -> AsyncIterator[Progress]:
        """Push one tag of an image to its registry; yields progress."""
        parsed = parse_reference(ref)
        name = f"{parsed.registry}/{parsed.repository}"
        spec = build_request(
            "POST",
            f"/images/{quote_path(name)}/push",
            params={"tag": parsed.tag or "latest"},
            headers=self._auth_header(auth),
        )
        async for p in self._c._progress(spec):
            yield p

    async def tag(self, source: str, repo: str, tag: str | None = None) -> None:
        """Tag ``source`` as ``repo:tag``; ``repo`` may carry the tag itself (``a/b:1``)."""
        if tag is None:
            name, tag = split_reference(repo)
            repo = name
        spec = build_request(
            "POST", f"/images/{quote_path(source)}/tag", params={"repo": repo, "tag": tag}
        )
        await self._c._send(spec)

    async def remove(
        self, ref: str, force: bool = False, noprune: bool = False
    ) -> builtins.list[dict[str, str]]:
        """Untag/delete; returns the engine's ``[{"Untagged": ...}, {"Deleted": ...}]``."""
        spec = build_request(
            "DELETE",
            f"/images/{quote_path(ref)}",
            params={"force": force or None, "noprune": noprune or None},
        )
        data = await self._c._json(spec, read_timeout=None)
        return list(data or ())

    async def history(self, ref: str) -> builtins.list[dict[str, Any]]:
        data = await self._c._json(build_request("GET", f"/images/{quote_path(ref)}/history"))
        return list(data or ())

    async def prune(self, filters: Mapping[str, Any] | None = None) -> models.PruneResult:
        """Remove dangling images (``filters={"dangling": False}`` for all unused ones)."""
        spec = build_request("POST", "/images/prune", params={"filters": encode_filters(filters)})
        return models.PruneResult.from_api(await self._c._json(spec, read_timeout=None))

    async def load(self, tar: bytes | AsyncIterable[bytes]) -> AsyncIterator[Progress]:
        """Load images from a ``docker save`` tar; yields ``Loaded image: …`` messages."""
        spec = build_request(
            "POST",
            "/images/load",
            params={"quiet": False},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        async for p in self._c._progress(spec):
            yield p

    async def save(self, names: builtins.list[str]) -> AsyncIterator[bytes]:
        """Export images (with their tags) as one tar stream."""
        spec = build_request("GET", "/images/get", params={"names": list(names)})
        async with self._c._stream(spec) as resp, aclosing(self._c._chunks(resp)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def import_(
        self,
        tar: bytes | AsyncIterable[bytes],
        repo: str,
        tag: str | None = None,
        *,
        changes: builtins.list[str] | None = None,
    ) -> AsyncIterator[Progress]:
        """Create an image from a root file system tar (``docker import``)."""
        spec = build_request(
            "POST",
            "/images/create",
            params={"fromSrc": "-", "repo": repo, "tag": tag, "changes": changes},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        async for p in self._c._progress(spec):
            yield p

    async def build(
        self,
        context_tar: bytes | AsyncIterable[bytes],
        *,
        tag: str | builtins.list[str] | None = None,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        registry_config: str | None = None,
        labels: Mapping[str, str] | None = None,
        nocache: bool = False,
        pull: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        target: str | None = None,
        platform: str | None = None,
    ) -> AsyncIterator[Progress]:
        """Build with the classic builder from a tar context; yields progress.

        The final ``Progress.aux`` carries ``{"ID": "sha256:…"}``. ``registry_config`` is the
        value of ``engine.registry.encode_registry_config(...)`` for private base images.
        """
        headers = {"Content-Type": "application/x-tar"}
        if registry_config:
            headers["X-Registry-Config"] = registry_config
        spec = build_request(
            "POST",
            "/build",
            params={
                "t": tag,
                "dockerfile": dockerfile,
                "buildargs": dict(buildargs) if buildargs else None,
                "labels": dict(labels) if labels else None,
                "nocache": nocache or None,
                "pull": pull or None,
                "rm": rm,
                "forcerm": forcerm or None,
                "target": target,
                "platform": platform,
            },
            headers=headers,
            content=context_tar,
        )
        async for p in self._c._progress(spec):
            yield p


class Volumes(_Resource):
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
        spec = build_request("POST", "/volumes/prune", params={"filters": encode_filters(merged)})
        return models.PruneResult.from_api(await self._c._json(spec, read_timeout=None))


class Networks(_Resource):
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
        spec = build_request("POST", "/networks/prune", params={"filters": encode_filters(filters)})
        return models.PruneResult.from_api(await self._c._json(spec, read_timeout=None))

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


__all__ = [
    "API_VERSION",
    "MIN_API_VERSION",
    "Containers",
    "EngineClient",
    "EngineError",
    "Execs",
    "Images",
    "Networks",
    "RequestSpec",
    "StreamError",
    "Volumes",
    "build_request",
    "encode_filters",
    "error_from_response",
    "negotiate_version",
]
