"""ssh:// engines through a real sshd on 127.0.0.1 serving ``docker system dial-stdio``.

The sshd (tests/support/remote_engines.py) logs the test user in with a key made by the test, and
its ``docker`` reaches the session engine; every request here goes through one ``ssh`` process
per HTTP connection started by engine/engines/ssh_transport.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, suppress

import pytest

from engine.client import EngineClient
from engine.engines import EngineEntry, probe
from engine.engines.failures import SSHRefused
from engine.engines.ssh_transport import SSH_CONFIG_ENV, live_processes
from engine.errors import NotFound
from tests.support.remote_engines import SSHServer, ssh_children

LABEL = "portside.test.engines-ssh"


@pytest.fixture
def ssh_env(sshd_server: SSHServer, monkeypatch: pytest.MonkeyPatch) -> SSHServer:
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_server.config))
    return sshd_server


@pytest.fixture
async def local(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        yield c


@pytest.fixture
async def container(local: EngineClient, test_image: str) -> AsyncIterator[str]:
    cid = await local.containers.create(
        {"Image": test_image, "Labels": {LABEL: "1"}, "StopSignal": "SIGKILL",
         "Cmd": ["sh", "-c", "echo hello-over-ssh; sleep 1; echo second-line; sleep 600"]},
        name=f"pssh-{uuid.uuid4().hex[:8]}",
    )
    await local.containers.start(cid)
    yield cid
    with suppress(NotFound):
        await local.containers.remove(cid, force=True)


async def no_ssh_left(limit: float = 5.0) -> list[int]:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while ssh_children() and loop.time() < end:  # noqa: ASYNC110 - polling /proc
        await asyncio.sleep(0.05)
    return ssh_children()


async def test_probe_over_ssh_reports_the_engine(ssh_env: SSHServer) -> None:
    before = ssh_children()
    found = await probe(EngineEntry("user:x", "ssh", "user", ssh_env.url))
    assert found.state == "running", found.reason
    assert found.version and found.os == "linux" and found.arch
    assert await no_ssh_left() == before == []


async def test_list_logs_exec_and_stats_over_ssh_then_no_ssh_process_left(
    ssh_env: SSHServer, container: str
) -> None:
    async with EngineClient(ssh_env.url) as remote:
        assert remote.endpoint.scheme == "ssh"
        listed = await remote.containers.list(filters={"label": [LABEL]})
        assert container in [c.id for c in listed]

        lines: list[str] = []
        async with aclosing(remote.containers.logs(container, follow=True)) as logs:
            async for _kind, text in logs:
                lines.append(text)
                if "second-line" in "".join(lines):
                    break
        assert "hello-over-ssh" in "".join(lines)

        exec_id = await remote.execs.create(container, ["cat"], stdin=True)
        async with remote.execs.start(exec_id, stdin=True) as session:
            await session.write(b"through ssh\n")
            await session.close_write()  # half-close reaches the remote cat as EOF
            out, err = await session.output()
        assert (out, err) == ("through ssh\n", "")
        assert await session.exit_code() == 0

        async with aclosing(remote.containers.stats(container)) as stats:
            sample = await anext(stats)
        assert sample.memory_usage > 0

        during = len(ssh_children())
        assert during >= 1  # kept-alive connections are ssh processes of ours
    assert await no_ssh_left() == []
    assert live_processes() == 0


async def test_unknown_host_key_is_refused_with_the_step_to_trust_it(
    sshd_server: SSHServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_server.unknown_config))
    found = await probe(EngineEntry("user:y", "ssh", "user", sshd_server.url))
    assert found.state == "ssh-error"
    assert "host key" in found.reason and "not known" in found.reason
    assert f"ssh-keyscan -p {sshd_server.port} 127.0.0.1" in found.reason
    assert f"ssh -p {sshd_server.port} {sshd_server.user}@127.0.0.1" in found.reason
    async with EngineClient(sshd_server.url) as remote:
        with pytest.raises(SSHRefused, match="never accepts one"):
            await remote.version()
    assert await no_ssh_left() == []


async def test_stats_monitor_for_more_containers_than_sshd_takes_logins_at_once(
    ssh_env: SSHServer, local: EngineClient, test_image: str
) -> None:
    """sshd drops unauthenticated connections beyond MaxStartups (10 by default): 14 stats
    streams, each its own ssh login, must all arrive (StatsMonitor starts 6 logins at a time)."""
    from engine.endpoint import Endpoint
    from engine.stats_monitor import StatsMonitor

    ids = []
    try:
        for _ in range(14):
            cid = await local.containers.create(
                {"Image": test_image, "Cmd": ["sleep", "600"], "Labels": {LABEL: "1"},
                 "StopSignal": "SIGKILL", "HostConfig": {"NetworkMode": "none"}},
                name=f"pssh-{uuid.uuid4().hex[:8]}",
            )
            ids.append(cid)
            await local.containers.start(cid)
        monitor = StatsMonitor(Endpoint.parse(ssh_env.url), await local.connect())
        try:
            monitor.set_targets(set(ids))
            seen: set[str] = set()
            errors: dict[str, object] = {}
            loop = asyncio.get_running_loop()
            end = loop.time() + 60
            while seen != set(ids) and not errors and loop.time() < end:
                await asyncio.sleep(0.2)
                seen |= set(monitor.latest())
                errors.update(monitor.errors())
            assert errors == {}
            assert seen == set(ids)
        finally:
            monitor.close()
        assert ssh_children() == []
    finally:
        for cid in ids:
            with suppress(NotFound):
                await local.containers.remove(cid, force=True)


async def test_a_burst_of_requests_is_not_dropped_by_sshd(
    ssh_env: SSHServer, container: str
) -> None:
    """20 requests at once need 20 connections = 20 ssh logins; sshd drops some beyond its
    MaxStartups unless the transport paces the logins."""
    async with EngineClient(ssh_env.url) as remote:
        found = await asyncio.gather(*(remote.containers.inspect(container) for _ in range(20)))
        assert {d.id for d in found} == {container}
    assert await no_ssh_left() == []


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("changed", ["has CHANGED", "ssh-keygen -R 127.0.0.1"]),
        ("wrong key", ["refused the login", "ssh-add", "authorized_keys"]),
        ("closed port", ["ssh cannot reach 127.0.0.1", "Connection refused"]),
    ],
)
async def test_ssh_failures_say_what_to_do(
    sshd_server: SSHServer, monkeypatch: pytest.MonkeyPatch, case: str, words: list[str]
) -> None:
    url = sshd_server.url
    config = sshd_server.config
    if case == "changed":
        config = sshd_server.changed_config
    elif case == "wrong key":
        config = sshd_server.wrong_key_config
    else:
        from tests.support.remote_engines import free_port

        url = f"ssh://{sshd_server.user}@127.0.0.1:{free_port()}"
    monkeypatch.setenv(SSH_CONFIG_ENV, str(config))
    found = await probe(EngineEntry("user:z", "ssh", "user", url))
    assert found.state == "ssh-error", found
    for word in words:
        assert word in found.reason, found.reason
    assert await no_ssh_left() == []
