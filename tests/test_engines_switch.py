"""Moving between three engines (unix, TLS, ssh) with a logs stream and stats open leaks nothing.

Engine-layer half of issue 12's switch: what the app's switch closes (the client, its log
stream task, the StatsMonitor thread) must leave no file descriptor, thread, asyncio task or ssh
process behind. Counted from /proc and asyncio after three rounds over the three engines.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress

import pytest

from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.engines.ssh_transport import SSH_CONFIG_ENV
from engine.errors import NotFound
from engine.stats_monitor import StatsMonitor
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.support.remote_engines import SSHServer, TLSEngine, ssh_children

LABEL = "portside.test.engines-switch"


def fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def held() -> tuple[set[str], set[threading.Thread], set[asyncio.Task[object]]]:
    """Open fds, live threads and pending tasks (sets: what others end meanwhile is no leak)."""
    return fds(), set(threading.enumerate()), {t for t in asyncio.all_tasks() if not t.done()}


async def make(setup: Endpoint | str) -> str:
    async with EngineClient(setup) as client:
        cid = await client.containers.create(
            {"Image": TEST_IMAGE, "Labels": {LABEL: "1"}, "StopSignal": "SIGKILL",
             "Cmd": ["sh", "-c", "while true; do echo tick; sleep 0.2; done"],
             "HostConfig": {"NetworkMode": "none"}},
            name=f"psw-{uuid.uuid4().hex[:8]}",
        )
        await client.containers.start(cid)
        return cid


@pytest.fixture
async def engines(
    engine_endpoint: str, test_image: str, tls_engine: TLSEngine, sshd_server: SSHServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[list[tuple[Endpoint, str]]]:
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_server.config))
    try:  # the image may be there from another test module
        async with EngineClient(tls_engine.endpoint()) as c:
            await c.images.inspect(TEST_IMAGE)
    except NotFound:
        await import_image(tls_engine.endpoint(), TEST_IMAGE)  # type: ignore[arg-type]
    local = await make(engine_endpoint)
    remote_tls = await make(tls_engine.endpoint())
    yield [
        (Endpoint.parse(engine_endpoint), local),
        (tls_engine.endpoint(), remote_tls),
        (Endpoint.parse(sshd_server.url), local),
    ]
    for setup, cid in ((engine_endpoint, local), (tls_engine.endpoint(), remote_tls)):
        async with EngineClient(setup) as c:
            with suppress(NotFound):
                await c.containers.remove(cid, force=True)


async def attach(endpoint: Endpoint, cid: str) -> tuple[EngineClient, asyncio.Task[None],
                                                        StatsMonitor]:
    """What the app holds on one engine: a client, a following log stream, a stats monitor."""
    client = EngineClient(endpoint)
    api = await client.connect()
    first_line = asyncio.Event()

    async def follow() -> None:
        async for _kind, text in client.containers.logs(cid, follow=True, tail="1"):
            if "tick" in text:
                first_line.set()

    task = asyncio.create_task(follow(), name="logs-follow")
    monitor = StatsMonitor(endpoint, api)
    monitor.set_targets({cid})
    await asyncio.wait_for(first_line.wait(), 30)
    end = time.monotonic() + 30
    while not monitor.pending() and time.monotonic() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert cid in monitor.latest(), monitor.errors()
    return client, task, monitor


async def detach(client: EngineClient, task: asyncio.Task[None], monitor: StatsMonitor) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    monitor.close()
    await client.aclose()


async def test_three_rounds_over_three_engines_leak_nothing(
    engines: list[tuple[Endpoint, str]]
) -> None:
    # one warm-up pass: imports, the ssl module's first contexts, lazily created loop parts
    for endpoint, cid in engines:
        await detach(*await attach(endpoint, cid))
    await asyncio.sleep(0.2)
    before = held()
    seen_ssh = 0
    for _round in range(3):
        for endpoint, cid in engines:
            holding = await attach(endpoint, cid)
            if endpoint.scheme == "ssh":
                seen_ssh = max(seen_ssh, len(ssh_children()))
            await detach(*holding)
    await asyncio.sleep(0.2)
    assert seen_ssh >= 2  # the logs stream and the stats stream each had their ssh
    assert ssh_children() == []
    after = held()
    new = [sorted(map(str, now - then)) for now, then in zip(after, before, strict=True)]
    assert new == [[], [], []], f"new fds, threads, tasks: {new}"
