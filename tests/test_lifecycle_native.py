"""NativeEngine and ExternalEngine against real dockerd processes.

Each test that needs its own engine gets a fresh short folder under /tmp (its own data root,
exec root, socket, bridge and subnet), so these run beside other sessions' engines.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from engine.client import EngineClient
from engine.errors import EngineAlreadyRunning, EngineStartFailed, EngineUnreachable
from engine.lifecycle import (
    EnginePaths,
    EngineState,
    EngineStatus,
    ExternalEngine,
    NativeEngine,
    netconf,
    procs,
)
from tests.support.engine_fixtures import TEST_IMAGE, import_image

pytestmark = pytest.mark.engine


@pytest.fixture
def root(own_engine_root: Path) -> Path:
    return own_engine_root


@pytest_asyncio.fixture
async def engines() -> AsyncIterator[list[NativeEngine]]:
    """Engines a test creates; whatever is still running at the end is stopped."""
    made: list[NativeEngine] = []
    yield made
    for engine in made:
        await engine.settled()
        await engine.stop(timeout=10)


async def _ping(paths: EnginePaths) -> int:
    transport = httpx.AsyncHTTPTransport(uds=str(paths.socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://e", timeout=5) as c:
        return (await c.get("/_ping")).status_code


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


#: A stand-in dockerd: answers ``/_ping`` on the socket given by ``-H``/``--host``, writes its
#: ``--pidfile``, and logs but ignores SIGTERM (a real dockerd cannot be made to hang on demand).
STUBBORN_DOCKERD = r"""
import asyncio, os, signal, sys

opts, args = {}, sys.argv[1:]
for i, arg in enumerate(args):
    name, eq, value = arg.partition("=")
    opts[{"-H": "--host"}.get(name, name)] = value if eq else (args[i + 1:] or [""])[0]


def ignore(signum, frame):
    print("stand-in: SIGTERM ignored", file=sys.stderr, flush=True)


async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target = head.split(b" ", 2)[:2]
            ok = target == b"/_ping" and method in (b"GET", b"HEAD")
            body = b"OK" if ok else b"not found"
            writer.write(
                b"HTTP/1.1 " + (b"200 OK" if ok else b"404 Not Found")
                + b"\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + (b"" if method == b"HEAD" else body)
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main():
    server = await asyncio.start_unix_server(serve, opts["--host"].removeprefix("unix://"))
    with open(opts["--pidfile"], "w") as pidfile:
        print(os.getpid(), file=pidfile)
    print("stand-in: API listen on", opts["--host"], file=sys.stderr, flush=True)
    await server.serve_forever()


signal.signal(signal.SIGTERM, ignore)
asyncio.run(main())
"""


def _lock_is_free(paths: EnginePaths) -> bool:
    with open(paths.lock_file) as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def _assert_nothing_left(paths: EnginePaths, dockerd_pid: int | None) -> None:
    if dockerd_pid is not None:
        assert not procs.pid_alive(dockerd_pid), f"dockerd {dockerd_pid} still alive"
    assert procs.processes_naming([paths.exec_root, paths.data_root]) == []
    assert procs.mounts_under([paths.data_root, paths.exec_root]) == []
    assert not paths.socket.exists()
    assert not paths.pidfile.exists()


async def test_start_stop_reports_every_state_and_leaves_nothing_behind(
    root: Path, engines: list[NativeEngine]
) -> None:
    paths = EnginePaths.at(root)
    # leftovers of a crashed earlier run: a pidfile naming a dead process and a dead socket
    paths.ensure()
    paths.pidfile.write_text(f"{_dead_pid()}\n")
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(paths.socket))
    engine = NativeEngine(paths, iptables=False)
    engines.append(engine)
    seen: list[EngineStatus] = []
    engine.subscribe(seen.append)

    status = await engine.start()

    assert status.state is EngineState.RUNNING and status.endpoint == paths.endpoint
    assert status.pid is not None and procs.is_dockerd_of(status.pid, paths.data_root)
    assert paths.pidfile.read_text().strip() == str(status.pid)  # the stale one was replaced
    assert await _ping(paths) == 200
    assert stat.S_IMODE(paths.socket.stat().st_mode) == 0o600
    config = json.loads(paths.daemon_json.read_text())
    assert config["bridge"] == netconf.bridge_name_for(paths.data_root)
    assert netconf.bridge_exists(config["bridge"])
    state = json.loads(paths.state_file.read_text())
    assert (state["state"], state["pid"], state["owner_pid"]) == (
        "running",
        status.pid,
        os.getpid(),
    )

    with pytest.raises(EngineAlreadyRunning, match=rf"pid {os.getpid()}\b"):
        await NativeEngine(paths, iptables=False).start()
    assert engine.status.state is EngineState.RUNNING  # the refused one changed nothing

    await engine.stop()

    assert [s.state for s in seen] == [
        EngineState.STARTING,
        EngineState.RUNNING,
        EngineState.STOPPING,
        EngineState.STOPPED,
    ]
    _assert_nothing_left(paths, status.pid)
    assert not netconf.bridge_exists(config["bridge"])
    assert json.loads(paths.state_file.read_text())["state"] == "stopped"
    assert _lock_is_free(paths)


async def test_crash_is_noticed_within_two_seconds_and_cleaned_up(
    root: Path, engines: list[NativeEngine]
) -> None:
    paths = EnginePaths.at(root)
    engine = NativeEngine(paths, iptables=False)
    engines.append(engine)
    seen: list[EngineStatus] = []
    engine.subscribe(seen.append)
    status = await engine.start()
    assert status.pid is not None
    await import_image(paths.endpoint, TEST_IMAGE)
    async with EngineClient(paths.endpoint) as client:
        cid = await client.containers.create({"Image": TEST_IMAGE, "Cmd": ["sleep", "300"]})
        await client.containers.start(cid)
        container_pid = (await client.containers.inspect(cid)).raw["State"]["Pid"]
    assert procs.pid_alive(container_pid)

    os.kill(status.pid, signal.SIGKILL)
    killed = time.monotonic()
    while engine.status.state is not EngineState.FAILED:
        assert time.monotonic() - killed < 2.0, "the crash was not noticed within 2 s"
        await asyncio.sleep(0.02)

    detail = engine.status.detail
    assert f"dockerd (pid {status.pid}) exited unexpectedly" in detail
    assert "Last lines of the engine log" in detail and "API listen on" in detail
    assert json.loads(paths.state_file.read_text())["state"] == "failed"
    await engine.settled()
    assert seen[-1].state is EngineState.FAILED  # delivered on this loop
    assert not procs.pid_alive(container_pid)  # the container did not outlive its engine
    _assert_nothing_left(paths, status.pid)

    again = await engine.start()  # a failed engine starts again, with its data
    assert again.state is EngineState.RUNNING
    async with EngineClient(paths.endpoint) as client:
        listed = await client.containers.list(all=True)
    assert [c.id for c in listed] == [cid]
    await engine.stop()
    _assert_nothing_left(paths, again.pid)


async def test_invalid_daemon_json_fails_with_dockerds_own_words(
    root: Path, engines: list[NativeEngine]
) -> None:
    paths = EnginePaths.at(root)
    paths.ensure()
    paths.daemon_json.write_text('{"iptables": false,, "debug": true}\n')
    engine = NativeEngine(paths, iptables=False)
    engines.append(engine)

    with pytest.raises(EngineStartFailed) as info:
        await engine.start()

    message = str(info.value)
    assert f"unable to configure the Docker daemon with file {paths.daemon_json}" in message
    assert "invalid character" in message
    assert "unable to configure" in info.value.log_tail
    assert engine.status.state is EngineState.FAILED and "invalid character" in engine.status.detail
    assert paths.daemon_json.read_text() == '{"iptables": false,, "debug": true}\n'  # untouched
    _assert_nothing_left(paths, None)
    assert _lock_is_free(paths)


async def test_engine_that_never_answers_times_out_with_its_log(
    root: Path, engines: list[NativeEngine]
) -> None:
    # dockerd cannot be made to hang on demand; a stand-in that never opens the socket can
    fake = root / "bin" / "dockerd"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'stand-in engine warming up' >&2\nexec sleep 60\n")
    fake.chmod(0o755)
    paths = EnginePaths.at(root)
    engine = NativeEngine(paths, dockerd=str(fake), start_timeout=1.0, iptables=False)
    engines.append(engine)

    started = time.monotonic()
    with pytest.raises(EngineStartFailed, match="did not answer") as info:
        await engine.start()

    assert time.monotonic() - started < 10
    assert "stand-in engine warming up" in info.value.log_tail
    assert procs.processes_naming([paths.data_root]) == []  # the stand-in was ended
    assert engine.status.state is EngineState.FAILED


async def test_stop_kills_an_engine_that_ignores_sigterm(
    root: Path, engines: list[NativeEngine], caplog: pytest.LogCaptureFixture
) -> None:
    fake = root / "bin" / "dockerd"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\n{STUBBORN_DOCKERD}")
    fake.chmod(0o755)
    paths = EnginePaths.at(root)
    paths.ensure()
    paths.daemon_json.write_text('{"bridge": "none"}\n')  # a stand-in needs no bridge
    engine = NativeEngine(paths, dockerd=str(fake), start_timeout=20)
    engines.append(engine)
    status = await engine.start()
    assert status.state is EngineState.RUNNING and status.pid is not None
    assert paths.pidfile.read_text().strip() == str(status.pid)
    assert await _ping(paths) == 200
    seen: list[EngineStatus] = []
    engine.subscribe(seen.append)

    began = time.monotonic()
    await engine.stop(timeout=1)
    took = time.monotonic() - began

    assert 1.0 <= took < 5.0, f"stop took {took:.2f} s"  # waited for SIGTERM, then killed
    assert "stand-in: SIGTERM ignored" in engine.log_tail()  # SIGTERM came first
    assert f"dockerd (pid {status.pid}) ignored SIGTERM for 1 s; killing it" in caplog.text
    assert [s.state for s in seen] == [EngineState.STOPPING, EngineState.STOPPED]
    assert engine.status == EngineStatus(EngineState.STOPPED, paths.endpoint)
    _assert_nothing_left(paths, status.pid)
    assert _lock_is_free(paths)
    assert json.loads(paths.state_file.read_text())["state"] == "stopped"


async def test_external_engine_attaches_without_owning(engine_endpoint: str) -> None:
    external = ExternalEngine(engine_endpoint)
    seen: list[EngineState] = []
    external.subscribe(lambda s: seen.append(s.state))
    assert external.manages_process is False

    status = await external.start()
    await external.stop()

    assert status.state is EngineState.RUNNING and status.endpoint == engine_endpoint
    assert seen == [EngineState.STARTING, EngineState.RUNNING, EngineState.STOPPED]
    async with EngineClient(engine_endpoint) as client:
        assert await client.ping()  # detaching left the engine running


async def test_external_engine_on_a_missing_socket_says_unreachable(tmp_path: Path) -> None:
    missing = f"unix://{tmp_path}/nothing.sock"
    external = ExternalEngine(missing)

    with pytest.raises(EngineUnreachable) as info:
        await external.start()

    assert missing in str(info.value) and "portside engine start" in str(info.value)
    assert external.status.state is EngineState.FAILED
    assert missing in external.status.detail


def test_external_engine_follows_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2999")
    assert ExternalEngine().endpoint == "tcp://127.0.0.1:2999"


async def test_restart_runs_a_new_dockerd_on_the_same_data(
    root: Path, engines: list[NativeEngine]
) -> None:
    paths = EnginePaths.at(root)
    engine = NativeEngine(paths, iptables=False)
    engines.append(engine)
    first = await engine.start()
    seen: list[EngineStatus] = []
    engine.subscribe(seen.append)
    marker = paths.data_root / "portside-restart-marker"
    marker.write_text("kept")

    second = await engine.restart()

    assert [s.state for s in seen] == [
        EngineState.STOPPING,
        EngineState.STOPPED,
        EngineState.STARTING,
        EngineState.RUNNING,
    ]
    assert second.state is EngineState.RUNNING and second.endpoint == first.endpoint
    assert first.pid is not None and second.pid is not None and second.pid != first.pid
    assert not procs.pid_alive(first.pid)
    assert procs.is_dockerd_of(second.pid, paths.data_root)
    assert await _ping(paths) == 200
    assert marker.read_text() == "kept"  # same data root, nothing wiped
    await engine.stop()
    _assert_nothing_left(paths, second.pid)
