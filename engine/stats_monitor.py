"""Many ``/containers/{id}/stats`` streams read by ONE thread over raw sockets.

Why: through httpx on the GUI's event loop every stats sample costs ~1 ms of CPU (httpcore, h11,
anyio and the loop's per-wait socket notifier). Here one daemon thread runs a ``selectors`` loop
over raw sockets (unix, tcp, tcp+TLS, ssh: :mod:`engine.engines.raw_socket`), parses the HTTP
response head and the chunked body by hand (:class:`ResponseParser`, pure), and keeps only the
raw bytes of the LATEST JSON line per container. Nothing is decoded per sample:
:meth:`StatsMonitor.latest` decodes the one latest line per container when the caller asks (once
per GUI tick), through :meth:`engine.models.Stats.from_api` (same CPU/memory formulas as the
async client).

The thread blocks in ``select()`` without a timeout when nothing arrives (no idle wake-ups);
target changes and :meth:`StatsMonitor.close` wake it through a socketpair. Per-stream failures
(404 for a container that is gone, the engine unreachable, a stream that ends) are collected
for :meth:`StatsMonitor.errors`; they never end the thread.

TLS sockets are ``ssl``-wrapped and non-blocking (handshake driven by the same loop); an ssh
endpoint costs one ``ssh … docker system dial-stdio`` process per container, as the docker CLI's
``docker stats`` does; closed streams' ssh processes are reaped without blocking the loop, and
all of them before :meth:`StatsMonitor.close` returns.
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from engine.client import error_from_response
from engine.endpoint import Endpoint
from engine.engines.raw_socket import RawConnection, host_header, ssl_context_for
from engine.errors import EngineError, StreamError
from engine.models import Stats

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024  # bytes of status line + headers we accept
MAX_ERROR_BODY = 64 * 1024
MAX_LINE = 4 * 1024 * 1024  # a JSON sample larger than this is a broken stream
RECV_SIZE = 256 * 1024
# After reading data, wait this long before the next select(): the engine sends every
# container's sample within a few ms of the others once per second, so one wake-up then reads
# them all instead of one wake-up per sample. Only after data arrived: no idle wake-ups.
COALESCE_S = 0.3
#: ssh logins started at once by one monitor (see StatsMonitor._login_slots).
SSH_LOGINS = 6


# -- pure HTTP/1.1 response parsing -----------------------------------------------------------


@dataclass
class ResponseHead:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names


class ResponseParser:
    """Incremental HTTP/1.1 response parser: head, then a chunked / sized / until-EOF body.

    ``feed(data)`` returns the body bytes decoded from ``data`` (chunk framing removed); data may
    be split anywhere. ``head`` is set once the head is complete; ``done`` once the body ended
    (terminating chunk and trailers, or Content-Length reached). ``feed_eof()`` tells whether the
    body was complete when the connection closed. Malformed input raises :class:`StreamError`.
    """

    def __init__(self) -> None:
        self.head: ResponseHead | None = None
        self.done = False
        self._buf = bytearray()
        self._mode = ""  # "chunked", "length", "eof" once the head is parsed
        self._state = "size"  # chunked: size -> data -> crlf -> size ... -> trailer
        self._left = 0  # bytes left in the current chunk / body

    def feed(self, data: bytes) -> bytes:
        if self.done:
            if data:
                raise StreamError("The engine sent data after the end of the response.")
            return b""
        buf = self._buf
        buf += data
        if self.head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise StreamError("The engine's HTTP response head is too large.")
                return b""
            self.head = _parse_head(bytes(buf[:end]))
            del buf[: end + 4]
            self._start_body(self.head)
        if self._mode == "eof":
            out = bytes(buf)
            buf.clear()
            return out
        if self._mode == "length":
            out = bytes(buf[: self._left])
            del buf[: self._left]
            self._left -= len(out)
            if self._left == 0:
                self.done = True
                if buf:
                    raise StreamError("The engine sent data after the end of the response.")
            return out
        return self._chunks()

    def feed_eof(self) -> bool:
        """The connection closed: True when the response was complete."""
        if self.head is not None and self._mode == "eof":
            self.done = True
        return self.done

    def _start_body(self, head: ResponseHead) -> None:
        te = head.headers.get("transfer-encoding", "").lower()
        if head.status in (204, 304) or 100 <= head.status < 200:
            self._mode, self.done = "length", True
        elif "chunked" in te:
            self._mode = "chunked"
        elif "content-length" in head.headers:
            try:
                self._left = int(head.headers["content-length"])
            except ValueError as exc:
                raise StreamError(
                    f"The engine sent a bad Content-Length: {head.headers['content-length']!r}."
                ) from exc
            if self._left < 0:
                raise StreamError(f"The engine sent a negative Content-Length: {self._left}.")
            self._mode = "length"
            self.done = self._left == 0
        else:
            self._mode = "eof"

    def _chunks(self) -> bytes:
        buf = self._buf
        out = bytearray()
        pos = 0
        n = len(buf)
        while pos < n:
            state = self._state
            if state == "data":
                take = min(self._left, n - pos)
                out += buf[pos : pos + take]
                pos += take
                self._left -= take
                if self._left == 0:
                    self._state = "crlf"
                continue
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if n - pos > 4096:
                    raise StreamError("The engine sent a malformed chunked body (no line end).")
                break
            line = bytes(buf[pos:end])
            pos = end + 2
            if state == "crlf":
                if line:
                    raise StreamError("The engine sent a malformed chunked body (no CRLF).")
                self._state = "size"
            elif state == "size":
                size_text = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError as exc:
                    raise StreamError(
                        f"The engine sent a malformed chunk size: {line[:40]!r}."
                    ) from exc
                if size < 0:
                    raise StreamError(f"The engine sent a negative chunk size: {line[:40]!r}.")
                if size == 0:
                    self._state = "trailer"
                else:
                    self._left, self._state = size, "data"
            elif not line:  # trailer section ends with an empty line
                self.done = True
                if pos < n:
                    raise StreamError("The engine sent data after the end of the response.")
                break
        del buf[:pos]
        return bytes(out)


def _parse_head(raw: bytes) -> ResponseHead:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise StreamError(f"The engine sent a malformed HTTP status line: {lines[0][:80]!r}.")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise StreamError(f"The engine sent a malformed HTTP header: {line[:80]!r}.")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return ResponseHead(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)


def last_line(buf: bytearray) -> bytes | None:
    """Remove every complete line from ``buf``; return the last non-blank one (or None)."""
    end = buf.rfind(b"\n")
    if end < 0:
        return None
    found: bytes | None = None
    stop = end
    while stop >= 0:
        start = buf.rfind(b"\n", 0, stop) + 1
        line = bytes(buf[start:stop]).strip()
        if line:
            found = line
            break
        stop = start - 1
    del buf[: end + 1]
    return found


def stats_request(container: str, api_version: str | None, host: str = "docker") -> bytes:
    """The request line and headers of one streaming stats request."""
    prefix = f"/v{api_version}" if api_version else ""
    path = f"{prefix}/containers/{quote(container, safe='')}/stats?stream=1"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Portside\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode("ascii")


# -- the I/O shell ----------------------------------------------------------------------------


def supports(endpoint: Endpoint) -> bool:
    """True for endpoints :class:`StatsMonitor` can read (unix, tcp, TLS and ssh)."""
    return endpoint.scheme in ("unix", "tcp", "tls", "ssh")


class _Stream:
    __slots__ = ("cid", "conn", "error_body", "lines", "out", "parser")

    def __init__(self, cid: str, conn: RawConnection, request: bytes) -> None:
        self.cid = cid
        self.conn = conn
        self.out = request
        self.parser = ResponseParser()
        self.lines = bytearray()
        self.error_body = bytearray()


class StatsMonitor:
    """Streams stats for a changing set of containers on one background thread.

    Args:
        endpoint: a unix, tcp, TLS or ssh :class:`Endpoint` (see :func:`supports`).
        api_version: the negotiated API version (``EngineClient.api_version``); None ->
            unversioned paths.
    """

    def __init__(self, endpoint: Endpoint, api_version: str | None) -> None:
        if not supports(endpoint):
            raise ValueError(
                f"StatsMonitor reads unix, tcp, TLS and ssh endpoints, not {endpoint}."
            )
        self.endpoint = endpoint
        self._ssl = ssl_context_for(endpoint)  # read once (raises InvalidEndpoint)
        self._reaping: list[RawConnection] = []  # closed ssh connections not yet ended
        self.api_version = api_version
        self._lock = threading.Lock()
        self._wanted: set[str] = set()
        self._latest: dict[str, bytes] = {}
        self._errors: dict[str, EngineError] = {}
        self._closing = False
        self._closed = False
        self._stopping = threading.Event()
        self._samples = 0  # samples seen by the thread (for benchmarks)
        self._streams: dict[str, _Stream] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="portside-stats", daemon=True)
        self._thread.start()

    # -- caller side (any thread) -------------------------------------------------------------
    def set_targets(self, ids: Iterable[str]) -> None:
        """Stream exactly these container ids: new ones are opened, others closed."""
        wanted = set(ids)
        with self._lock:
            if self._closed:
                raise RuntimeError("StatsMonitor is closed.")
            if self._closing:  # the thread failed (logged): nothing will be streamed
                return
            if wanted == self._wanted:
                return
            self._wanted = wanted
            for cid in list(self._latest):
                if cid not in wanted:
                    del self._latest[cid]
        self._wake()

    @property
    def targets(self) -> set[str]:
        """The ids being streamed (targets whose stream failed or ended are dropped)."""
        with self._lock:
            return set(self._wanted)

    @property
    def samples_seen(self) -> int:
        return self._samples

    def pending(self) -> set[str]:
        """Ids with a sample that :meth:`latest` has not returned yet."""
        with self._lock:
            return set(self._latest)

    def latest(self) -> dict[str, Stats]:
        """Take (and clear) the latest sample of every container that sent one since last time."""
        with self._lock:
            raw, self._latest = self._latest, {}
        out: dict[str, Stats] = {}
        for cid, line in raw.items():
            try:
                msg = json.loads(line)
            except ValueError:
                log.debug("stats for %s: invalid JSON %r", cid[:12], line[:80])
                continue
            if isinstance(msg, dict):
                out[cid] = Stats.from_api(msg)
        return out

    def errors(self) -> dict[str, EngineError]:
        """Take (and clear) why streams ended since last time (404, engine unreachable...)."""
        with self._lock:
            errs, self._errors = self._errors, {}
        return errs

    def close(self) -> None:
        """Stop the thread, close every socket. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closing = self._closed = True
        self._stopping.set()
        self._wake()
        self._thread.join()
        self._wake_w.close()

    def __enter__(self) -> StatsMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, InterruptedError):
            pass  # the pipe is full: the thread will wake anyway
        except OSError:
            pass  # already closed

    # -- the thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                woken = data = False
                # closed ssh streams still ending: look again soon to reap them (else no timeout)
                for key, mask in self._sel.select(0.2 if self._reaping else None):
                    stream = key.data
                    if stream is None:
                        self._drain_wake()
                        woken = True
                    elif isinstance(stream, _Stream) and stream.cid in self._streams:
                        self._on_ready(stream, mask)
                        data = True
                if self._reaping:
                    self._reaping = [c for c in self._reaping if not c.reap()]
                if data:
                    self._stopping.wait(COALESCE_S)  # close() cuts it short
                if not woken and not self._stopping.is_set() and not (data and self._deferred()):
                    continue
                with self._lock:
                    closing = self._closing
                    wanted = set(self._wanted)
                if closing:
                    return
                self._reconcile(wanted)
        except Exception:  # a bug here must not leave sockets open
            log.exception("stats monitor thread failed")
            with self._lock:
                self._closing = True
        finally:
            for stream in list(self._streams.values()):
                self._close_stream(stream)
            for conn in self._reaping:
                conn.close()
            self._sel.close()
            self._wake_r.close()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _reconcile(self, wanted: set[str]) -> None:
        for cid in [c for c in self._streams if c not in wanted]:
            self._close_stream(self._streams[cid])
        slots = self._login_slots()
        for cid in wanted:
            if cid not in self._streams and slots > 0:
                self._open(cid)
                slots -= 1

    def _login_slots(self) -> int:
        """How many more streams may start now: for ssh, at most :data:`SSH_LOGINS` logins at
        once (sshd's default MaxStartups 10:30:100 drops connections beyond 10 unauthenticated
        ones); the rest open as earlier ones get their answer."""
        if self.endpoint.scheme != "ssh":
            return len(self._wanted) + 1
        logging_in = sum(1 for s in self._streams.values() if s.parser.head is None)
        return SSH_LOGINS - logging_in

    def _deferred(self) -> bool:
        """Some targets wait for an ssh login slot (checked after data arrived)."""
        if self.endpoint.scheme != "ssh":
            return False
        with self._lock:
            return any(cid not in self._streams for cid in self._wanted)

    def _open(self, cid: str) -> None:
        try:
            conn = RawConnection(self.endpoint, self._ssl)
        except EngineError as exc:
            self._fail(cid, exc)
            return
        request = stats_request(cid, self.api_version, host_header(self.endpoint))
        stream = _Stream(cid, conn, request)
        self._streams[cid] = stream
        self._sel.register(conn.sock, selectors.EVENT_WRITE, stream)

    def _on_ready(self, stream: _Stream, mask: int) -> None:
        conn = stream.conn
        try:
            if not conn.ready:
                events = conn.advance()
                self._sel.modify(conn.sock, events, stream)
                if not conn.ready:
                    return
            if stream.out:
                sent = conn.send(stream.out)
                if sent:
                    stream.out = stream.out[sent:]
                    if not stream.out:
                        self._sel.modify(conn.sock, selectors.EVENT_READ, stream)
                return
            data = conn.recv(RECV_SIZE)
            if data is None:
                return
            if not data and stream.parser.head is None:
                failed = conn.ssh_failure()
                if failed is not None:
                    raise failed
            self._on_data(stream, data)
        except EngineError as exc:
            self._end(stream, exc)

    def _on_data(self, stream: _Stream, data: bytes) -> None:
        parser = stream.parser
        if not data:
            complete = parser.feed_eof()
            if parser.head is not None and parser.head.status != 200 and complete:
                raise self._http_error(stream)
            raise StreamError(
                f"The stats stream of {stream.cid[:12]} ended"
                + ("." if complete else " (the engine closed the connection).")
            )
        body = parser.feed(data)
        head = parser.head
        if head is None:
            return
        if head.status != 200:
            if len(stream.error_body) < MAX_ERROR_BODY:
                stream.error_body += body
            if parser.done:
                raise self._http_error(stream)
            return
        if body:
            lines = stream.lines
            lines += body
            line = last_line(lines)
            if line is not None:
                self._samples += 1
                with self._lock:
                    if stream.cid in self._wanted:
                        self._latest[stream.cid] = line
            elif len(lines) > MAX_LINE:
                raise StreamError(f"The stats stream of {stream.cid[:12]} sent an endless line.")
        if parser.done:
            raise StreamError(f"The stats stream of {stream.cid[:12]} ended.")

    def _http_error(self, stream: _Stream) -> EngineError:
        head = stream.parser.head
        status = head.status if head is not None else 0
        path = stats_request(stream.cid, self.api_version).split(b" ", 2)[1].decode()
        return error_from_response(status, bytes(stream.error_body), "GET", path)

    def _end(self, stream: _Stream, exc: EngineError) -> None:
        """A stream failed or ended: report it and drop the target (set_targets re-opens)."""
        self._close_stream(stream)
        self._fail(stream.cid, exc)

    def _fail(self, cid: str, exc: EngineError) -> None:
        with self._lock:
            self._errors[cid] = exc
            self._wanted.discard(cid)

    def _close_stream(self, stream: _Stream) -> None:
        if self._streams.get(stream.cid) is stream:
            del self._streams[stream.cid]
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(stream.conn.sock)
        if not stream.conn.reap():
            self._reaping.append(stream.conn)
