"""The VM booted in the ``tls`` API mode: what Windows runs, here on Linux, for real.

No unix socket on the host: the engine API is mutual TLS on a port of 127.0.0.1, readiness is
read from the serial console and QMP (the power button, published ports) goes through a pipe
chardev. One VM for the module, in file order: boot, containers through the docker CLI with the
VM's certificates, a published port, strangers refused, the docker context, then a clean stop.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from engine.lifecycle import logfile, procs
from engine.lifecycle.base import EngineState
from engine.vm import api, tls
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.ports import Forward
from tests.support.engine_fixtures import DOCKER_CLI, TEST_IMAGE, import_image
from tests.vm.conftest import VMDocker, booted, tls_docker

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tls_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="ptls-", dir="/tmp"))
    yield home
    subprocess.run(["rm", "-rf", str(home)], check=False)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def vm(vm_image_x86: VMImage, tls_home: Path) -> AsyncIterator[VMEngine]:
    async with booted(tls_home, {"api": "tls", "swap_mib": 64}) as engine:
        yield engine


@pytest.fixture(scope="module")
def docker(vm: VMEngine, tmp_path_factory: pytest.TempPathFactory) -> VMDocker:
    return tls_docker(vm, tmp_path_factory.mktemp("docker-config"))


def _sockets_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if stat.S_ISSOCK(p.lstat().st_mode)]


async def test_boots_with_no_unix_socket_on_the_host(vm: VMEngine) -> None:
    assert vm.status.state is EngineState.RUNNING
    port = api.saved_port(vm.paths)
    assert vm.api == "tls" and vm.endpoint == f"tcp://127.0.0.1:{port}"
    assert vm.status.endpoint == vm.endpoint
    assert _sockets_under(vm.paths.root) == [] and _sockets_under(vm.paths.run) == []
    assert vm.forward is None  # no ssh forward in this mode
    # the readiness lines came from the console: the boot still splits into its phases
    assert vm.boot_times is not None
    assert {"firmware", "kernel", "init", "engine", "total"} <= set(vm.boot_times.phases())
    # the guest got the server's files, never the client's key
    argv = procs.cmdline(vm.qemu_pid or 0)
    assert any("server-key.pem" in a for a in argv)
    assert not any(a.endswith(f"file={vm.paths.tls_dir / 'key.pem'}") for a in argv)


async def test_docker_cli_runs_containers_with_the_vm_certificates(
    vm: VMEngine, docker: VMDocker
) -> None:
    await import_image(vm.client_endpoint(), TEST_IMAGE)
    out = await docker.run("run", "--rm", TEST_IMAGE, "echo", "hello over tls")
    assert out.stdout == "hello over tls\n"


async def test_published_port_goes_through_qmp_on_the_pipe(vm: VMEngine, docker: VMDocker) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    name = f"web-{uuid.uuid4().hex[:6]}"
    script = "mkdir -p /www && echo hello-tls-mode > /www/index.html && httpd -f -p 8080 -h /www"
    await docker.run("run", "-d", "--name", name, "-p", f"{port}:8080", TEST_IMAGE, "sh", "-c",
                     script)
    try:
        body, deadline = "", time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline and not body:
                try:
                    body = (await client.get(f"http://127.0.0.1:{port}/")).text
                except httpx.TransportError:
                    await asyncio.sleep(0.3)
        assert body == "hello-tls-mode\n"
        assert vm.port_forwarder is not None and Forward("tcp", port) in vm.port_forwarder.active
    finally:
        await docker.run("rm", "-f", name)


async def test_strangers_are_refused(vm: VMEngine, tmp_path: Path) -> None:
    """Only a client holding this VM's client certificate gets past the handshake."""
    url = f"https://127.0.0.1:{api.saved_port(vm.paths)}/_ping"
    files = tls.TLSFiles.in_folder(vm.paths.tls_dir)
    no_cert = ssl.create_default_context(cafile=str(files.ca_cert))
    other = tls.client_tls(tls.ensure_certs(tmp_path / "other").folder)
    other_cert = ssl.create_default_context(cafile=str(files.ca_cert))
    assert other.client_cert is not None and other.client_key is not None
    other_cert.load_cert_chain(other.client_cert, other.client_key)
    for context in (no_cert, other_cert):
        async with httpx.AsyncClient(verify=context) as client:
            with pytest.raises((httpx.TransportError, ssl.SSLError)):
                (await client.get(url)).raise_for_status()
    async with httpx.AsyncClient() as plain:  # plain HTTP on the TLS port: Go's TLS says no
        refused = await plain.get(url.replace("https", "http"))
        assert refused.status_code == 400 and "HTTPS server" in refused.text
    own = tls.client_tls(vm.paths.tls_dir).ssl_context()
    async with httpx.AsyncClient(verify=own) as client:
        assert (await client.get(url)).text == "OK"


@pytest.mark.skipif(not DOCKER_CLI, reason="no docker CLI on PATH")
def test_portside_context_install_carries_the_certificates(vm: VMEngine, tmp_path: Path) -> None:
    home = str(vm.paths.root.parent)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "app", "context", "--vm", "--home", home,
         "--docker-config", str(tmp_path), "install"],
        capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    version = subprocess.run(
        [DOCKER_CLI, "--context", "portside", "version", "--format", "{{.Server.Os}}"],
        capture_output=True, text=True, env={**cli_env, "DOCKER_CONFIG": str(tmp_path)},
        timeout=60,
    )  # fmt: skip
    assert version.returncode == 0 and version.stdout.strip() == "linux", version.stderr
    printed = subprocess.run(
        [sys.executable, "-m", "app", "engine", "--home", home, "env", "--vm"],
        capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
    ).stdout  # fmt: skip
    assert f"DOCKER_HOST={vm.endpoint}" in printed and "DOCKER_TLS_VERIFY=1" in printed


async def test_power_button_through_the_pipe_stops_cleanly(vm: VMEngine) -> None:
    pid = vm.qemu_pid
    assert pid is not None
    await vm.stop()
    assert vm.status.state is EngineState.STOPPED
    assert not procs.pid_alive(pid)
    this_run = logfile.tail(vm.paths.engine.log_file, 200, this_run=True)
    assert "portside: power off" in this_run  # the guest shut down, QEMU was not killed
    assert "did not power off" not in this_run and "power button did not work" not in this_run
    assert "unmounting it lazily" not in this_run and "I/O error" not in this_run
    assert not any(p.exists() for p in (vm.paths.run / "qmp.pipe.in",
                                        vm.paths.run / "qmp.pipe.out"))
