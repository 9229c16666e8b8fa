"""The VM engine's pure parts (default suite, no VM): accelerator choice, QEMU's command line,
settings and resources, readiness lines, guest config, port-forward diffing from engine events —
and the QMP client, the host forwards and the disks against a real QEMU / qemu-img where cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from engine.errors import LifecycleError
from engine.models import ContainerSummary, Event
from engine.vm import disk, ports, qemu, ready, share, ssh
from engine.vm.choice import api_mode
from engine.vm.layout import GIB_MIB, VMPaths, VMSettings, resolve_resources
from engine.vm.plan import guest_config
from engine.vm.qmp import QMPClient, QMPError, decode, encode

QEMU = shutil.which("qemu-system-x86_64")
QEMU_IMG = shutil.which("qemu-img")
needs_qemu = pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 is not installed")

# -- accelerator choice ----------------------------------------------------------------------------

ACCEL_HELP = "Accelerators supported in QEMU binary:\ntcg\nkvm\n"
ACCEL_HELP_MAC = "Accelerators supported in QEMU binary:\ntcg\nhvf\n"


def test_parse_accel_help_sample() -> None:
    assert qemu.parse_accel_help(ACCEL_HELP) == ["tcg", "kvm"]
    assert qemu.parse_accel_help(ACCEL_HELP_MAC) == ["tcg", "hvf"]


@needs_qemu
def test_parse_accel_help_of_the_real_qemu() -> None:
    assert QEMU is not None
    names = qemu.qemu_accelerators(QEMU)
    assert "tcg" in names
    assert all(" " not in n and ":" not in n for n in names)


@pytest.mark.parametrize(
    ("platform", "kvm_ok", "hv", "expected"),
    [
        ("linux", True, False, ["kvm"]),
        ("linux", False, False, []),
        ("darwin", False, True, ["hvf"]),
        ("darwin", True, False, []),
        ("win32", False, False, ["whpx"]),
        ("freebsd14", True, True, []),
    ],
)
def test_host_accelerators_as_each_os_sees_them(
    platform: str, kvm_ok: bool, hv: bool, expected: list[str]
) -> None:
    got = qemu.host_accelerators(platform, can_open=lambda _p: kvm_ok, hv_support=lambda: hv)
    assert got == expected


def test_accel_candidates_prefers_the_host_accelerator_then_tcg() -> None:
    assert qemu.accel_candidates(["tcg", "kvm"], ["kvm"]) == ["kvm", "tcg"]
    assert qemu.accel_candidates(["tcg", "hvf"], ["hvf"]) == ["hvf", "tcg"]
    # QEMU built without the host's accelerator: tcg only
    assert qemu.accel_candidates(["tcg"], ["whpx"]) == ["tcg"]
    # another architecture's guest cannot use the host's accelerator
    assert qemu.accel_candidates(["tcg", "kvm"], ["kvm"], same_arch=False) == ["tcg"]


def test_forced_accelerator_is_the_only_one_tried_and_must_exist() -> None:
    assert qemu.accel_candidates(["tcg", "kvm"], ["kvm"], "tcg") == ["tcg"]
    with pytest.raises(LifecycleError, match="offers only: tcg, kvm"):
        qemu.accel_candidates(["tcg", "kvm"], ["kvm"], "hvf")
    with pytest.raises(LifecycleError, match="no accelerator"):
        qemu.accel_candidates([], ["kvm"])


# -- command line ----------------------------------------------------------------------------------


def _spec(tmp_path: Path, accel: str = "tcg", arch: str = "x86_64") -> qemu.MachineSpec:
    return qemu.MachineSpec(
        arch=arch,
        accel=accel,
        cpus=2,
        memory_mib=2048,
        kernel=tmp_path / "vmlinuz",
        initrd=tmp_path / "initrd.img",
        cmdline=qemu.kernel_cmdline(arch, "panic=-1"),
        root_disk=tmp_path / "a,b" / "root.qcow2",
        data_disk=tmp_path / "data.qcow2",
        ssh_port=2222,
        qmp_socket=tmp_path / "qmp.sock",
        ready_socket=tmp_path / "ready.sock",
        shares=[share.Share("home", "/home/ann")],
        fw_cfg={"opt/portside/config": tmp_path / "guest.conf"},
    )


def _option(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_command_line_tcg_x86(tmp_path: Path) -> None:
    argv = qemu.build_command("/usr/bin/qemu-system-x86_64", _spec(tmp_path))
    assert _option(argv, "-accel") == ["tcg,thread=multi,tb-size=256"]
    assert _option(argv, "-cpu") == ["max"]
    assert _option(argv, "-machine")[0].startswith("q35")
    assert _option(argv, "-smp") == ["2"] and _option(argv, "-m") == ["2048"]
    assert _option(argv, "-append") == ["panic=-1 root=/dev/vda rw quiet console=ttyS0"]
    drives = _option(argv, "-drive")
    assert drives[0].startswith("if=none,id=root,") and "a,,b/root.qcow2" in drives[0]
    assert drives[1].startswith("if=none,id=data,")
    # the ssh port is reachable from this host only
    assert _option(argv, "-netdev") == ["user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22"]
    assert _option(argv, "-virtfs") == [
        "local,path=/home/ann,mount_tag=home,security_model=none,id=home"
    ]
    assert _option(argv, "-fw_cfg") == [f"name=opt/portside/config,file={tmp_path}/guest.conf"]
    assert "virtserialport,chardev=ready,name=org.portside.ready" in _option(argv, "-device")
    assert _option(argv, "-qmp") == [f"unix:{tmp_path}/qmp.sock,server=on,wait=off"]
    assert "-no-reboot" in argv


def test_qboot_is_found_beside_each_install_layout_and_used_on_x86_only(tmp_path: Path) -> None:
    layouts = {
        "debian": ("usr/bin/qemu-system-x86_64", "usr/share/qemu/qboot.rom"),
        "windows": ("qemu/qemu-system-x86_64.exe", "qemu/share/qboot.rom"),
        "build": ("build/qemu-system-x86_64", "build/pc-bios/qboot.rom"),
    }
    for name, (binary, rom) in layouts.items():
        root = tmp_path / name
        (root / binary).parent.mkdir(parents=True)
        (root / binary).write_text("")
        assert qemu.find_qboot(str(root / binary)) is None, name  # not installed: SeaBIOS
        (root / rom).parent.mkdir(parents=True, exist_ok=True)
        (root / rom).write_bytes(b"\0")
        assert qemu.find_qboot(str(root / binary)) == root / rom, name
    spec = dataclasses.replace(_spec(tmp_path), firmware=tmp_path / "qboot.rom")
    assert _option(qemu.build_command("qemu-system-x86_64", spec), "-bios") == [
        str(tmp_path / "qboot.rom")
    ]
    assert "-bios" not in qemu.build_command("qemu-system-x86_64", _spec(tmp_path))


def test_tcg_boots_without_address_randomisation_accelerators_with_it() -> None:
    """Under TCG the guest starts with norandmaps (its init turns randomisation back on at ready:
    tests/vm/test_image.py checks that in a booted guest)."""
    assert qemu.kernel_cmdline("x86_64", "panic=-1", "tcg").split()[-1] == "norandmaps"
    for accel in ("kvm", "hvf", "whpx", ""):
        assert "norandmaps" not in qemu.kernel_cmdline("arm64", "panic=-1", accel)


def test_command_line_accelerated_arm64(tmp_path: Path) -> None:
    argv = qemu.build_command("qemu-system-aarch64", _spec(tmp_path, "hvf", "arm64"))
    assert _option(argv, "-accel") == ["hvf"] and _option(argv, "-cpu") == ["host"]
    assert _option(argv, "-machine")[0].startswith("virt")
    assert _option(argv, "-append")[0].endswith("console=ttyAMA0")


@needs_qemu
def test_qemu_accepts_the_device_options(tmp_path: Path) -> None:
    """QEMU itself parses our devices (no kernel: ``-machine none`` is not enough for PCI, so ask
    QEMU to list the devices we name)."""
    assert QEMU is not None
    out = subprocess.run(
        [QEMU, "-machine", "q35", "-device", "help"], capture_output=True, text=True, check=True
    ).stdout
    for device in ("virtio-blk-pci", "virtio-net-pci", "virtio-serial-pci", "virtserialport",
                   "virtio-rng-pci", "virtio-9p-pci"):  # fmt: skip
        assert f'"{device}"' in out


def test_missing_qemu_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LifecycleError, match="brew install qemu"):
        qemu.find_qemu("x86_64", platform="darwin")
    with pytest.raises(LifecycleError, match="apt-get install qemu-system-x86"):
        qemu.find_qemu("x86_64", platform="linux")


def test_qemu_shipped_with_portside_is_found_before_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.vm.disk import find_qemu_img

    shipped, on_path = tmp_path / "bundle", tmp_path / "path"
    for folder in (shipped, on_path):
        folder.mkdir()
        for name in ("qemu-system-x86_64", "qemu-img"):
            (folder / name).write_text("#!/bin/sh\n")
            (folder / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path))
    monkeypatch.delenv("PORTSIDE_BUNDLE_DIR", raising=False)
    assert qemu.find_qemu("x86_64") == str(on_path / "qemu-system-x86_64")
    monkeypatch.setenv("PORTSIDE_BUNDLE_DIR", str(shipped))
    assert qemu.find_qemu("x86_64") == str(shipped / "qemu-system-x86_64")
    assert find_qemu_img() == str(shipped / "qemu-img")


# -- settings, resources, layout ------------------------------------------------------------------


def test_resources_default_to_half_the_cpus_and_a_bounded_memory() -> None:
    # half the host's CPUs, but 2 where the host has 2 (a second vCPU boots TCG ~5 s sooner)
    res = resolve_resources(VMSettings(), 2, 24 * GIB_MIB * 1024 * 1024)
    assert (res.cpus, res.memory_mib, res.disk_gib) == (2, 2048, 64)
    assert resolve_resources(VMSettings(), 6, None).cpus == 3
    small = resolve_resources(VMSettings(), 16, 4 * GIB_MIB * 1024 * 1024)
    assert (small.cpus, small.memory_mib) == (8, 1024)  # a quarter of 4 GiB
    unknown = resolve_resources(VMSettings(), None, None)
    assert (unknown.cpus, unknown.memory_mib) == (1, 2048)
    assert resolve_resources(VMSettings(), 1, None).cpus == 1


def test_resources_from_settings_are_bounded_by_the_host() -> None:
    res = resolve_resources(VMSettings(cpus=64, memory_mib=65536), 4, 8 * GIB_MIB * 1024 * 1024)
    assert res.cpus == 4 and res.memory_mib == 8 * 1024 - 512
    assert any("64 CPUs" in n for n in res.notes) and any("65536 MiB" in n for n in res.notes)


def test_swap_defaults_to_1_gib_and_fits_a_quarter_of_the_data_disk(tmp_path: Path) -> None:
    assert resolve_resources(VMSettings(), 2, None).swap_mib == 1024
    assert resolve_resources(VMSettings(swap_mib=0), 2, None).swap_mib == 0
    res = resolve_resources(VMSettings(disk_gib=8, swap_mib=4096), 2, None)
    assert res.swap_mib == 2048 and any("4096 MiB of swap" in n for n in res.notes)
    path = tmp_path / "vm.json"
    path.write_text('{"swap_mib": -1}')
    with pytest.raises(LifecycleError, match="'swap_mib' must be a whole number from 0"):
        VMSettings.load(path)
    conf = tmp_path / "conf"
    conf.write_text(guest_config([], swap_mib=512))
    out = subprocess.run(["sh", "-c", f'. {conf}; echo "$PORTSIDE_SWAP_MIB"'],
                         capture_output=True, text=True, check=True).stdout
    assert out == "512\n"


def test_vm_json_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"cpus": 0}')
    with pytest.raises(LifecycleError, match="'cpus' must be a whole number from 1"):
        VMSettings.load(path)
    path.write_text('{"accel": "fast"}')
    with pytest.raises(LifecycleError, match="'accel' must be one of kvm, hvf, whpx, tcg"):
        VMSettings.load(path)
    path.write_text("{nope")
    with pytest.raises(LifecycleError, match="not valid JSON"):
        VMSettings.load(path)
    path.write_text('{"cpus": 2, "memory_mib": 3072, "mine": true}')
    assert VMSettings.load(path) == VMSettings(cpus=2, memory_mib=3072)
    assert VMSettings.load(tmp_path / "missing.json") == VMSettings()


def test_vm_paths_keep_sockets_short_and_private(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120)
    paths = VMPaths.default(deep)
    assert paths.root == deep / "vm"
    for sock in (paths.socket, paths.qmp_socket, paths.ready_socket, paths.ssh_control):
        assert len(str(sock).encode()) < 100
    paths.ensure()
    assert paths.run.stat().st_mode & 0o777 == 0o700


# -- readiness, guest config, shares --------------------------------------------------------------


def test_readiness_lines_split_the_boot() -> None:
    assert ready.parse_line("init 1.52\n") == ("init", "1.52")
    assert ready.parse_line("failed dockerd exited\n") == ("failed", "dockerd exited")
    assert ready.parse_line("garbage") is None
    times = ready.BootTimes(
        started=0.0,
        host={"init": 3.0, "sshd": 3.5, "ready": 8.0},
        guest={"init": 1.75, "sshd": 2.25, "ready": 6.75},
        pinged=8.25,
    )
    assert times.phases() == {
        "firmware": 1.25,
        "kernel": 1.75,
        "init": 0.5,
        "engine": 4.5,
        "forward": 0.25,
        "total": 8.25,
    }


def test_guest_config_is_shell_sourcable(tmp_path: Path) -> None:
    text = guest_config([share.Share("home", "/home/ann")], "--debug 'x'")
    conf = tmp_path / "conf"
    conf.write_text(text)
    out = subprocess.run(
        [
            "sh",
            "-c",
            f'. {conf}; echo "$PORTSIDE_SHARES|$PORTSIDE_DOCKERD_ARGS|$PORTSIDE_HOSTNAME"',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "home:/home/ann|--debug x|portside-vm\n"


def test_home_share_per_os(tmp_path: Path) -> None:
    shares, note = share.default_shares(tmp_path, "linux")
    assert shares == [share.Share("home", str(tmp_path))] and not note
    assert share.default_shares(tmp_path, "darwin")[0] == shares
    # Windows too: served by Portside's own 9P server there (QEMU has no -virtfs)
    assert share.default_shares(tmp_path, "win32")[0] == shares
    odd = tmp_path / "my home"
    odd.mkdir()
    none, why = share.default_shares(odd, "linux")
    assert none == [] and "not shared" in why


def test_windows_folders_are_mounted_docker_toolbox_style() -> None:
    assert share.Share("home", r"C:\Users\ann").guest_path == "/c/Users/ann"
    assert share.Share("home", "D:/work/src/").guest_path == "/d/work/src"
    assert share.Share("home", "E:\\").guest_path == "/e"
    assert share.Share("home", "/home/ann").guest_path == "/home/ann"
    shares, note = share.configured_shares([r"C:\Users\ann smith"])
    assert shares == [] and "not shared" in note  # a space: the guest's share list can't carry it
    assert share.shares_setting([share.Share("home", r"C:\Users\ann")]) == "home:/c/Users/ann"


def test_api_mode_per_os() -> None:
    assert api_mode(None, "linux", {}) == "ssh"
    assert api_mode(None, "darwin", {}) == "ssh"
    assert api_mode(None, "win32", {}) == "tls"  # no unix sockets in Python there
    assert api_mode("tls", "linux", {}) == "tls"
    assert api_mode("ssh", "win32", {}) == "tls"  # ssh's forward cannot work there
    assert api_mode("ssh", "linux", {"PORTSIDE_VM_API": "tls"}) == "tls"


def test_ssh_forward_pins_the_host_key_and_keeps_the_socket_private(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    argv = ssh.forward_command("ssh", paths, 2222)
    joined = " ".join(argv)
    for option in (
        "StrictHostKeyChecking=yes",
        f"UserKnownHostsFile={paths.known_hosts}",
        "ExitOnForwardFailure=yes",
        "StreamLocalBindUnlink=yes",
        "StreamLocalBindMask=0177",
        "IdentitiesOnly=yes",
    ):
        assert option in joined
    assert f"{paths.socket}:/var/run/docker.sock" in argv
    assert argv[argv.index("-p") + 1] == "2222" and argv[-1] == "root@127.0.0.1"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
def test_keys_are_made_once_and_the_host_key_is_pinned(tmp_path: Path) -> None:
    paths = VMPaths.at(tmp_path / "vm")
    paths.ensure()
    keygen = shutil.which("ssh-keygen")
    assert keygen is not None
    ssh.ensure_keys(keygen, paths)
    first = paths.client_key.read_bytes()
    ssh.ensure_keys(keygen, paths)
    assert paths.client_key.read_bytes() == first
    host_pub = (paths.host_key.parent / "ssh_host_ed25519_key.pub").read_text().split()
    assert paths.known_hosts.read_text() == f"portside-vm {host_pub[0]} {host_pub[1]}\n"
    assert paths.client_key.stat().st_mode & 0o077 == 0


# -- port forwards from engine events -------------------------------------------------------------


def _container(state: str, *ports_: dict[str, object]) -> ContainerSummary:
    return ContainerSummary.from_api({"Id": "c" + state, "State": state, "Ports": list(ports_)})


def test_wanted_forwards_from_running_containers() -> None:
    running = _container(
        "running",
        {"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"},
        {"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "::"},
        {"PrivatePort": 53, "PublicPort": 5353, "Type": "udp", "IP": "0.0.0.0"},
        {"PrivatePort": 22, "PublicPort": 2200, "Type": "tcp", "IP": "127.0.0.1"},
        {"PrivatePort": 9000, "Type": "tcp"},
    )
    exited = _container("exited", {"PrivatePort": 1, "PublicPort": 9999, "Type": "tcp"})
    assert ports.wanted_forwards([running, exited]) == {
        ports.Forward("tcp", 8080),
        ports.Forward("udp", 5353),
    }


def test_diff_adds_and_removes_only_changes() -> None:
    a, b, c = ports.Forward("tcp", 1), ports.Forward("tcp", 2), ports.Forward("udp", 3)
    assert ports.diff({a, b}, {b, c}) == ([c], [a])
    assert ports.diff({a}, {a}) == ([], [])
    assert a.add_command() == "hostfwd_add net0 tcp:127.0.0.1:1-:1"
    assert c.remove_command() == "hostfwd_remove net0 udp:127.0.0.1:3"


@pytest.mark.parametrize(
    ("kind", "action", "sync"),
    [
        ("container", "start", True),
        ("container", "die", True),
        ("container", "destroy", True),
        ("container", "exec_start: sh", False),
        ("container", "attach", False),
        ("network", "connect", False),
        ("image", "pull", False),
    ],
)
def test_which_events_resync(kind: str, action: str, sync: bool) -> None:
    event = Event.from_api({"Type": kind, "Action": action, "Actor": {"ID": "x"}})
    assert ports.needs_sync(event) is sync


# -- QMP against a real QEMU ----------------------------------------------------------------------


def test_qmp_framing() -> None:
    assert encode("quit", id=4) == b'{"execute":"quit","id":4}\r\n'
    assert encode("x", {"a": 1}) == b'{"execute":"x","arguments":{"a":1}}\r\n'
    assert decode(b'{"return": {}}\r\n') == {"return": {}}
    with pytest.raises(QMPError, match="not JSON"):
        decode(b"oops\n")


@pytest.fixture
async def bare_qemu(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A QEMU with no machine and a slirp netdev: enough for QMP and host forwards."""
    assert QEMU is not None
    sock = tmp_path / "qmp.sock"
    proc = await asyncio.create_subprocess_exec(
        QEMU, "-machine", "none", "-nodefaults", "-display", "none",
        "-netdev", "user,id=net0", "-qmp", f"unix:{sock},server=on,wait=off",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = await QMPClient.connect(sock)
    try:
        yield proc, client
    finally:
        await client.close()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@needs_qemu
async def test_qmp_commands_events_and_errors(bare_qemu) -> None:  # type: ignore[no-untyped-def]
    proc, client = bare_qemu
    assert "qemu" in client.greeting["version"]
    status = await client.execute("query-status")
    assert "status" in status
    version = await client.human_command("info version")
    assert version.strip()
    with pytest.raises(QMPError, match="not-a-command"):
        await client.execute("not-a-command")
    events = client.events()
    await client.execute("stop")
    event = await asyncio.wait_for(anext(events), 10)
    assert event["event"] == "STOP"
    await client.quit()
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    with pytest.raises(QMPError, match="closed"):
        await client.execute("query-status")


@needs_qemu
async def test_host_forward_and_a_port_the_host_uses(bare_qemu) -> None:  # type: ignore[no-untyped-def]
    _proc, client = bare_qemu
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    forward = ports.Forward("tcp", free)
    out = await client.human_command(forward.add_command())
    assert not ports.add_failed(out)
    with socket.create_connection(("127.0.0.1", free), timeout=5):
        pass  # QEMU listens on the host side now
    assert not ports.add_failed(await client.human_command(forward.remove_command()))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = ports.Forward("tcp", busy.getsockname()[1])
        out = await client.human_command(taken.add_command())
        assert ports.add_failed(out), out


# -- disks ----------------------------------------------------------------------------------------


@pytest.mark.skipif(QEMU_IMG is None, reason="qemu-img is not installed")
def test_root_overlay_follows_the_image_version_and_the_data_disk_stays(tmp_path: Path) -> None:
    assert QEMU_IMG is not None
    base = tmp_path / "rootfs.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(base), "64M"], check=True)
    overlay, version = tmp_path / "root.qcow2", tmp_path / "root.version"
    assert disk.ensure_root_overlay(QEMU_IMG, overlay, version, base, "1")
    info = disk.disk_info(QEMU_IMG, overlay)
    assert info["backing-filename"] == str(base)
    assert not disk.ensure_root_overlay(QEMU_IMG, overlay, version, base, "1")
    assert disk.ensure_root_overlay(QEMU_IMG, overlay, version, base, "2")
    assert version.read_text() == "2\n"
    data = tmp_path / "data.qcow2"
    assert "created" in disk.ensure_data_disk(QEMU_IMG, data, 8)
    assert disk.disk_info(QEMU_IMG, data)["virtual-size"] == 8 * disk.GIB
    assert disk.ensure_data_disk(QEMU_IMG, data, 8) == ""
    assert "grew" in disk.ensure_data_disk(QEMU_IMG, data, 10)
    assert disk.allocated_bytes(data) < 10 * 1024 * 1024  # sparse


@needs_qemu
@pytest.mark.engine
async def test_port_forwarder_follows_engine_events(  # type: ignore[no-untyped-def]
    bare_qemu, engine_endpoint: str, test_image: str
) -> None:
    """The forwarder against the session's real engine and a real QEMU's slirp: a container
    publishing a port makes the forwarder try that port; here the native engine's docker-proxy
    already holds it on the host, so QEMU refuses and the forwarder records a clear problem
    instead of failing; removing the container clears it."""
    from engine.client import EngineClient

    _proc, qmp = bare_qemu
    changes: list[int] = []
    forwarder = ports.PortForwarder(qmp, engine_endpoint, lambda: changes.append(1))
    forwarder.start()
    port = 0
    async with EngineClient(engine_endpoint) as client:
        try:
            await asyncio.wait_for(forwarder.synced.wait(), 30)
            assert forwarder.active == set() and forwarder.problems == {}
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            cid = await client.containers.create(
                {
                    "Image": test_image,
                    "Cmd": ["sleep", "300"],
                    "ExposedPorts": {"80/tcp": {}},
                    "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": str(port)}]}},
                },
                name=f"pf-{port}",
            )
            await client.containers.start(cid)
            wanted = ports.Forward("tcp", port)
            for _ in range(200):
                if wanted in forwarder.problems:
                    break
                await asyncio.sleep(0.05)
            assert wanted in forwarder.problems, (forwarder.active, forwarder.problems)
            assert "already uses it" in forwarder.problems[wanted]
            assert wanted not in forwarder.active and changes
        finally:
            with contextlib.suppress(Exception):
                await client.containers.remove(f"pf-{port}", force=True)
        for _ in range(200):
            if not forwarder.problems:
                break
            await asyncio.sleep(0.05)
        assert forwarder.problems == {}
    await forwarder.stop()
