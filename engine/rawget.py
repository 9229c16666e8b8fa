"""Large archive bodies over a plain socket on a worker thread: a GET read as a file, a PUT
written as one.

Why: through httpx the engine's tar of a folder arrives at ~90 MB/s on this machine (h11's
per-chunk buffering), against ~330 MB/s for curl on the same socket; the Files tab reads whole
folders to list them (:mod:`engine.archive`). Here ONE worker thread (``asyncio.to_thread``)
connects a blocking socket (unix, tcp, TLS or ssh: :func:`engine.engines.raw_socket.
connect_blocking`),
sends the request, parses the response with :class:`engine.stats_monitor.ResponseParser` (pure)
and hands the body to the caller's ``reader(file)`` — ``tarfile`` — in the same thread: no
queue, no copies between threads. Progress reaches the loop through ``call_soon_threadsafe``
at most every :data:`PROGRESS_EVERY` bytes. Cancelling the awaiting task shuts the socket down,
so the thread's next ``recv`` ends and it returns (for ssh, closing reaps the ssh process).

:func:`write_put` is the other direction (uploads): the caller's ``writer(file)`` — ``tarfile``
building the archive from local files — writes into a chunked request body on the socket as it
goes: no temporary copy of the archive, and the engine starts extracting while we still read.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import Callable
from typing import IO, TypeVar
from urllib.parse import urlencode

from engine.client import error_from_response
from engine.endpoint import Endpoint
from engine.engines.raw_socket import connect_blocking, host_header
from engine.errors import EngineUnreachable, StreamError
from engine.stats_monitor import ResponseParser

T = TypeVar("T")
RECV = 1024 * 1024
PROGRESS_EVERY = 1024 * 1024


def supported(endpoint: Endpoint) -> bool:
    return endpoint.scheme in ("unix", "tcp", "tls", "ssh")


def request_bytes(
    path: str,
    params: dict[str, str],
    api_version: str | None,
    host: str,
    method: str = "GET",
    extra: str = "",
) -> bytes:
    """The request line and headers of one request (the connection closes after it)."""
    prefix = f"/v{api_version}" if api_version else ""
    query = f"?{urlencode(params)}" if params else ""
    return (
        f"{method} {prefix}{path}{query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Portside\r\n"
        f"{extra}Connection: close\r\n\r\n"
    ).encode("ascii")


class _Progress:
    """Bytes moved so far, passed to ``report`` at most every :data:`PROGRESS_EVERY` bytes."""

    def __init__(self, report: Callable[[int], None] | None) -> None:
        self.report = report
        self.total = 0
        self._next_report = PROGRESS_EVERY

    def add(self, n: int) -> None:
        self.total += n
        if self.report is not None and self.total >= self._next_report:
            self._next_report = self.total + PROGRESS_EVERY
            self.report(self.total)

    def finish(self) -> None:
        """Report the final count (the last step may have been smaller than the interval)."""
        if self.report is not None:
            self.report(self.total)


def _reporter(on_bytes: Callable[[int], None] | None) -> Callable[[int], None] | None:
    """``on_bytes`` as a callable for the worker thread: each call runs on this event loop."""
    if on_bytes is None:
        return None
    loop = asyncio.get_running_loop()
    callback = on_bytes

    def report(n: int) -> None:
        loop.call_soon_threadsafe(callback, n)

    return report


async def _on_thread(work: Callable[[], T], conn: RawBody) -> T:
    """Run ``work`` on a worker thread; cancelling aborts ``conn`` and waits for the thread."""
    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        conn.abort()
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the cancel is what matters
        raise


class RawBody(io.RawIOBase):
    """The body of one GET as a read-only file (used on one worker thread)."""

    def __init__(
        self,
        endpoint: Endpoint,
        request: bytes,
        path: str,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.request = request
        self.path = path
        self.progress = _Progress(on_bytes)
        self._parser = ResponseParser()
        self._buf = bytearray()
        self._sock: socket.socket | None = None
        self._close: Callable[[], None] | None = None
        self._aborted = False

    def open(self) -> None:
        """Connect, send, read the head; error statuses raise the engine's own error."""
        self.connect()
        self.read_head("GET")

    def connect(self) -> None:
        """Connect and send the request head."""
        ep = self.endpoint
        if self._aborted:
            raise StreamError("Cancelled.")
        sock, self._close = connect_blocking(ep)  # raises EngineUnreachable (TLS/ssh in words)
        self._sock = sock
        if self._aborted:
            raise StreamError("Cancelled.")
        try:
            sock.sendall(self.request)
        except OSError as exc:
            raise EngineUnreachable(ep.url, str(exc)) from exc

    def send(self, data: bytes) -> None:
        """Send request body bytes (PUT)."""
        assert self._sock is not None
        self._sock.sendall(data)

    def read_head(self, method: str) -> int:
        """Read the answer's head; an error status raises the engine's error with its body."""
        while self._parser.head is None:
            if not self._fill():
                raise StreamError("The engine closed the connection before answering.")
        head = self._parser.head
        if head.status >= 300:
            while self._fill():
                pass
            raise error_from_response(head.status, bytes(self._buf), method, self.path)
        return head.status

    def _fill(self) -> bool:
        """Read once more from the socket; False at the end of the body."""
        if self._parser.done:
            return False
        assert self._sock is not None
        try:
            data = self._sock.recv(RECV)
        except OSError as exc:
            raise StreamError(f"Reading {self.path} failed: {exc}") from exc
        if not data:
            if self._parser.feed_eof():
                return False
            if self._aborted:
                raise StreamError("Cancelled.")
            raise StreamError(f"The engine closed the connection in the middle of {self.path}.")
        self._buf += self._parser.feed(data)
        return True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            if not self._fill():
                return 0
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        del self._buf[:n]
        self.progress.add(n)
        return n

    def abort(self) -> None:
        """From any thread: end the transfer (the reader's next read fails)."""
        self._aborted = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._close is not None:
            self._close()
        super().close()


async def read_get(
    endpoint: Endpoint,
    api_version: str | None,
    path: str,
    params: dict[str, str],
    reader: Callable[[IO[bytes]], T],
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> T:
    """``GET path?params`` and return ``reader(body as a file)``, run on a worker thread."""
    host = host_header(endpoint)
    request = request_bytes(path, params, api_version, host)
    body = RawBody(endpoint, request, path, _reporter(on_bytes))

    def _work() -> T:
        try:
            body.open()
            result = reader(io.BufferedReader(body, RECV))
            body.progress.finish()
            return result
        finally:
            body.close()

    return await _on_thread(_work, body)


class ChunkedWriter(io.RawIOBase):
    """A request body in HTTP/1.1 chunks, written to a :class:`RawBody`'s socket."""

    def __init__(self, conn: RawBody, on_bytes: Callable[[int], None] | None) -> None:
        super().__init__()
        self.conn = conn
        self.progress = _Progress(on_bytes)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        n = len(data)
        if n:
            self.conn.send(b"%x\r\n" % n + bytes(data) + b"\r\n")
            self.progress.add(n)
        return n


async def write_put(
    endpoint: Endpoint,
    api_version: str | None,
    path: str,
    params: dict[str, str],
    writer: Callable[[IO[bytes]], None],
    *,
    content_type: str = "application/x-tar",
    on_bytes: Callable[[int], None] | None = None,
) -> int:
    """``PUT path?params`` with a chunked body that ``writer(file)`` writes (worker thread).

    Returns the body's size. When the engine refuses part-way (it answers and closes while we
    still send), its answer is read and raised as its own error.
    """
    host = host_header(endpoint)
    extra = f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
    conn = RawBody(endpoint, request_bytes(path, params, api_version, host, "PUT", extra), path)
    report = _reporter(on_bytes)

    def _work() -> int:
        try:
            conn.connect()
            body = ChunkedWriter(conn, report)
            try:
                buffered = io.BufferedWriter(body, RECV)  # type: ignore[type-var]
                writer(buffered)
                buffered.flush()
                conn.send(b"0\r\n\r\n")
            except OSError as exc:  # the engine may have answered (and closed) already
                if conn._aborted:
                    raise StreamError("Cancelled.") from exc
                conn.read_head("PUT")
                raise StreamError(f"Sending to {path} failed: {exc}") from exc
            conn.read_head("PUT")
            body.progress.finish()
            return body.progress.total
        finally:
            conn.close()

    return await _on_thread(_work, conn)
