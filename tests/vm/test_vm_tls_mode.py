"""The VM's ``tls`` API mode in pieces (no VM boot; test_vm_tls.py boots one in this mode).

The mode is what Windows gets (Python there has no unix sockets), and any OS by vm.json
``"api": "tls"``: dockerd's TLS port forwarded to 127.0.0.1, readiness from the serial console,
QMP through a pipe chardev. Each piece is checked here as that OS would build it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from engine import cli_integration
from engine.engines.sources import tls_dir
from engine.errors import LifecycleError
from engine.lifecycle import logfile
from engine.vm import api, plan, qemu, ready, share, tls
from engine.vm.image import VMImage
from engine.vm.layout import Resources, VMPaths, VMSettings
from tests.support.engine_fixtures import DOCKER_CLI

QEMU = shutil.which("qemu-system-x86_64")


def _plan(tmp_path: Path, api_mode: str, platform: str = "linux") -> plan.BootPlan:
    image = VMImage(tmp_path, "test", "x86_64", {"kernel_cmdline": "panic=-1"})
    return plan.BootPlan(
        arch="x86_64", image=image, qemu=QEMU or "qemu-system-x86_64", qemu_img="qemu-img",
        ssh="ssh", keygen="ssh-keygen", accels=["tcg"], resources=Resources(2, 2048, 64),
        shares=[share.Share("home", "/home/ann")], api=api_mode, platform=platform,
    )  # fmt: skip


def _option(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_tls_mode_uses_no_unix_socket_and_forwards_the_api_port(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    spec = plan.machine_spec(_plan(tmp_path, "tls"), "tcg", paths, 2222, 41234)
    argv = qemu.build_command("qemu-system-x86_64", spec)
    joined = " ".join(argv)
    assert "unix:" not in joined and "socket," not in joined and "org.portside.ready" not in joined
    assert "-qmp" not in argv
    # the home share: Portside's 9P server on a pipe chardev, not QEMU's -virtfs
    assert "-virtfs" not in argv
    assert f"pipe,id=share-home,path={paths.run / 'share-home.pipe'}" in _option(argv, "-chardev")
    assert _option(argv, "-device").count("virtio-serial-pci") == 1
    assert "virtserialport,chardev=share-home,name=org.portside.9p.home" in _option(argv, "-device")
    assert spec.share_pipes == {"home": str(paths.run / "share-home.pipe")}
    netdev = _option(argv, "-netdev")[0]
    assert "hostfwd=tcp:127.0.0.1:2222-:22" in netdev
    assert f"hostfwd=tcp:127.0.0.1:41234-:{qemu.GUEST_TLS_PORT}" in netdev
    assert f"pipe,id=qmp,path={paths.qmp_pipe}" in _option(argv, "-chardev")
    assert "chardev=qmp,mode=control" in _option(argv, "-mon")
    fw = _option(argv, "-fw_cfg")
    for name in plan.TLS_SERVER_FILES:
        assert f"name={plan.FW_TLS}/{name},file={paths.tls_dir / name}" in fw
    # the client's key never goes into the VM
    assert not any("key.pem" in f and "server-key" not in f for f in fw)


def test_windows_gets_a_named_pipe_and_ssh_mode_is_unchanged(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    spec = plan.machine_spec(_plan(tmp_path, "tls", "win32"), "whpx", paths, 2222, 41234)
    assert spec.qmp_pipe is not None and "/" not in spec.qmp_pipe and "\\" not in spec.qmp_pipe
    assert spec.qmp_pipe.startswith("portside-qmp-")
    # the home share's own named pipe, per VM folder and tag
    pipe = spec.share_pipes["home"]
    assert pipe.startswith("portside-9p-home-") and "/" not in pipe and "\\" not in pipe
    other = plan.machine_spec(_plan(tmp_path, "tls", "win32"), "whpx", VMPaths.at(tmp_path / "b"),
                              2222, 41234)  # fmt: skip
    assert other.share_pipes["home"] != pipe
    ssh_spec = plan.machine_spec(_plan(tmp_path, "ssh"), "tcg", paths, 2222, 41234)
    argv = qemu.build_command("qemu-system-x86_64", ssh_spec)
    assert ssh_spec.api_port is None and ssh_spec.qmp_pipe is None
    assert _option(argv, "-qmp") == [f"unix:{paths.qmp_socket},server=on,wait=off"]
    assert "virtserialport,chardev=ready,name=org.portside.ready" in argv
    assert ssh_spec.share_pipes == {} and "org.portside.9p" not in " ".join(argv)
    assert _option(argv, "-virtfs") == [
        "local,path=/home/ann,mount_tag=home,security_model=none,id=home"
    ]
    assert not any("opt/portside/tls" in f for f in _option(argv, "-fw_cfg"))


def test_server_files_match_what_tls_makes() -> None:
    assert plan.TLS_SERVER_FILES == (tls.CA_CERT, tls.SERVER_CERT, tls.SERVER_KEY)


def test_dockerd_reads_the_server_files_from_fw_cfg(tmp_path: Path) -> None:
    args = plan.tls_dockerd_args()
    assert args.startswith(f"--host tcp://0.0.0.0:{qemu.GUEST_TLS_PORT} --tlsverify ")
    for flag, name in zip(("--tlscacert", "--tlscert", "--tlskey"), plan.TLS_SERVER_FILES,
                          strict=True):
        assert f"{flag} /sys/firmware/qemu_fw_cfg/by_name/{plan.FW_TLS}/{name}/raw" in args
    # the guest's init sources this and passes it to dockerd word by word
    conf = tmp_path / "guest.conf"
    conf.write_text(plan.guest_config([], args))
    out = subprocess.run(["sh", "-c", f'. {conf}; set -- $PORTSIDE_DOCKERD_ARGS; echo "$#"'],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "9"  # --host URL --tlsverify and three flags with their files


# -- readiness from the console --------------------------------------------------------------------


def test_console_lines_are_found_in_pieces_of_any_size() -> None:
    console = ready.ConsoleLines()
    text = (b"[    0.0] Linux version 6.1\r\nportside: init 1.52\r\nportside: no virtio-serial "
            b"port org.portside.ready; readiness goes to the console only\r\n"
            b"[    2.1] random: crng init doneportside: sshd 2.25\r\n"
            b"portside: ready 6.75\r\nportside: failed dockerd exited (137)\n")
    found = []
    for i in range(0, len(text), 7):
        found += console.feed(text[i:i + 7])
    assert found == [("init", "1.52"), ("sshd", "2.25"), ("ready", "6.75"),
                     ("failed", "dockerd exited (137)")]
    assert console.feed(b"x" * (ready.CONSOLE_LINE_MAX * 3)) == []  # bounded, not kept whole
    assert console.feed(b"\nportside: ready 1\n") == [("ready", "1")]


async def test_watcher_fed_from_another_thread_reports_kinds_and_times() -> None:
    watcher = ready.ReadyWatcher(None, 0.0)
    watcher.start()
    wanted = asyncio.ensure_future(watcher.wait("ready"))
    await asyncio.to_thread(watcher.feed_threadsafe, b"portside: init 1.5\nportside: ")
    await asyncio.to_thread(watcher.feed_threadsafe, b"ready 4.5\n")
    assert await asyncio.wait_for(wanted, 5) == "ready"
    assert watcher.seen("init") and watcher.times.guest == {"init": 1.5, "ready": 4.5}
    await asyncio.to_thread(watcher.feed_threadsafe, b"portside: failed sshd did not start\n")
    assert await asyncio.wait_for(watcher.wait("sshd"), 5) == "failed"
    assert watcher.failure == "sshd did not start"
    await watcher.close()


def test_the_log_writer_hands_every_chunk_over_and_survives_a_broken_reader(
    tmp_path: Path,
) -> None:
    seen: list[bytes] = []

    def broken(data: bytes) -> None:
        seen.append(data)
        raise RuntimeError("reader bug")

    read_fd, write_fd = os.pipe()
    writer = logfile.RotatingLogWriter(read_fd, tmp_path / "engine.log", on_output=broken)
    writer.start()
    os.write(write_fd, b"first\n")
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:  # one chunk at a time, not both at once
        time.sleep(0.01)
    os.write(write_fd, b"second\n")
    os.close(write_fd)
    writer.join(5)
    assert seen == [b"first\n"]  # a failing reader is dropped, the log goes on
    assert (tmp_path / "engine.log").read_bytes() == b"first\nsecond\n"


# -- settings, port, endpoint ----------------------------------------------------------------------


def test_vm_json_api_is_checked(tmp_path: Path) -> None:
    assert VMSettings.from_dict({"api": "tls"}).api == "tls"
    with pytest.raises(LifecycleError, match="'api' must be one of ssh, tls"):
        VMSettings.from_dict({"api": "npipe"})


def test_the_api_port_is_kept_and_moves_only_when_taken(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    first = api.ensure_port(paths)
    assert api.ensure_port(paths, check_free=True) == first == api.saved_port(paths)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        assert api.ensure_port(paths) == first  # only a start checks
        moved = api.ensure_port(paths, check_free=True)
    assert moved != first and api.saved_port(paths) == moved
    paths.api_port_file.write_text("garbage")
    assert api.saved_port(paths) is None


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs QEMU")
def test_the_last_runs_connections_in_time_wait_do_not_move_the_port(tmp_path: Path) -> None:
    """dockerd stopped in the guest closes the API connections first, so the host side of
    127.0.0.1:<api-port> is left in TIME_WAIT; QEMU binds it all the same (slirp sets
    SO_REUSEADDR), so a start within that minute keeps the port and the docker context."""
    paths = VMPaths.at(tmp_path / "vm")
    port = api.ensure_port(paths)
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server's side closes first: TIME_WAIT on 127.0.0.1:<port>
            assert client.recv(1) == b""
    assert api.ensure_port(paths, check_free=True) == port
    # ... and QEMU's hostfwd does bind it now (it exits at once when it cannot)
    qemu_argv = [
        "qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
        "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:2376", "-qmp", "stdio",
    ]
    proc = subprocess.Popen(qemu_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        out, err = proc.communicate(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n',
                                    timeout=30)  # fmt: skip
    finally:
        if proc.poll() is None:
            proc.kill()
    assert b"could not set up host forwarding" not in err, err
    assert proc.returncode == 0 and b'"return"' in out, (out, err)


def test_endpoint_per_mode(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    assert api.endpoint_url(paths, "ssh") == f"unix://{paths.socket}"
    assert api.configured_mode(paths, "linux") == "ssh"
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"api": "tls"}))
    assert api.configured_mode(paths, "linux") == "tls"
    endpoint = api.client_endpoint(paths, "tls")
    assert endpoint.url == f"tcp://127.0.0.1:{api.saved_port(paths)}"
    assert endpoint.scheme == "tls" and endpoint.tls_config is not None
    assert endpoint.tls_config.client_key == paths.tls_dir / "key.pem"
    paths.settings_file.write_text("{broken")
    assert api.configured_mode(paths, "linux") == "ssh"  # the start reports the file itself


@pytest.mark.skipif(not DOCKER_CLI, reason="no docker CLI on PATH")
def test_docker_context_carries_the_vm_certificates(tmp_path: Path) -> None:
    """`portside context install` for the tls mode: the real docker CLI stores the files; a remade
    certificate updates the context; without a CLI the same files are written."""
    files = tls.ensure_certs(tmp_path / "tls")
    config = tmp_path / "docker"
    client = tls.client_tls(tmp_path / "tls")
    url = "tcp://127.0.0.1:41234"
    change = cli_integration.install_context(url, config, tls=client)
    assert change.changed, change.message
    stored = tls_dir(cli_integration.CONTEXT_NAME, config)
    assert (stored / "key.pem").read_bytes() == files.client_key.read_bytes()
    assert (stored / "key.pem").stat().st_mode & 0o077 == 0
    inspect = subprocess.run(
        [DOCKER_CLI, "context", "inspect", cli_integration.CONTEXT_NAME],
        capture_output=True, text=True, env={**os.environ, "DOCKER_CONFIG": str(config)},
        check=True,
    )  # fmt: skip
    assert url in inspect.stdout
    assert not cli_integration.install_context(url, config, tls=client).changed
    for made in (files.ca_cert, files.client_cert):
        made.unlink()
    tls.ensure_certs(tmp_path / "tls")  # all remade
    assert cli_integration.install_context(url, config, tls=client).changed
    assert (stored / "cert.pem").read_bytes() == files.client_cert.read_bytes()
    bare = tmp_path / "bare"
    cli_integration.install_context(url, bare, cli="", tls=client)
    assert (tls_dir(cli_integration.CONTEXT_NAME, bare) / "ca.pem").read_bytes() == \
        files.ca_cert.read_bytes()
