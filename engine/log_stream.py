"""A container's log stream read in bulk, as lines tagged with their stream and timestamp.

Why not ``EngineClient.containers.logs``: the engine sends every log line as its own HTTP chunk,
and httpx/h11 spends ~45 µs on each (docs/benchmarks.md, "Log pane under a flood"), so a reader
through httpx tops out near 20k lines/s — 25 s for a 500,000-line log that ``docker logs`` prints
in 3 s. Here the response is read by an :class:`asyncio.Protocol` on the running loop (the qasync
loop in the app): ``data_received`` gets up to 256 KiB at a time, the HTTP head and body are
parsed by :class:`LogsResponseParser` and the multiplexed frames and lines by :class:`LogLines`
(both pure, in :mod:`engine.log_lines`), and the callback gets one ``list`` of lines per read —
never one call per line. Nothing here blocks, waits or keeps lines: the caller's callback decides
what to keep.

The request is HTTP/1.0: the engine (Go's net/http) then sends the body as it is, until it
closes the connection, instead of one chunk per log line — which halved this reader's CPU for a
500,000-line log (0.47-1.0 s instead of 0.7-1.4 s). A server or proxy that chunks anyway is
still understood.

Data flow::

    socket --(<=256 KiB)--> LogsResponseParser (HTTP head, body) --> LogLines (frames -> per-stream
    incremental UTF-8 -> lines -> (timestamp, stream, text)) --> on_lines(list)

A line is a :data:`LogLine` tuple ``(timestamp, stream, text)``: ``timestamp`` is the engine's
RFC 3339 text with nine fraction digits (so string order is time order; ``""`` without
``timestamps``), ``stream`` is :data:`STDOUT` or :data:`STDERR` (a TTY container's one stream is
STDOUT), ``text`` has no line end and keeps any ANSI escapes as written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.client import error_from_response
from engine.endpoint import Endpoint
from engine.engines.raw_socket import host_header
from engine.errors import EngineError, EngineUnreachable, StreamError
from engine.log_lines import (
    STDERR,
    STDOUT,
    LogLine,
    LogLines,
    LogsResponseParser,
    logs_request,
    parse_timestamp,
    timestamp_arg,
)
from engine.streams import RawDecoder, decoder_for

__all__ = [
    "STDERR",
    "STDOUT",
    "LogLine",
    "LogLines",
    "LogsResponseParser",
    "logs_request",
    "parse_timestamp",
    "read_logs",
    "stream_logs",
    "timestamp_arg",
]


class _LogsProtocol(asyncio.Protocol):
    """One logs response: parse what arrives, hand lines over, resolve ``done`` at the end."""

    def __init__(
        self,
        request: bytes,
        on_lines: Callable[[list[LogLine]], None],
        *,
        tty: bool,
        timestamps: bool,
        path: str,
        done: asyncio.Future[None],
    ) -> None:
        self._request = request
        self._on_lines = on_lines
        self._tty = tty
        self._timestamps = timestamps
        self._path = path
        self._parser = LogsResponseParser()
        self._lines: LogLines | None = None
        self._error_body = bytearray()
        self.done = done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        try:
            body = self._parser.feed(data)
            head = self._parser.head
            if head is None:
                return
            if head.status >= 300:
                self._error_body += body
                if self._parser.done:
                    self._finish(
                        error_from_response(head.status, bytes(self._error_body), "GET", self._path)
                    )
                return
            if self._lines is None:
                # API < 1.42 sends no type: the container's TTY flag decides
                framing = decoder_for(head.headers.get("content-type"), self._tty)
                multiplexed = not isinstance(framing, RawDecoder)
                self._lines = LogLines(multiplexed=multiplexed, timestamps=self._timestamps)
            if body:
                lines = self._lines.feed(body)
                if lines:
                    self._on_lines(lines)
            if self._parser.done:
                self._finish(None)
        except Exception as exc:  # a bad stream, or the callback failed: end with it
            self._finish(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if self._parser.feed_eof() or (self._parser.head is not None and self._lines is not None):
            # The engine may close a follow stream without the last chunk when the container
            # stops; what arrived is whole.
            self._finish(None)
        else:
            self._finish(StreamError(f"The engine closed the log stream early ({exc or 'EOF'})."))

    def _finish(self, exc: BaseException | None) -> None:
        if self.done.done():
            return
        if exc is None and self._lines is not None:
            try:
                rest = self._lines.close()
                if rest:
                    self._on_lines(rest)
            except Exception as cb_exc:
                exc = cb_exc
        if exc is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(exc)


async def stream_logs(
    endpoint: Endpoint,
    api_version: str | None,
    container: str,
    on_lines: Callable[[list[LogLine]], None],
    *,
    follow: bool = False,
    tail: int | str = "all",
    timestamps: bool = True,
    since: str | None = None,
    until: str | None = None,
    tty: bool = False,
) -> None:
    """Read one logs response, calling ``on_lines`` with each batch of complete lines.

    Returns when the engine ends the response (at once without ``follow``; when the container
    stops with it). Cancelling closes the socket. ``tty`` is the container's TTY flag (decides
    the framing when the engine does not say). Raises :class:`NotFound` for a missing container,
    :class:`EngineUnreachable`, or :class:`StreamError` for a corrupt stream.
    """
    loop = asyncio.get_running_loop()
    request = logs_request(
        container,
        api_version,
        host=host_header(endpoint),
        follow=follow,
        tail=tail,
        timestamps=timestamps,
        since=since,
        until=until,
    )
    path = request.split(b" ", 2)[1].decode("ascii")
    done: asyncio.Future[None] = loop.create_future()
    # A reader cancelled (a viewer closed) while connecting or before it saw the end leaves the
    # protocol's error in a future nobody awaits: the loop would report "Future exception was
    # never retrieved". Mark it read here; an awaiting reader still gets it.
    done.add_done_callback(lambda f: f.cancelled() or f.exception())

    def factory() -> _LogsProtocol:
        return _LogsProtocol(
            request, on_lines, tty=tty, timestamps=timestamps, path=path, done=done
        )

    transport: Any = None
    try:
        if endpoint.scheme == "unix":
            transport, _ = await loop.create_unix_connection(factory, endpoint.path)
        elif endpoint.scheme == "tls":
            assert endpoint.tls_config is not None
            transport, _ = await loop.create_connection(
                factory,
                endpoint.host,
                endpoint.port,
                ssl=endpoint.tls_config.ssl_context(),
                server_hostname=endpoint.host,
            )
        else:
            transport, _ = await loop.create_connection(factory, endpoint.host, endpoint.port)
    except OSError as exc:
        raise _unreachable(endpoint, exc) from exc
    try:
        await done
    except EngineError:
        raise
    except OSError as exc:
        raise _unreachable(endpoint, exc) from exc
    finally:
        transport.close()


def _unreachable(endpoint: Endpoint, exc: OSError) -> EngineUnreachable:
    from engine.engines.failures import translate  # a TLS failure in words (which side)

    return translate(exc, endpoint) or EngineUnreachable(endpoint.url, str(exc))


async def read_logs(
    client: Any,
    container: str,
    on_lines: Callable[[list[LogLine]], None],
    *,
    follow: bool = False,
    tail: int | str = "all",
    since: str | None = None,
    until: str | None = None,
    tty: bool = False,
) -> None:
    """:func:`stream_logs` (``timestamps=1``) through ``client``'s endpoint and API version.

    Endpoints this module cannot open a socket to (``ssh://``, where the client talks through
    an ssh process) are read through ``client.containers.logs`` instead: slower per line
    (httpx), the same lines.
    """
    endpoint = client.endpoint
    if endpoint.scheme in ("unix", "tcp", "tls"):
        await stream_logs(
            endpoint,
            client.api_version,
            container,
            on_lines,
            follow=follow,
            tail=tail,
            since=since,
            until=until,
            tty=tty,
        )
        return
    lines = LogLines(multiplexed=True, timestamps=True)
    async for kind, text in client.containers.logs(
        container, follow=follow, timestamps=True, tail=tail, since=since, until=until
    ):
        batch = lines.feed_text(STDERR if int(kind) == STDERR else STDOUT, text)
        if batch:
            on_lines(batch)
    rest = lines.close()
    if rest:
        on_lines(rest)
