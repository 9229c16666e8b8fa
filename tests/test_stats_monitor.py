"""engine.stats_monitor: the pure HTTP/chunked parser; the one-thread monitor on the engine."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.errors import EngineUnreachable, NotFound, StreamError
from engine.models import Stats
from engine.stats_monitor import (
    ResponseParser,
    StatsMonitor,
    last_line,
    stats_request,
    supports,
)

LABEL = "portside.test.statsmonitor"


# -- pure parser ------------------------------------------------------------------------------


def chunked(parts: list[bytes], trailer: bytes = b"") -> bytes:
    body = b"".join(
        b"%x;ext=1\r\n%s\r\n" % (len(p), p) if i % 2 else b"%X\r\n%s\r\n" % (len(p), p)
        for i, p in enumerate(parts)
        if p
    )
    return body + b"0\r\n" + trailer + b"\r\n"


HEAD = (
    b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def test_parser_reads_head_and_chunked_body() -> None:
    p = ResponseParser()
    assert p.feed(HEAD[:20]) == b""
    assert p.head is None
    body = p.feed(HEAD[20:] + chunked([b'{"a":1}\n', b'{"a":2}\n']))
    assert p.head is not None and p.head.status == 200
    assert p.head.headers["api-version"] == "1.41"
    assert body == b'{"a":1}\n{"a":2}\n'
    assert p.done


def test_parser_content_length_and_until_eof() -> None:
    p = ResponseParser()
    out = p.feed(b'HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\n{"message":')
    out += p.feed(b'"x"}')
    assert p.done and out == b'{"message":"x"}'
    q = ResponseParser()
    assert q.feed(b"HTTP/1.0 200 OK\r\n\r\nabc") == b"abc"
    assert not q.done and q.feed_eof()


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        b"SMTP 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    ],
)
def test_parser_rejects_malformed_input(raw: bytes) -> None:
    with pytest.raises(StreamError):
        ResponseParser().feed(raw)


def test_truncated_chunked_body_is_not_complete_at_eof() -> None:
    p = ResponseParser()
    p.feed(HEAD + b"10\r\nabc")
    assert not p.feed_eof()


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.binary(min_size=0, max_size=300), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=30),
)
def test_chunked_body_survives_any_split(parts: list[bytes], cuts: list[int]) -> None:
    raw = HEAD + chunked(parts, trailer=b"X-Trailer: 1\r\n")
    points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    p = ResponseParser()
    out = b"".join(p.feed(raw[a:b]) for a, b in itertools.pairwise(points))
    assert out == b"".join(parts)
    assert p.done


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.text(alphabet='ab{}":1 ', min_size=0, max_size=20), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=10),
)
def test_last_line_keeps_only_the_latest_complete_line(lines: list[str], cuts: list[int]) -> None:
    data = "".join(f"{line}\r\n" for line in lines).encode()
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    buf = bytearray()
    latest = None
    for a, b in itertools.pairwise(points):
        buf += data[a:b]
        got = last_line(buf)
        if got is not None:
            latest = got
    non_blank = [line.strip().encode() for line in lines if line.strip()]
    assert latest == (non_blank[-1] if non_blank else None)
    assert buf == b""


def test_request_and_supported_endpoints() -> None:
    req = stats_request("abc/def", "1.41")
    assert req.startswith(b"GET /v1.41/containers/abc%2Fdef/stats?stream=1 HTTP/1.1\r\n")
    assert req.endswith(b"\r\n\r\n")
    assert supports(Endpoint.parse("unix:///run/x.sock"))
    assert supports(Endpoint.parse("tcp://127.0.0.1:2375"))
    assert supports(Endpoint.parse("https://127.0.0.1:2376"))  # tests/test_engines_remote.py
    assert supports(Endpoint.parse("ssh://me@host"))


def test_unreachable_engine_is_reported_and_thread_survives(tmp_path: object) -> None:
    with StatsMonitor(Endpoint.parse(f"unix://{tmp_path}/none.sock"), "1.41") as mon:
        mon.set_targets({"a", "b"})
        errs = wait(lambda: mon.errors() or None)
        assert isinstance(errs["a"] if "a" in errs else errs["b"], EngineUnreachable)
        assert mon._thread.is_alive()
        wait(lambda: not mon.targets)  # failed targets are dropped; set_targets re-opens


# -- real engine ------------------------------------------------------------------------------


def wait(pred: Callable[[], object], limit: float = 15.0) -> object:
    end = time.monotonic() + limit
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


Make = Callable[..., Awaitable[str]]


@pytest.fixture
async def client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        await c.connect()
        yield c


@pytest.fixture
async def make_container(client: EngineClient, test_image: str) -> AsyncIterator[Make]:
    created: list[str] = []

    async def make() -> str:
        cid = await client.containers.create(
            {
                "Image": test_image,
                "Cmd": ["sleep", "600"],
                "Labels": {LABEL: "1"},
                "StopSignal": "SIGKILL",
            },
            name=f"psm-{uuid.uuid4().hex[:8]}",
        )
        created.append(cid)
        await client.containers.start(cid)
        return cid

    yield make
    for cid in created:
        with suppress(NotFound):
            await client.containers.remove(cid, force=True)


async def await_(pred: Callable[[], object], limit: float = 20.0) -> object:
    return await asyncio.to_thread(wait, pred, limit)


@pytest.mark.engine
async def test_samples_arrive_and_targets_open_and_close(
    client: EngineClient, make_container: Make
) -> None:
    ids = [await make_container() for _ in range(3)]
    fds_before = fd_count()
    mon = StatsMonitor(client.endpoint, client.api_version)
    try:
        mon.set_targets(set(ids))
        got: dict[str, Stats] = {}

        def collect() -> bool:
            got.update(mon.latest())
            return set(ids) <= set(got)

        await await_(collect)
        for cid in ids:
            s = got[cid]
            assert s.id == cid
            assert 100_000 < s.memory_usage < 256 * 1024 * 1024  # a sleeping busybox
            assert s.memory_limit >= s.memory_usage
            assert s.cpu_percent >= 0.0
        assert fd_count() == fds_before + 2 + 3 + 1  # socketpair + 3 streams + selector
        # taking empties; the next second brings new samples
        mon.latest()
        await await_(lambda: mon.pending() >= set(ids))

        mon.set_targets({ids[0]})  # removing targets closes their sockets
        await await_(lambda: fd_count() == fds_before + 2 + 1 + 1)
        mon.latest()
        await asyncio.sleep(2.5)
        assert set(mon.latest()) <= {ids[0]}
        assert mon.errors() == {}
    finally:
        mon.close()
    assert not mon._thread.is_alive()
    assert fd_count() == fds_before  # every socket closed, selector too
    mon.close()  # idempotent


@pytest.mark.engine
async def test_removed_container_is_reported_and_the_thread_goes_on(
    client: EngineClient, make_container: Make
) -> None:
    a, b = await make_container(), await make_container()
    with StatsMonitor(client.endpoint, client.api_version) as mon:
        mon.set_targets({a, b, "no-such-container-psm"})
        errs: dict[str, object] = {}

        def missing_reported() -> bool:
            errs.update(mon.errors())
            return "no-such-container-psm" in errs

        await await_(missing_reported)
        assert isinstance(errs["no-such-container-psm"], NotFound)
        await await_(lambda: {a, b} <= mon.pending())

        await client.containers.remove(a, force=True)  # mid-stream
        await await_(lambda: a in mon.errors())
        assert a not in mon.targets
        assert mon._thread.is_alive()
        mon.latest()
        await await_(lambda: b in mon.pending())  # the other stream still flows
        assert mon.targets == {b}
    assert not mon._thread.is_alive()


@pytest.mark.engine
async def test_engine_reachable_over_plain_tcp_is_refused_cleanly(client: EngineClient) -> None:
    # No tcp listener on this port: connect fails, reported per stream, thread lives on.
    with StatsMonitor(Endpoint.parse("tcp://127.0.0.1:9"), client.api_version) as mon:
        mon.set_targets({"x"})
        errs = await await_(mon.errors)
        assert isinstance(errs, dict) and isinstance(errs["x"], EngineUnreachable)
        assert "127.0.0.1:9" in str(errs["x"])
        mon.set_targets({"x"})  # re-open after a failure
        await await_(mon.errors)
        assert mon._thread.is_alive()


@pytest.mark.engine
async def test_async_fallback_source_has_the_monitor_interface(
    client: EngineClient, make_container: Make
) -> None:
    """TLS endpoints use AsyncStatsSource in the Containers view: same targets/latest/errors."""
    from app.views.containers import AsyncStatsSource, stats_source_for

    assert isinstance(stats_source_for(client), StatsMonitor)  # unix: the thread
    stats_source_for(client).close()
    a = await make_container()
    src = AsyncStatsSource(client)
    try:
        src.set_targets({a, "no-such-container-psm"})
        for _ in range(200):
            if a in src.pending() and "no-such-container-psm" not in src.targets:
                break
            await asyncio.sleep(0.05)
        assert isinstance(src.errors()["no-such-container-psm"], NotFound)
        got = src.latest()
        assert got[a].memory_usage > 100_000 and src.pending() == set()
        src.set_targets(set())
        assert src.targets == set()
    finally:
        src.close()
