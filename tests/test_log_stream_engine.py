"""``engine.log_stream`` against the session engine: the socket reader and the httpx fallback
(used for ssh:// endpoints) give the same timestamped lines; a TTY container's raw stream; a
missing container is NotFound.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.client import EngineClient
from engine.errors import NotFound
from engine.log_stream import STDERR, STDOUT, LogLine, read_logs, stream_logs
from tests import test_client_engine as engine_tests

Make = engine_tests.Make
client = engine_tests.client  # the fixtures, shared
make_container = engine_tests.make_container

pytestmark = pytest.mark.engine

SCRIPT = (
    "echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; "
    "printf 'caf\\303'; sleep 0.2; printf '\\251\\n'"
)


class _SshLike:
    """The same client, but its endpoint says ssh: read_logs must take the httpx path."""

    def __init__(self, real: EngineClient) -> None:
        self.endpoint = replace(real.endpoint, scheme="ssh")
        self.api_version = real.api_version
        self.containers = real.containers



async def test_socket_reader_and_httpx_fallback_give_the_same_lines(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sh", "-c", SCRIPT])
    await client.containers.wait(cid)
    await client.connect()
    direct: list[LogLine] = []
    await read_logs(client, cid, direct.extend)
    fallback: list[LogLine] = []
    await read_logs(_SshLike(client), cid, fallback.extend)
    assert [(s, t) for _ts, s, t in direct] == [
        (STDOUT, "out1"),
        (STDERR, "err1"),
        (STDOUT, "café"),
    ]
    assert direct == fallback
    assert all(len(ts) == 30 and ts.endswith("Z") for ts, _s, _t in direct)
    # tail and until
    last: list[LogLine] = []
    await read_logs(client, cid, last.extend, tail=1)
    assert [t for _ts, _s, t in last] == ["café"]
    from engine.log_lines import timestamp_arg

    before: list[LogLine] = []
    await read_logs(client, cid, before.extend, until=timestamp_arg(direct[0][0]))
    assert [t for _ts, _s, t in before] == ["out1"]


async def test_tty_stream_and_a_missing_container(
    client: EngineClient, make_container: Make
) -> None:
    cid = await make_container(["sh", "-c", "echo hi; echo there"], Tty=True)
    await client.containers.wait(cid)
    await client.connect()
    got: list[LogLine] = []
    await stream_logs(client.endpoint, client.api_version, cid, got.extend, tty=True)
    assert [(s, t) for _ts, s, t in got] == [(STDOUT, "hi"), (STDOUT, "there")]
    with pytest.raises(NotFound):
        await stream_logs(client.endpoint, client.api_version, "no-such-container", got.extend)
