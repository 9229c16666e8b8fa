"""A minimal QEMU boot of the Portside VM image, for the image's own tests (no VMEngine).

What runs: ``qemu-system-<arch>`` with a direct kernel boot of the image, the root overlay and a
data disk (virtio-blk), user networking with ssh forwarded from 127.0.0.1, the fw_cfg files of
the contract (config, authorized key, host key), the readiness port ``org.portside.ready`` on a
unix socket that a reader thread drains into timestamped lines, QMP for the power button, and the
serial console in a file. ``ssh`` runs commands in the guest with the pinned host key;
``forward_docker`` forwards the guest's docker.sock to a host unix socket like the engine does.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from engine.vm.image import VMImage
from engine.vm.qemu import find_qboot


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReadyLine:
    """One readiness line and when the host read it (seconds since QEMU started)."""

    at: float
    text: str


@dataclass
class Guest:
    """One booted image; see the module docstring."""

    image: VMImage
    workdir: Path
    shares: dict[str, Path] = field(default_factory=dict)
    dockerd_args: str = ""
    memory_mib: int = 2048
    cpus: int = 2
    lines: list[ReadyLine] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ssh_port: int = 0

    @property
    def console(self) -> Path:
        return self.workdir / "console.log"

    def console_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no console log)"

    def prepare(self) -> None:
        """Overlay, blank data disk, keys and the config file (first boot of a fresh VM)."""
        w = self.workdir
        w.mkdir(parents=True, exist_ok=True)
        root, data = w / "root.qcow2", w / "data.qcow2"
        if not root.exists():
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                 str(self.image.rootfs), str(root)],
                check=True,
            )  # fmt: skip
        if not data.exists():
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(data), "8G"], check=True)
        for key in ("host_key", "client_key"):
            if not (w / key).exists():
                subprocess.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", str(w / key)],
                    check=True,
                )
        shares = " ".join(f"{tag}:{path}" for tag, path in self.shares.items())
        (w / "config").write_text(
            f"PORTSIDE_SHARES='{shares}'\nPORTSIDE_DOCKERD_ARGS='{self.dockerd_args}'\n"
            "PORTSIDE_HOSTNAME='portside-test'\n"
        )
        host_pub = (w / "host_key.pub").read_text().split()
        (w / "known_hosts").write_text(
            f"[127.0.0.1]:{{port}} {host_pub[0]} {host_pub[1]}\n"
        )  # the port is filled in at boot

    def command(self) -> list[str]:
        w = self.workdir
        arch = self.image.arch
        console = "ttyS0" if arch == "x86_64" else "ttyAMA0"
        cmdline = f"{self.image.kernel_cmdline} root=/dev/vda rw quiet console={console} norandmaps"
        if arch == "x86_64":
            argv = ["qemu-system-x86_64", "-machine", "q35,vmport=off,hpet=off"]
            firmware = find_qboot(shutil.which("qemu-system-x86_64") or "qemu-system-x86_64")
            argv += ["-bios", str(firmware)] if firmware else []  # as VMEngine does
        else:
            argv = ["qemu-system-aarch64", "-machine", "virt,gic-version=max"]
        argv += [
            "-nodefaults", "-no-user-config", "-display", "none",
            "-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max",
            "-smp", str(self.cpus), "-m", str(self.memory_mib),
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", cmdline,
            "-drive", f"if=none,id=root,file={w / 'root.qcow2'},format=qcow2,discard=unmap",
            "-device", "virtio-blk-pci,drive=root",
            "-drive", f"if=none,id=data,file={w / 'data.qcow2'},format=qcow2,discard=unmap",
            "-device", "virtio-blk-pci,drive=data",
            "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            "-device", "virtio-net-pci,netdev=net0",
            "-device", "virtio-rng-pci",
            "-fw_cfg", f"name=opt/portside/config,file={w / 'config'}",
            "-fw_cfg", f"name=opt/portside/authorized_keys,file={w / 'client_key.pub'}",
            "-fw_cfg", f"name=opt/portside/ssh_host_ed25519_key,file={w / 'host_key'}",
            "-device", "virtio-serial-pci",
            "-chardev", f"socket,id=ready,path={w / 'ready.sock'},server=on,wait=off",
            "-device", "virtserialport,chardev=ready,name=org.portside.ready",
            "-serial", f"file:{self.console}",
            "-qmp", f"unix:{w / 'qmp.sock'},server=on,wait=off",
            "-no-reboot",
        ]  # fmt: skip
        for tag, path in self.shares.items():
            argv += [
                "-virtfs",
                f"local,path={path},mount_tag={tag},security_model=none,id={tag}",
            ]
        return argv

    def start(self) -> None:
        self.prepare()
        for name in ("ready.sock", "qmp.sock", "console.log"):
            (self.workdir / name).unlink(missing_ok=True)
        self.ssh_port = free_port()
        known = self.workdir / "known_hosts"
        known.write_text(known.read_text().replace("{port}", str(self.ssh_port)))
        self.lines = []
        self.started = time.monotonic()
        with (self.workdir / "qemu.err").open("wb") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stderr=err)
        threading.Thread(target=self._read_ready, daemon=True).start()

    def _read_ready(self) -> None:
        path = str(self.workdir / "ready.sock")
        sock = socket.socket(socket.AF_UNIX)
        while True:
            if self.proc is None or self.proc.poll() is not None:
                return
            try:
                sock.connect(path)
                break
            except OSError:
                time.sleep(0.02)
        buf = b""
        with sock:
            while chunk := sock.recv(4096):
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    at = time.monotonic() - self.started
                    self.lines.append(ReadyLine(at, raw.decode(errors="replace").strip()))

    def wait_line(self, *prefixes: str, timeout: float) -> ReadyLine:
        """The first readiness line starting with one of ``prefixes``; fails on timeout or exit."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if line.text.startswith(prefixes):
                    return line
            if self.proc is not None and self.proc.poll() is not None:
                time.sleep(0.3)  # the reader may still hold the last lines
                for line in list(self.lines):
                    if line.text.startswith(prefixes):
                        return line
                raise AssertionError(
                    f"QEMU exited ({self.proc.returncode}) before {prefixes}; lines "
                    f"{[x.text for x in self.lines]}\nconsole:\n{self.console_tail()}\n"
                    f"qemu:\n{(self.workdir / 'qemu.err').read_text(errors='replace')}"
                )
            time.sleep(0.05)
        raise AssertionError(
            f"no {prefixes} line in {timeout:.0f} s; lines {[x.text for x in self.lines]}\n"
            f"console:\n{self.console_tail()}"
        )

    def ssh_argv(self, *extra: str) -> list[str]:
        w = self.workdir
        return [
            "ssh", "-i", str(w / "client_key"), "-p", str(self.ssh_port),
            "-o", f"UserKnownHostsFile={w / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20",
            *extra, "root@127.0.0.1",
        ]  # fmt: skip

    def ssh(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.ssh_argv(), command], capture_output=True, text=True, timeout=timeout
        )

    @contextmanager
    def forward_docker(self) -> Iterator[httpx.Client]:
        """An httpx client on the guest's docker.sock, forwarded over ssh to a host socket."""
        local = self.workdir / "docker.sock"
        local.unlink(missing_ok=True)
        fwd = subprocess.Popen(
            self.ssh_argv(
                "-N", "-o", "ExitOnForwardFailure=yes",
                "-o", "StreamLocalBindUnlink=yes",
                "-L", f"{local}:/var/run/docker.sock",
            ),
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not local.exists():
                if fwd.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"ssh -L did not create {local} (exit {fwd.poll()})")
                time.sleep(0.05)
            transport = httpx.HTTPTransport(uds=str(local))
            with httpx.Client(transport=transport, base_url="http://docker", timeout=60) as c:
                yield c
        finally:
            fwd.terminate()
            fwd.wait(10)

    def qmp(self, command: str) -> None:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(self.workdir / "qmp.sock"))
            f = sock.makefile("rw")
            f.readline()  # greeting
            for cmd in ("qmp_capabilities", command):
                f.write(json.dumps({"execute": cmd}) + "\n")
                f.flush()
                while True:  # skip events until the reply
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
                assert "error" not in reply, reply

    def powerdown(self, timeout: float) -> float:
        """Press the power button; seconds until QEMU exits by itself (fails on timeout)."""
        assert self.proc is not None
        start = time.monotonic()
        self.qmp("system_powerdown")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the guest did not power off in {timeout} s; console:\n{self.console_tail()}"
            ) from None
        return time.monotonic() - start

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def workdir(prefix: str) -> Path:
    """A fresh, short folder for one guest (unix socket paths are limited to ~107 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))


@contextmanager
def booted(image: VMImage, workdir: Path, **kwargs: object) -> Iterator[Guest]:
    """Start a guest and always end its QEMU (by its own pid) afterwards."""
    qemu = "qemu-system-x86_64" if image.arch == "x86_64" else "qemu-system-aarch64"
    if shutil.which(qemu) is None:
        raise AssertionError("QEMU is missing: bash scripts/test-vm.sh installs it")
    guest = Guest(image=image, workdir=workdir, **kwargs)  # type: ignore[arg-type]
    guest.start()
    try:
        yield guest
    finally:
        guest.kill()


def ready_split(guest: Guest) -> dict[str, float]:
    """Where the boot went, in seconds: QEMU start -> each readiness line on the host's clock,
    and the phases from the guest's uptime (the initramfs prints when it started and when the
    root was mounted): firmware (QEMU start -> the kernel's clock starts), kernel, initramfs,
    init (-> the ``init`` line), engine (``init`` -> ``ready``)."""
    out: dict[str, float] = {}
    uptime: dict[str, float] = {}
    for line in guest.lines:
        word, _, rest = line.text.partition(" ")
        out[f"{word}_host_s"] = round(line.at, 2)
        with suppress(ValueError):
            uptime[word] = float(rest)
    marks = re.search(r"portside: initramfs ([\d.]+) root ([\d.]+)", guest.console_tail(10**6))
    if marks and "init" in uptime:
        t_initramfs, t_root = float(marks[1]), float(marks[2])
        out["firmware_s"] = round(out["init_host_s"] - uptime["init"], 2)
        out["kernel_s"] = t_initramfs
        out["initramfs_s"] = round(t_root - t_initramfs, 2)
        out["init_s"] = round(uptime["init"] - t_root, 2)
        if "ready" in uptime:
            out["engine_s"] = round(uptime["ready"] - uptime["init"], 2)
    return out
