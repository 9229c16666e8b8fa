"""Bidirectional exec sessions over a hijacked HTTP connection.

``POST /exec/{id}/start`` with ``Connection: Upgrade`` / ``Upgrade: tcp`` makes the engine answer
``101 UPGRADED`` and then use the raw connection for the process's stdin (our writes) and its
output (multiplexed frames without a TTY, raw bytes with one). httpcore hands us that connection
as ``response.extensions["network_stream"]``, already wrapped so that bytes it buffered after the
response headers are returned first. Half-closing (``close_write``) shuts down the sending side
of the socket, which the engine turns into EOF on the process's stdin — the way ``cat`` learns
that input is over. Over TLS that is the TCP socket under the TLS layer (dockerd reads it as
EOF); over ssh it is our end of the socketpair that is ssh's stdio, so ssh sends EOF on its
channel and the remote ``docker system dial-stdio`` half-closes its engine connection
(tests/test_engines_remote.py checks both).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import httpcore
import httpx

from engine.client.negotiation import version_at_least
from engine.client.request import build_request, quote_path
from engine.errors import EngineAPIError, EngineUnreachable
from engine.streams import Frame, FrameDecoder, RawDecoder, StreamKind, TextDecoder, decoder_for

if TYPE_CHECKING:
    from engine.client import EngineClient

_READ_SIZE = 65536


class NetworkStream(Protocol):
    """The part of httpcore's ``AsyncNetworkStream`` we use (its signatures, hence the noqa)."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes: ...  # noqa: ASYNC109

    async def write(self, buffer: bytes, timeout: float | None = None) -> None: ...  # noqa: ASYNC109

    async def aclose(self) -> None: ...

    def get_extra_info(self, info: str) -> Any: ...


def hijack_headers() -> dict[str, str]:
    """The request headers that ask the engine to hand over the connection."""
    return {"Connection": "Upgrade", "Upgrade": "tcp"}


class ExecSession:
    """A running exec with its stdin/stdout/stderr attached.

    Open it with ``async with client.execs.start(exec_id, stdin=True) as session`` (or
    ``session = await client.execs.start(...)`` and later ``await session.aclose()``)::

        await session.write(b"hello\\n")
        await session.close_write()            # EOF on the process's stdin
        async for frame in session:            # Frame(stream=STDOUT|STDERR, data=bytes)
            ...
        code = await session.exit_code()

    ``session.text()`` yields ``(StreamKind, str)`` instead of frames. With a TTY, all output
    arrives as STDOUT and :meth:`resize` sets the terminal size.
    """

    def __init__(
        self, client: EngineClient, exec_id: str, *, tty: bool = False, stdin: bool = False
    ) -> None:
        self._client = client
        self.exec_id = exec_id
        self.tty = tty
        self.stdin = stdin
        self._response_cm: AbstractAsyncContextManager[httpx.Response] | None = None
        self._stream: NetworkStream | None = None
        self._decoder: FrameDecoder | RawDecoder | None = None
        self._eof = False
        self._write_closed = False
        self._closed = False

    # -- opening and closing ------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, ExecSession]:
        return self.open().__await__()

    async def __aenter__(self) -> ExecSession:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> ExecSession:
        """Start the exec and take over the connection (idempotent)."""
        if self._stream is not None:
            return self
        spec = build_request(
            "POST",
            f"/exec/{quote_path(self.exec_id)}/start",
            json_body={"Detach": False, "Tty": self.tty},
            headers=hijack_headers(),
        )
        cm = self._client._stream(spec)
        resp = await cm.__aenter__()
        try:
            if resp.status_code != 101:
                raise EngineAPIError(
                    resp.status_code,
                    f"The engine did not hand over the connection for exec {self.exec_id} "
                    f"(HTTP {resp.status_code} instead of 101 UPGRADED).",
                    method="POST",
                    path=spec.path,
                )
            stream = resp.extensions.get("network_stream")
            if stream is None:
                raise EngineUnreachable(
                    self._client.endpoint.url, "the HTTP library gave no hijacked stream"
                )
        except BaseException as exc:
            await cm.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._response_cm = cm
        self._stream = stream
        content_type = resp.headers.get("content-type")
        api = self._client.api_version
        if api is not None and not version_at_least(api, "1.42"):
            # Before API 1.42 the engine labels every hijacked exec stream "raw", even the
            # multiplexed ones; only the TTY flag tells them apart.
            content_type = None
        self._decoder = decoder_for(content_type, self.tty)
        return self

    async def aclose(self) -> None:
        """Drop the connection (the process keeps running if it ignores a closed stdin)."""
        if self._closed:
            return
        self._closed = True
        stream, cm = self._stream, self._response_cm
        self._stream = self._response_cm = None
        try:
            if stream is not None:
                await stream.aclose()
        finally:
            if cm is not None:
                await cm.__aexit__(None, None, None)

    # -- I/O ----------------------------------------------------------------------------------

    def _require(self) -> NetworkStream:
        if self._stream is None:
            raise RuntimeError("The exec session is not open: use `async with` or `await` it.")
        return self._stream

    def _unreachable(self, exc: BaseException) -> EngineUnreachable:
        return EngineUnreachable(self._client.endpoint.url, f"the exec stream broke ({exc})")

    async def write(self, data: bytes) -> None:
        """Send bytes to the process's stdin (the exec must be started with ``stdin=True``)."""
        if not self.stdin:
            raise ValueError("This exec was started without stdin; pass stdin=True to write.")
        if self._write_closed:
            raise ValueError("stdin was already closed with close_write().")
        try:
            await self._require().write(data)
        except (OSError, httpx.TransportError, httpcore.NetworkError) as exc:
            raise self._unreachable(exc) from exc

    async def close_write(self) -> None:
        """Half-close: the process sees EOF on stdin; its output can still be read."""
        if self._write_closed:
            return
        stream = self._require()
        sock: socket.socket | None = stream.get_extra_info("socket")
        if sock is None:
            raise EngineUnreachable(
                self._client.endpoint.url, "cannot half-close: no socket under the exec stream"
            )
        self._write_closed = True
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise self._unreachable(exc) from exc

    async def _read(self) -> bytes:
        try:
            return await self._require().read(_READ_SIZE, timeout=None)
        except (OSError, httpx.TransportError, httpcore.NetworkError) as exc:
            raise self._unreachable(exc) from exc

    async def frames(self) -> AsyncIterator[Frame]:
        """Output frames until the process ends (or closes its output)."""
        decoder = self._decoder
        if decoder is None:
            self._require()
            return
        while not self._eof:
            chunk = await self._read()
            if not chunk:
                self._eof = True
                decoder.close()
                return
            for frame in decoder.feed(chunk):
                yield frame

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self.frames()

    async def text(self) -> AsyncIterator[tuple[StreamKind, str]]:
        """Output as ``(StreamKind, text)``, decoded incrementally per stream."""
        decoder = TextDecoder()
        async for frame in self.frames():
            kind, piece = decoder.feed(frame)
            if piece:
                yield kind, piece
        for kind, piece in decoder.flush():
            yield kind, piece

    async def output(self) -> tuple[str, str]:
        """Read to the end; return ``(stdout, stderr)``."""
        out: dict[StreamKind, list[str]] = {StreamKind.STDOUT: [], StreamKind.STDERR: []}
        async for kind, piece in self.text():
            out.setdefault(kind, []).append(piece)
        return "".join(out[StreamKind.STDOUT]), "".join(out[StreamKind.STDERR])

    async def resize(self, height: int, width: int) -> None:
        """Set the TTY size (rows, columns)."""
        await self._client.execs.resize(self.exec_id, height, width)

    async def exit_code(self, *, poll_interval: float = 0.05, max_wait: float = 10.0) -> int:
        """The process's exit code, once it has ended.

        The engine may report the exec as running for a moment after the stream closes, so
        this polls ``/exec/{id}/json`` briefly.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            data = await self._client.execs.inspect(self.exec_id)
            if not data.get("Running") and data.get("ExitCode") is not None:
                return int(data["ExitCode"])
            if loop.time() >= deadline:
                raise EngineAPIError(
                    200,
                    f"Exec {self.exec_id} is still running after {max_wait:g} s.",
                    method="GET",
                    path=f"/exec/{self.exec_id}/json",
                )
            await asyncio.sleep(poll_interval)
