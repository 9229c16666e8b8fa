"""Everything works remotely: events, logs, exec, stats, files, build, push/pull over TLS and ssh.

Two real remote engines (tests/support/remote_engines.py): a second ``dockerd --tlsverify`` and
the session engine behind an ``sshd`` serving ``docker system dial-stdio``. Each test runs on
both. The raw-socket readers are on the remote path too: ``StatsMonitor`` (ssl-wrapped
non-blocking sockets; one ssh process per container) and ``engine.rawget`` (the Files tab's
tar reads and writes).
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import rawget
from engine.archive import Archive
from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.engines.ssh_transport import SSH_CONFIG_ENV
from engine.errors import NotFound
from engine.registry import AuthConfig
from engine.stats_monitor import StatsMonitor
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.support.registry_fixtures import RegistryServer
from tests.support.remote_engines import SSHServer, TLSEngine, ssh_children

LABEL = "portside.test.engines-remote"


@dataclass
class Remote:
    kind: str
    endpoint: Endpoint      # what the test reaches the engine through
    setup: Endpoint | str   # how the test prepares it (the same engine, directly)


@pytest.fixture(scope="session")
async def tls_test_image(tls_engine: TLSEngine) -> str:
    await import_image(tls_engine.endpoint(), TEST_IMAGE)  # type: ignore[arg-type]
    return TEST_IMAGE


@pytest.fixture(params=["tls", "ssh"])
def remote(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, engine_endpoint: str
) -> Remote:
    if request.param == "tls":
        tls: TLSEngine = request.getfixturevalue("tls_engine")
        request.getfixturevalue("tls_test_image")
        return Remote("tls", tls.endpoint(), tls.endpoint())
    request.getfixturevalue("test_image")
    sshd: SSHServer = request.getfixturevalue("sshd_server")
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd.config))
    return Remote("ssh", Endpoint.parse(sshd.url), engine_endpoint)


@pytest.fixture
async def container(remote: Remote) -> AsyncIterator[str]:
    async with EngineClient(remote.setup) as setup:
        cid = await setup.containers.create(
            {"Image": TEST_IMAGE, "Labels": {LABEL: "1"}, "StopSignal": "SIGKILL",
             "Cmd": ["sh", "-c", "echo first-line; sleep 1; echo second-line; sleep 600"],
             "HostConfig": {"NetworkMode": "none"}},
            name=f"prem-{uuid.uuid4().hex[:8]}",
        )
        await setup.containers.start(cid)
        yield cid
        with suppress(NotFound):
            await setup.containers.remove(cid, force=True)


async def settle_ssh(limit: float = 5.0) -> list[int]:
    end = time.monotonic() + limit
    while ssh_children() and time.monotonic() < end:  # noqa: ASYNC110 - polling /proc
        await asyncio.sleep(0.05)
    return ssh_children()


async def test_events_logs_and_exec(remote: Remote, container: str) -> None:
    async with EngineClient(remote.endpoint) as client:
        events = client.events(filters={"label": [LABEL], "type": ["container"]})
        async with aclosing(events) as stream:
            first = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0.3)  # the stream is open before the action
            await client.containers.restart(container, timeout=0)
            event = await asyncio.wait_for(first, 30)
        assert (event.type, event.actor_id) == ("container", container)
        assert event.action in ("kill", "die", "stop", "restart", "start")

        text = ""
        async with aclosing(client.containers.logs(container, follow=True)) as logs:
            async for _kind, piece in logs:
                text += piece
                if "second-line" in text:
                    break
        assert "first-line" in text

        exec_id = await client.execs.create(container, ["cat"], stdin=True)
        async with client.execs.start(exec_id, stdin=True) as session:
            await session.write(b"over " + remote.kind.encode() + b"\n")
            await session.close_write()  # EOF must reach cat through TLS / ssh
            out, err = await asyncio.wait_for(session.output(), 30)
        assert (out, err) == (f"over {remote.kind}\n", "")
        assert await session.exit_code() == 0

        # the terminal's case: a TTY, resized, typed into
        exec_id = await client.execs.create(container, ["sh"], stdin=True, tty=True)
        async with client.execs.start(exec_id, stdin=True, tty=True) as tty:
            await tty.resize(30, 100)
            await tty.write(b"stty size; echo done-$((40+2)); exit\n")
            screen = ""
            async for _kind, piece in tty.text():
                screen += piece
        assert "30 100" in screen and "done-42" in screen
    if remote.kind == "ssh":
        assert await settle_ssh() == []


async def test_stats_monitor_reads_remote_engines(remote: Remote, container: str) -> None:
    async with EngineClient(remote.endpoint) as client:
        api = await client.connect()
    monitor = StatsMonitor(remote.endpoint, api)
    try:
        monitor.set_targets({container, "no-such-container-prem"})
        got: dict[str, object] = {}
        errors: dict[str, object] = {}
        end = time.monotonic() + 30
        while time.monotonic() < end and (container not in got or not errors):
            await asyncio.sleep(0.1)
            got.update(monitor.latest())
            errors.update(monitor.errors())
        assert container in got, errors
        assert got[container].memory_usage > 0  # type: ignore[attr-defined]
        assert isinstance(errors.get("no-such-container-prem"), NotFound), errors
        if remote.kind == "ssh":
            # one ssh per streamed container (+ the 404's, until the loop's next pass reaps it)
            assert 1 <= len(ssh_children()) <= 2
            monitor.set_targets(set())  # the view scrolled away: its ssh ends while still open
            assert await settle_ssh() == []
    finally:
        monitor.close()
    if remote.kind == "ssh":
        assert ssh_children() == []  # close() reaped every ssh process


async def test_files_over_the_raw_socket_path(
    remote: Remote, container: str, tmp_path: Path
) -> None:
    assert rawget.supported(remote.endpoint)
    source = tmp_path / "hello.txt"
    source.write_text("files over " + remote.kind)
    async with EngineClient(remote.endpoint) as client:
        files = Archive(client, container)
        sent = await files.upload([source], "/tmp")
        assert sent > 0
        names = {e.name: e for e in await files.listdir("/tmp")}
        assert names["hello.txt"].size == len(source.read_text())
    if remote.kind == "ssh":
        assert await settle_ssh() == []


def small_context(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", f"FROM {TEST_IMAGE}\nCOPY note /note\n"),
                           ("note", f"built over {kind}\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data.encode()))
    return buf.getvalue()


async def test_build_push_and_pull_with_credentials(
    remote: Remote, registry: RegistryServer
) -> None:
    ref = f"{registry.host}/portside-remote/{remote.kind}:{uuid.uuid4().hex[:8]}"
    auth = AuthConfig(username=registry.username, password=registry.password,
                      serveraddress=registry.host)
    async with EngineClient(remote.endpoint, timeout=120) as client:
        built = ""
        async for progress in client.images.build(small_context(remote.kind), tag=ref):
            if progress.aux and "ID" in progress.aux:
                built = str(progress.aux["ID"])
        assert built
        async for _ in client.images.push(ref, auth=auth):
            pass
        await client.images.remove(ref)
        async for _ in client.images.pull(ref, auth=auth):
            pass
        assert (await client.images.inspect(ref)).id == built
        await client.images.remove(ref)
    if remote.kind == "ssh":
        assert await settle_ssh() == []
