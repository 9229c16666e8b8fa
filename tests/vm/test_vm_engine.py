"""VMEngine for real: the built image booted under QEMU/TCG, used through the docker CLI.

One VM is booted for this module and shared by its tests, in file order: boot, containers, the
home share, published ports (and a port the host already uses), another user locked out, a
restart that keeps images and volumes, and finally a stop that leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from engine.lifecycle import logfile, procs
from engine.lifecycle.base import EngineState
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths
from engine.vm.ports import Forward
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.vm.conftest import VMDocker

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def vm(vm_image_x86: VMImage, vm_home: Path) -> AsyncIterator[VMEngine]:
    engine = VMEngine(VMPaths.default(vm_home), start_timeout=240)
    states: list[EngineState] = []
    engine.subscribe(lambda status: states.append(status.state))
    await engine.start()
    engine.seen_states = states  # type: ignore[attr-defined]
    try:
        yield engine
    finally:
        await engine.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def image(vm: VMEngine) -> str:
    """The busybox test image, imported into the VM's engine through the forwarded socket."""
    await import_image(vm.endpoint, TEST_IMAGE)
    return TEST_IMAGE


@pytest.fixture(scope="module")
def docker(vm: VMEngine, tmp_path_factory: pytest.TempPathFactory) -> VMDocker:
    return VMDocker(vm.endpoint, tmp_path_factory.mktemp("docker-config"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _wait(what: str, check: Callable[[], bool], timeout: float = 60) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _get(url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(**kwargs) as client:
        return await client.get(url, timeout=5)


async def test_boots_under_tcg_and_says_so(vm: VMEngine) -> None:
    status = vm.status
    assert status.state is EngineState.RUNNING
    seen = vm.seen_states  # type: ignore[attr-defined]
    assert seen[0] is EngineState.STARTING and seen[-1] is EngineState.RUNNING
    assert vm.accel == "tcg" and "TCG" in status.detail and "Linux VM" in status.detail
    assert status.pid == vm.qemu_pid and procs.pid_alive(status.pid or 0)
    phases = vm.boot_times.phases() if vm.boot_times else {}
    assert {"firmware", "kernel", "init", "engine", "total"} <= set(phases), phases
    # the API socket is the user's alone
    sock = vm.paths.socket
    assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    state = json.loads(vm.paths.engine.state_file.read_text())
    assert state["state"] == "running" and state["vm"] is True and state["accel"] == "tcg"
    log_text = vm.paths.engine.log_file.read_text(errors="replace")
    assert "portside: ready" in log_text  # the serial console is in the engine log


async def test_a_second_start_is_refused_clearly(vm: VMEngine) -> None:
    other = VMEngine(vm.paths)
    with pytest.raises(Exception, match="already runs"):
        await other.start()
    assert vm.status.state is EngineState.RUNNING


async def test_docker_run_through_the_forwarded_socket(
    vm: VMEngine, docker: VMDocker, image: str
) -> None:
    out = (await docker.run("run", "--rm", image, "echo", "hello from the VM")).stdout
    assert out == "hello from the VM\n"
    info = json.loads((await docker.run("info", "--format", "{{json .}}")).stdout)
    assert info["Name"] == "portside-vm" and "Debian" in info["OperatingSystem"]
    # the guest's swap file (vm.json swap_mib, 1 GiB by default): /proc/swaps is the VM kernel's
    swaps = (await docker.run("run", "--rm", image, "cat", "/proc/swaps")).stdout
    assert "/var/lib/docker/portside.swap" in swaps, swaps
    assert vm.resources is not None
    size_kib = int(swaps.splitlines()[1].split()[2])  # the first page is mkswap's header
    assert vm.resources.swap_mib * 1024 - size_kib in (0, 4), swaps


async def test_home_folder_bind_mount_both_ways(docker: VMDocker, image: str) -> None:
    folder = Path.home() / f".portside-vm-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        (folder / "in.txt").write_text("from the host\n")
        out = (await docker.run(
            "run", "--rm", "-v", f"{folder}:/x", image,
            "sh", "-c", "cat /x/in.txt && echo from the container > /x/out.txt",
        )).stdout  # fmt: skip
        assert out == "from the host\n"
        assert (folder / "out.txt").read_text() == "from the container\n"
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


async def test_published_port_on_localhost_added_and_removed(
    vm: VMEngine, docker: VMDocker, image: str
) -> None:
    port = _free_port()
    name = f"web-{uuid.uuid4().hex[:6]}"
    script = "mkdir -p /www && echo hello-from-the-vm > /www/index.html && httpd -f -p 8080 -h /www"
    await docker.run("run", "-d", "--name", name, "-p", f"{port}:8080", image, "sh", "-c", script)
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            try:
                body = (await _get(f"http://127.0.0.1:{port}/")).text
                break
            except httpx.TransportError:
                await asyncio.sleep(0.3)
        assert body == "hello-from-the-vm\n"
        assert vm.port_forwarder is not None
        assert Forward("tcp", port) in vm.port_forwarder.active
    finally:
        await docker.run("rm", "-f", name)

    def active() -> set[Forward]:
        assert vm.port_forwarder is not None
        return vm.port_forwarder.active

    def closed() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return True
        return False

    await _wait("the forward to go away with the container", closed, 30)
    # QEMU drops the forward before its QMP answer reaches the forwarder: wait for that too
    await _wait("the forwarder to record it", lambda: Forward("tcp", port) not in active(), 10)


async def test_a_port_the_host_uses_is_reported_not_fatal(
    vm: VMEngine, docker: VMDocker, image: str
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        name = f"clash-{uuid.uuid4().hex[:6]}"
        await docker.run("run", "-d", "--name", name, "-p", f"{port}:8080", image, "sleep", "300")
        try:
            await _wait(
                "the port clash in the status", lambda: f"port {port}/tcp" in vm.status.detail
            )
            assert "already uses it" in vm.status.detail
            log_text = vm.paths.engine.log_file.read_text(errors="replace")
            assert f"[portside] port {port}/tcp is not reachable" in log_text
            assert vm.status.state is EngineState.RUNNING
        finally:
            await docker.run("rm", "-f", name)
    await _wait("the clash note to go", lambda: f"port {port}/tcp" not in vm.status.detail, 30)


@pytest.fixture
def other_user() -> Iterator[str]:
    name = f"pvm{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


def _connect_as(user: str, path: Path) -> subprocess.CompletedProcess[str]:
    probe = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX)\n"
        f"s.connect({str(path)!r})\n"
        "s.sendall(b'GET /_ping HTTP/1.0\\r\\n\\r\\n'); print(s.recv(100))\n"
    )
    return subprocess.run(
        ["runuser", "-u", user, "--", "/usr/bin/python3", "-c", probe],
        capture_output=True,
        text=True,
        timeout=30,
    )


async def test_another_user_cannot_reach_the_api(vm: VMEngine, other_user: str) -> None:
    sock = vm.paths.socket
    # open every folder above the socket's own: the socket's folder (0700) and the socket (0600)
    # must each keep the other user out on their own
    above = [p for p in sock.parent.parents if p not in (Path("/"), Path("/tmp"))]
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (sock.parent, *above)}
    try:
        for folder in above:
            folder.chmod(modes[folder] | 0o711)
        assert modes[sock.parent] == 0o700
        denied = await asyncio.to_thread(_connect_as, other_user, sock)
        assert denied.returncode != 0 and "PermissionError" in denied.stderr, denied
        sock.parent.chmod(0o711)
        denied = await asyncio.to_thread(_connect_as, other_user, sock)
        assert denied.returncode != 0 and "PermissionError" in denied.stderr, denied
        # the ssh port QEMU forwards is open on 127.0.0.1, but needs the VM's key
        assert vm.ssh_port is not None
        ssh = await asyncio.to_thread(
            subprocess.run,
            ["runuser", "-u", other_user, "--", "ssh", "-F", "none", "-p", str(vm.ssh_port),
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "root@127.0.0.1", "true"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ssh.returncode == 255 and "Permission denied" in ssh.stderr, ssh
    finally:
        for folder, mode in modes.items():
            folder.chmod(mode)
    # and the owner still gets in
    pong = await _get("http://engine/_ping", transport=httpx.AsyncHTTPTransport(uds=str(sock)))
    assert pong.text == "OK"


async def test_the_ssh_forward_comes_back_when_ssh_dies(vm: VMEngine) -> None:
    forward = vm.forward
    assert forward is not None and forward.pid is not None
    old = forward.pid
    os.kill(old, signal.SIGKILL)
    await _wait(
        "a new ssh forward", lambda: forward.pid not in (None, old) and forward.restarts == 1
    )
    deadline = time.monotonic() + 30
    while True:
        transport = httpx.AsyncHTTPTransport(uds=str(vm.paths.socket))
        try:
            if (await _get("http://engine/_ping", transport=transport)).text == "OK":
                break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)
    assert stat.S_IMODE(vm.paths.socket.stat().st_mode) == 0o600
    assert "ssh forward is back" in vm.paths.engine.log_file.read_text(errors="replace")


async def test_restart_keeps_images_and_volumes(vm: VMEngine, docker: VMDocker, image: str) -> None:
    volume = f"keep-{uuid.uuid4().hex[:6]}"
    await docker.run("volume", "create", volume)
    await docker.run(
        "run", "--rm", "-v", f"{volume}:/data", image, "sh", "-c", "echo kept > /data/f"
    )
    old_pid = vm.qemu_pid
    started = time.monotonic()
    await vm.stop()
    stopped_in = time.monotonic() - started
    assert vm.status.state is EngineState.STOPPED and not procs.pid_alive(old_pid or 0)
    log_text = vm.paths.engine.log_file.read_text(errors="replace")
    assert "did not power off" not in log_text, (
        f"the power button did not work ({stopped_in:.1f} s)"
    )
    await vm.start()
    assert vm.qemu_pid != old_pid
    assert (await docker.run("image", "inspect", image, "--format", "{{.Id}}")).stdout.startswith(
        "sha256:"
    )
    out = (await docker.run("run", "--rm", "-v", f"{volume}:/data", image, "cat", "/data/f")).stdout
    assert out == "kept\n"
    await docker.run("volume", "rm", volume)


async def test_stop_leaves_no_process_behind(vm: VMEngine) -> None:
    qemu_pid = vm.qemu_pid
    ssh_pid = vm.forward.pid if vm.forward else None
    assert qemu_pid and ssh_pid and procs.pid_alive(qemu_pid) and procs.pid_alive(ssh_pid)
    await vm.stop()
    assert vm.status.state is EngineState.STOPPED
    assert not procs.pid_alive(qemu_pid) and not procs.pid_alive(ssh_pid)
    assert procs.processes_naming([vm.paths.root, vm.paths.run]) == []
    for leftover in (vm.paths.socket, vm.paths.qmp_socket, vm.paths.ssh_control):
        assert not leftover.exists(), leftover
    assert json.loads(vm.paths.engine.state_file.read_text())["state"] == "stopped"
    # the guest shut down by itself, its data disk unmounted cleanly (swap off first)
    this_run = logfile.tail(vm.paths.engine.log_file, 200, this_run=True)
    assert "portside: power off" in this_run and "unmounting it lazily" not in this_run
    # the lock is free: another owner may start it now
    VMEngine(vm.paths).cleanup_leftovers()
