"""The VM image (packaging/vm/build.sh) on its own: cached builds, a manifest that records versions,
a byte-identical rebuild, and the guest side of the contract booted under TCG with a minimal QEMU
command line of the test's own (direct kernel boot, two disks, fw_cfg, readiness port).

Marker ``vm``: run by ``bash scripts/test-vm.sh`` (building the image once takes 1-2 minutes;
a boot under TCG 15-40 s on a busy 2-core machine).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from engine.vm import image as vm_image
from tests.support.engine_fixtures import DOCKER_CLI, TEST_IMAGE, busybox_context
from tests.vm.conftest import ROOT, ensure_image
from tests.vm.guest import booted, ready_split, workdir

# a first build takes 1-2 minutes, each boot 15-40 s under TCG here
pytestmark = [pytest.mark.vm, pytest.mark.timeout(1200)]

BUILD = ROOT / "packaging" / "vm" / "build.sh"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", str(BUILD), *args], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"build.sh {args} failed:\n{done.stdout[-3000:]}\n{done.stderr}"
    return done


def busybox_rootfs() -> bytes:
    """The busybox test image's root file system as a tar, for ``docker import``."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(busybox_context())) as source,
        tarfile.open(fileobj=out, mode="w") as tar,
    ):
        for member in source.getmembers():
            if member.name.startswith("rootfs/"):
                data = source.extractfile(member) if member.isfile() else None
                member.name = member.name.removeprefix("rootfs/")
                tar.addfile(member, data)
    return out.getvalue()


def docker_cli(sock: Path, *args: str, stdin: bytes | None = None) -> str:
    """The docker CLI on PATH against the guest's forwarded socket; fails with its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = f"unix://{sock}"
    env["DOCKER_CONFIG"] = str(sock.parent / "docker-config")
    done = subprocess.run(
        [DOCKER_CLI, *args], input=stdin, capture_output=True, env=env, timeout=180
    )
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, f"docker {args[0]} exited {done.returncode}:\n{out}\n" + (
        done.stderr.decode(errors="replace")
    )
    return out


def test_build_is_cached_and_the_manifest_pins_what_is_inside() -> None:
    image = ensure_image("x86_64")
    mtimes = {p.name: p.stat().st_mtime_ns for p in image.dir.iterdir()}

    start = time.monotonic()
    again = build("--arch", "x86_64")
    assert time.monotonic() - start < 20, "an up-to-date image must not be rebuilt"
    assert "up to date" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in image.dir.iterdir()} == mtimes

    found = vm_image.find_image("x86_64")
    assert found is not None and found.dir == image.dir
    m = found.manifest
    assert m["version"] == vm_image.IMAGE_VERSION and m["arch"] == "x86_64"
    for name in vm_image.IMAGE_FILES:
        assert m["files"][name] == sha256(image.dir / name), f"{name} differs from its manifest"
    packages = found.packages
    for name in ("docker.io", "containerd", "runc", "openssh-server", "busybox-static", "tini"):
        assert packages.get(name), f"{name} is not recorded in the manifest"
    assert any(p.startswith("linux-image-") for p in packages), "the kernel package is missing"
    assert m["built_from"]["suites"], "the Debian suites (and their dates) are not recorded"
    assert "apparmor=0" in found.kernel_cmdline
    # the kernel is shipped unpacked (an ELF with a PVH entry): no xz decompression under TCG
    assert found.kernel.read_bytes()[:4] == b"\x7fELF"


def test_a_rebuild_is_byte_identical_to_the_cached_image(tmp_path: Path) -> None:
    """A fresh build of the same recipe into a temporary folder against the cached image: the
    same pinned package versions and the same sha256 for all three files (docs/vm.md)."""
    image = ensure_image("x86_64")
    out = tmp_path / "rebuilt"
    start = time.monotonic()
    build("--arch", "x86_64", "--out", str(out), "--force")
    print(f"fresh x86_64 build: {time.monotonic() - start:.0f} s")
    rebuilt = vm_image.read_manifest(out / "manifest.json")
    assert rebuilt["packages"] == image.manifest["packages"]
    assert rebuilt["recipe"] == image.manifest["recipe"]
    # kernel and initramfs: fixed timestamps, sorted cpio; rootfs.qcow2: fixed mtimes, ctimes
    # and atimes (ext4_times.py), UUID, hash seed and mkfs time, and qemu-img is deterministic
    for name in vm_image.IMAGE_FILES:
        assert sha256(out / name) == rebuilt["files"][name]
        assert rebuilt["files"][name] == image.manifest["files"][name], f"{name} differs"


def test_find_image_refuses_an_incomplete_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = ensure_image("x86_64")
    monkeypatch.setenv(vm_image.IMAGE_DIR_ENV, str(tmp_path))
    assert vm_image.find_image("x86_64") is None
    copy = tmp_path / vm_image.IMAGE_VERSION / "x86_64"
    copy.mkdir(parents=True)
    (copy / "manifest.json").write_text((image.dir / "manifest.json").read_text())
    for name in ("vmlinuz", "initrd.img"):
        (copy / name).symlink_to(image.dir / name)
    assert vm_image.find_image("x86_64") is None, "rootfs.qcow2 is missing"
    (copy / "rootfs.qcow2").symlink_to(image.rootfs)
    found = vm_image.find_image("x86_64")
    assert found is not None and found.rootfs == copy / "rootfs.qcow2"
    # as root (tests, CI) the hint keeps the folder override; a user's hint adds sudo and --out
    assert vm_image.build_hint("x86_64") == (
        f"{vm_image.IMAGE_DIR_ENV}={tmp_path} bash packaging/vm/build.sh --arch x86_64"
    )


def test_the_guest_boots_powers_off_cleanly_and_survives_a_crash(tmp_path: Path) -> None:
    image = ensure_image("x86_64")
    share = tmp_path / "home" / "project"
    share.mkdir(parents=True)
    (share / "from-host.txt").write_text("hello from the host\n")
    work = workdir("pvi-")
    try:
        with booted(image, work, shares={"home": tmp_path / "home"}) as guest:
            init = guest.wait_line("init", timeout=120)
            ready = guest.wait_line("ready", "failed", timeout=240)
            assert ready.text.startswith("ready"), ready.text
            sshd = guest.wait_line("sshd", timeout=5)
            assert init.at <= sshd.at <= ready.at + 5
            print("boot split:", ready_split(guest))

            # dockerd answers through an ssh-forwarded socket, as the engine will use it
            with guest.forward_docker() as docker:
                assert docker.get("/_ping").text == "OK"
                info = docker.get("/info").json()
                assert info["Driver"] == "overlay2"
                assert info["DockerRootDir"] == "/var/lib/docker"
                assert info["Name"] == "portside-test"
                # a real container: containerd's tasks service, runc, the bridge network, attach
                # (a ping alone missed a containerd config that broke every `docker run`)
                sock = guest.workdir / "docker.sock"
                docker_cli(
                    sock, "import", "-c", "ENV PATH=/bin", "-", TEST_IMAGE, stdin=busybox_rootfs()
                )
                script = "echo hi from $(hostname); ip -4 route"
                ran = docker_cli(sock, "run", "--rm", TEST_IMAGE, "sh", "-c", script)
                assert ran.startswith("hi from "), ran
                assert "default via 172.17.0.1" in ran, "the container is not on docker0"

            # the data disk was formatted on first boot and holds the engine's data;
            # the home share is mounted at the same path as on the host, both ways
            probe = guest.ssh(
                "findmnt -n -o SOURCE,FSTYPE /var/lib/docker; blkid -s LABEL -o value /dev/vdb;"
                f" cat {share}/from-host.txt; echo from-guest > {share}/from-guest.txt;"
                " findmnt -n -o FSTYPE /sys/fs/cgroup; ls /run/portside"
            )
            assert probe.returncode == 0, probe.stderr
            out = probe.stdout.split("\n")
            assert out[0].split() == ["/dev/vdb", "ext4"]
            assert out[1] == "portside-data"
            assert out[2] == "hello from the host"
            assert (share / "from-guest.txt").read_text() == "from-guest\n"
            assert out[3] == "cgroup2"
            # no host key on the root disk: it comes from fw_cfg into /run at each boot
            assert "ssh_host_ed25519_key" in out[4:]
            keys = guest.ssh("ls /etc/ssh/ | grep -c ssh_host_ || true")
            assert keys.stdout.strip() == "0"
            # dockerd's rules are in iptables-legacy's tables (the image's choice: its start is
            # ~1 s faster than with iptables-nft under TCG), NAT for the default bridge included
            # booted with norandmaps (TCG), randomisation back on once the engine was ready
            aslr = guest.ssh("cat /proc/sys/kernel/randomize_va_space; cat /proc/cmdline")
            assert aslr.stdout.startswith("2\n") and "norandmaps" in aslr.stdout, aslr.stdout
            rules = guest.ssh("readlink -f /usr/sbin/iptables; iptables -t nat -S POSTROUTING")
            assert rules.stdout.startswith("/usr/sbin/xtables-legacy-multi\n"), rules.stdout
            assert "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE" in rules.stdout

            # the power button stops dockerd cleanly and the VM powers off by itself
            took = guest.powerdown(timeout=60)
            assert guest.proc is not None and guest.proc.returncode == 0
            console = guest.console.read_text(errors="replace")
            assert "portside: power off" in console
            assert "dockerd did not stop" not in console
            print(f"power button -> QEMU exit: {took:.1f} s")

        # second boot: the data disk is not formatted again, the engine data survives
        with booted(image, work) as guest:
            ready = guest.wait_line("ready", "failed", timeout=240)
            assert ready.text.startswith("ready"), ready.text
            print("second boot split:", ready_split(guest))
            assert "formatting the data disk" not in guest.console.read_text(errors="replace")
            probe = guest.ssh("test -d /var/lib/docker/overlay2 && echo kept; sync")
            assert probe.stdout.strip() == "kept"
            # a crash: QEMU killed with the engine running (no shutdown, no unmount)
            guest.kill()

        # third boot after the crash: the journals make both disks mountable, no fsck wait
        with booted(image, work) as guest:
            ready = guest.wait_line("ready", "failed", timeout=240)
            assert ready.text.startswith("ready"), f"{ready.text}\n{guest.console_tail()}"
            with guest.forward_docker() as docker:
                assert docker.get("/_ping").text == "OK"
            # dockerd dying unasked after ready: init (no polling: it waits on dockerd's output)
            # says so on the readiness port and powers the VM off by itself
            guest.ssh("kill -KILL $(cat /run/portside/dockerd.pid)")
            died = guest.wait_line("failed", timeout=120)
            assert died.text == "failed dockerd exited (137)", died.text
            assert guest.proc is not None
            guest.proc.wait(60)
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)


def test_a_dockerd_that_cannot_start_is_reported_and_the_vm_stops(tmp_path: Path) -> None:
    image = ensure_image("x86_64")
    work = workdir("pvf-")
    try:
        with booted(image, work, dockerd_args="--no-such-flag") as guest:
            line = guest.wait_line("ready", "failed", timeout=240)
            assert line.text.startswith("failed"), line.text
            assert guest.proc is not None
            guest.proc.wait(60)  # it powers off by itself
            assert "unknown flag: --no-such-flag" in guest.console.read_text(errors="replace")
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
