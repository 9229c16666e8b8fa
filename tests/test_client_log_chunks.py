"""``Containers.log_chunks``: the logs response's raw bytes, for readers that skip a flood.

Against the session engine: a plain container's chunks are multiplexed frames whose payloads
(parsed by the GUI's :class:`app.views.containers.logs.FramePayloads`, which never imports Qt
widgets' state) give back the lines; a TTY container's are raw.
"""

from __future__ import annotations

import pytest

from engine.client import EngineClient
from tests import test_client_engine as engine_tests

Make = engine_tests.Make
client = engine_tests.client  # the fixtures, shared
make_container = engine_tests.make_container

pytestmark = pytest.mark.engine


async def test_log_chunks_are_multiplexed_frames(
    client: EngineClient, make_container: Make
) -> None:
    from app.views.containers.logs import FramePayloads

    cid = await make_container(["sh", "-c", "echo out1; echo err1 >&2; echo out2"])
    await client.containers.wait(cid)
    parser = FramePayloads()
    kinds: set[bool] = set()
    data = b""
    async for multiplexed, chunk in client.containers.log_chunks(cid, tail="all"):
        kinds.add(multiplexed)
        data += parser.feed(chunk)
    assert kinds == {True}
    assert sorted(data.decode().splitlines()) == ["err1", "out1", "out2"]
    tail = b""
    async for _m, chunk in client.containers.log_chunks(cid, tail=1):
        tail += chunk
    assert FramePayloads().feed(tail).count(b"\n") == 1


async def test_log_chunks_of_a_tty_container_are_raw(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sh", "-c", "echo hi"], Tty=True)
    await client.containers.wait(cid)
    got = [(m, c) async for m, c in client.containers.log_chunks(cid)]
    assert {m for m, _ in got} == {False}
    assert b"".join(c for _, c in got).replace(b"\r\n", b"\n") == b"hi\n"
