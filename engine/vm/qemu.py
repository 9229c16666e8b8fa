"""QEMU's command line for the Portside VM, and the choice of accelerator.

Pure functions, no I/O except where a name says so (``find_qemu``, ``qemu_accelerators``,
``host_accelerators``), so the choice can be tested as each OS would see it:

    qemu -accel help  ──► parse_accel_help ──┐
    /dev/kvm, sysctl kern.hv_support, OS ───► host_accelerators ──► accel_candidates ──► [kvm, tcg]
    PORTSIDE_VM_ACCEL / vm.json "accel" ─────────────────────────┘

The engine tries the candidates in order: an accelerated boot that exits or does not reach the
guest's first readiness line in time is ended and the next one (finally ``tcg``) is tried.

Boot is a direct kernel boot (``-kernel``/``-initrd``/``-append``: no boot loader, no firmware
menu; on x86_64 QEMU's minimal qboot firmware when it is installed), virtio disks, slirp
networking (``-netdev user,id=net0``, the ssh port forwarded on 127.0.0.1 only), 9p shares
(``-virtfs``, or a virtio-serial port per share on a pipe chardev served by engine/vm/ninep),
fw_cfg files for the per-VM keys and config, a virtio-serial port for the readiness lines, QMP on
a unix socket, and the serial console on QEMU's stdout (the engine copies it into the engine
log). In the ``tls`` API mode (Windows) no unix socket is used: dockerd's TLS port is forwarded
too, readiness is read from the console and QMP goes through a pipe chardev.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import EngineNotInstalled, LifecycleError
from engine.vm.ninep.transport import share_args
from engine.vm.qmp_pipe import chardev_args
from engine.vm.share import Share

#: Environment variable that forces one accelerator (kvm, hvf, whpx or tcg).
ACCEL_ENV = "PORTSIDE_VM_ACCEL"
#: Where QEMU lives when it is not on PATH (Homebrew, MacPorts, the Windows installer).
EXTRA_DIRS: dict[str, tuple[str, ...]] = {
    "darwin": ("/opt/homebrew/bin", "/usr/local/bin", "/opt/local/bin"),
    "win32": (r"C:\Program Files\qemu",),
}
#: The 9p transport's message size: bigger than the 8 KiB default makes file reads much faster.
NINEP_MSIZE = 512 * 1024
#: The host name the pinned host key is filed under in known_hosts (the ssh port changes).
HOST_KEY_ALIAS = "portside-vm"
#: dockerd's TLS port in the guest (the ``tls`` API mode; docker's conventional 2376).
GUEST_TLS_PORT = 2376


def qemu_binary(arch: str) -> str:
    """``qemu-system-x86_64`` / ``qemu-system-aarch64`` for a VM image's arch."""
    if arch == "x86_64":
        return "qemu-system-x86_64"
    if arch == "arm64":
        return "qemu-system-aarch64"
    raise LifecycleError(f"Portside has no VM for the {arch!r} architecture (x86_64, arm64).")


def install_hint(platform: str = sys.platform) -> str:
    """How to get QEMU on this OS."""
    if platform == "darwin":
        return "Install QEMU: `brew install qemu` (or MacPorts: `sudo port install qemu`)."
    if platform == "win32":
        return "Install QEMU for Windows from https://qemu.weilnetz.de/ (or `winget install qemu`)."
    return (
        "Install QEMU: on Debian/Ubuntu `sudo apt-get install qemu-system-x86 qemu-utils` "
        "(qemu-system-arm on arm64), on Fedora `sudo dnf install qemu-kvm qemu-img`."
    )


def search_path(platform: str = sys.platform) -> str:
    """Where QEMU programs are looked for: Portside's own bundle folders first (a packaged
    Portside ships QEMU in ``<sys.prefix>/share/portside/bin``), then PATH, then the usual
    install folders of this OS (Homebrew's, QEMU for Windows')."""
    from engine.lifecycle.programs import bundle_dirs

    search = [str(d) for d in bundle_dirs()]
    search += os.environ.get("PATH", "").split(os.pathsep) + list(EXTRA_DIRS.get(platform, ()))
    return os.pathsep.join(p for p in search if p)


def find_qemu(arch: str, *, platform: str = sys.platform) -> str:
    """Full path of the QEMU system emulator for ``arch``; raises with an install hint."""
    name = qemu_binary(arch)
    found = shutil.which(name, path=search_path(platform))
    if not found:
        raise EngineNotInstalled(f"{name} was not found (searched PATH). {install_hint(platform)}")
    return found


#: QEMU's minimal x86 firmware: it jumps to the kernel without SeaBIOS' device scan and menus.
QBOOT = "qboot.rom"


def find_qboot(qemu: str) -> Path | None:
    """QEMU's ``qboot.rom`` beside this QEMU binary's install (Debian, Homebrew and MacPorts put it
    in ``<prefix>/share/qemu``, QEMU for Windows in ``<dir>/share``, a build tree in ``pc-bios``),
    or None: then QEMU's default firmware (SeaBIOS) boots the kernel, a little slower. Only
    x86_64 uses it."""
    where = Path(qemu).resolve().parent
    for folder in (where.parent / "share" / "qemu", where / "share", where / "pc-bios",
                   where.parent / "pc-bios"):
        candidate = folder / QBOOT
        if candidate.is_file():
            return candidate
    return None


def parse_accel_help(text: str) -> list[str]:
    """The accelerators a QEMU binary was built with, from ``qemu-system-* -accel help``.

    The output is a header line ("Accelerators supported in QEMU binary:") then one name per line.
    """
    names = []
    for line in text.splitlines():
        word = line.strip()
        if word and " " not in word and ":" not in word and word.isascii():
            names.append(word)
    return names


def qemu_accelerators(qemu: str) -> list[str]:
    """Run ``qemu -machine none -accel help`` and parse it."""
    try:
        out = subprocess.run(
            [qemu, "-machine", "none", "-accel", "help"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineNotInstalled(f"Could not ask {qemu} for its accelerators: {exc}") from exc
    return parse_accel_help(out)


def _hv_support() -> bool:  # pragma: no cover - macOS only
    try:
        out = subprocess.run(
            ["sysctl", "-n", "kern.hv_support"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return out.strip() == "1"


def host_accelerators(
    platform: str = sys.platform,
    *,
    kvm_device: str = "/dev/kvm",
    can_open: Callable[[str], bool] = lambda path: os.access(path, os.R_OK | os.W_OK),
    hv_support: Callable[[], bool] = _hv_support,
) -> list[str]:
    """What this host offers besides TCG, best first (it may still fail to boot: see module doc).

    Linux: ``kvm`` when ``/dev/kvm`` is there and opens for us. macOS: ``hvf`` when the sysctl
    ``kern.hv_support`` is 1. Windows: ``whpx`` (QEMU itself finds out whether the Windows
    Hypervisor Platform feature is on; a failure falls back to tcg).
    """
    if platform.startswith("linux"):
        return ["kvm"] if can_open(kvm_device) else []
    if platform == "darwin":
        return ["hvf"] if hv_support() else []
    if platform == "win32":
        return ["whpx"]
    return []


def accel_candidates(
    in_qemu: Sequence[str],
    on_host: Sequence[str],
    forced: str | None = None,
    *,
    same_arch: bool = True,
) -> list[str]:
    """The accelerators to try, in order; ``tcg`` last. ``forced`` allows only that one.

    Hardware accelerators run only a guest of the host's own architecture (``same_arch``).
    """
    if forced:
        if forced not in in_qemu:
            raise LifecycleError(
                f"The accelerator {forced!r} was asked for ({ACCEL_ENV} or vm.json), but this "
                f"QEMU offers only: {', '.join(in_qemu) or 'none'}. Unset it to let Portside "
                "choose."
            )
        return [forced]
    chosen = [a for a in on_host if a in in_qemu and a != "tcg"] if same_arch else []
    if "tcg" in in_qemu:
        chosen.append("tcg")
    if not chosen:
        raise LifecycleError(
            f"This QEMU offers no accelerator Portside can use ({', '.join(in_qemu) or 'none'})."
        )
    return chosen


def describe_accel(accel: str) -> str:
    """How the status line names an accelerator."""
    return {
        "kvm": "KVM",
        "hvf": "Hypervisor.framework",
        "whpx": "Windows Hypervisor Platform",
        "tcg": "TCG, emulated: slow",
    }.get(accel, accel)


@dataclass(frozen=True)
class MachineSpec:
    """Everything QEMU's command line depends on."""

    arch: str
    accel: str
    cpus: int
    memory_mib: int
    kernel: Path
    initrd: Path
    cmdline: str
    root_disk: Path
    data_disk: Path
    ssh_port: int
    #: QMP's unix socket, or None when ``qmp_pipe`` carries QMP (the ``tls`` API mode)
    qmp_socket: Path | None
    #: the readiness port's unix socket, or None: readiness is read from the serial console
    ready_socket: Path | None
    shares: Sequence[Share] = ()
    fw_cfg: Mapping[str, Path] = field(default_factory=dict)
    pidfile: Path | None = None
    name: str = "portside-vm"
    #: x86_64 firmware to use instead of QEMU's default (``find_qboot``)
    firmware: Path | None = None
    #: host port on 127.0.0.1 forwarded to dockerd's TLS port in the guest (the ``tls`` API mode)
    api_port: int | None = None
    #: QMP through a pipe chardev (a Windows named pipe's name, or the POSIX FIFOs' base path)
    qmp_pipe: str | None = None
    #: shares served by Portside's 9P server on a pipe chardev (tag -> pipe, as ``qmp_pipe``);
    #: the other shares use QEMU's ``-virtfs``
    share_pipes: Mapping[str, str] = field(default_factory=dict)


def kernel_cmdline(arch: str, manifest_cmdline: str = "", accel: str = "") -> str:
    """The manifest's defaults + root disk + the serial console of this arch (contract).

    Under TCG the guest boots with ``norandmaps`` and its init switches address-space
    randomisation back on once the engine is ready: QEMU 7's x86 TCG keys translated code by
    virtual address, so with randomised library addresses every process start re-translates
    ld.so and libc, and dockerd's start is 70-170 process starts (iptables). Measured in the
    guest: an iptables call 34 -> 14.5 ms, ``/bin/true`` 19-24 -> 6-8 ms (docs/vm.md). What starts
    after ``ready`` (containers, runc, shims, each ssh session) is randomised again.
    """
    console = "console=ttyS0" if arch == "x86_64" else "console=ttyAMA0"
    parts = [manifest_cmdline.strip(), "root=/dev/vda rw quiet", console]
    if accel == "tcg":
        parts.append("norandmaps")
    return " ".join(p for p in parts if p)


def build_command(qemu: str, spec: MachineSpec) -> list[str]:
    """QEMU's argv for ``spec``."""
    argv = [qemu, "-name", spec.name, "-nodefaults", "-no-user-config", "-display", "none"]
    if spec.arch == "x86_64":
        argv += ["-machine", "q35,vmport=off,hpet=off"]
        if spec.firmware is not None:
            argv += ["-bios", str(spec.firmware)]
    else:
        argv += ["-machine", "virt,gic-version=max"]
    if spec.accel == "tcg":
        # several host threads for several vCPUs; a larger translation cache for dockerd
        argv += ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"]
    else:
        argv += ["-accel", spec.accel, "-cpu", "host" if spec.accel != "whpx" else "max"]
    argv += ["-smp", str(spec.cpus), "-m", str(spec.memory_mib)]
    argv += ["-kernel", str(spec.kernel), "-initrd", str(spec.initrd), "-append", spec.cmdline]
    for drive_id, disk in (("root", spec.root_disk), ("data", spec.data_disk)):
        argv += [
            "-drive",
            f"if=none,id={drive_id},file={_opt(disk)},format=qcow2,discard=unmap,cache=writeback",
            "-device",
            f"virtio-blk-pci,drive={drive_id}",
        ]
    forwards = f"hostfwd=tcp:127.0.0.1:{spec.ssh_port}-:22"
    if spec.api_port is not None:
        forwards += f",hostfwd=tcp:127.0.0.1:{spec.api_port}-:{GUEST_TLS_PORT}"
    argv += [
        "-netdev",
        f"user,id=net0,{forwards}",
        "-device",
        "virtio-net-pci,netdev=net0",
        "-device",
        "virtio-rng-pci",
    ]
    for share in spec.shares:
        if share.tag in spec.share_pipes:
            continue  # a virtio-serial port, below
        argv += [
            "-virtfs",
            f"local,path={_opt(share.host_path)},mount_tag={share.tag},security_model=none,"
            f"id={share.tag}",
        ]
    for name, path in spec.fw_cfg.items():
        argv += ["-fw_cfg", f"name={name},file={_opt(path)}"]
    if spec.ready_socket is not None:
        argv += [
            "-device",
            "virtio-serial-pci",
            "-chardev",
            f"socket,id=ready,path={_opt(spec.ready_socket)},server=on,wait=off",
            "-device",
            "virtserialport,chardev=ready,name=org.portside.ready",
        ]
    if spec.share_pipes:
        if spec.ready_socket is None:  # else its virtio-serial-pci (above) carries the ports too
            argv += ["-device", "virtio-serial-pci"]
        for tag, target in spec.share_pipes.items():
            argv += share_args(tag, target)
    argv += ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"]
    if spec.qmp_pipe is not None:
        argv += chardev_args(spec.qmp_pipe)
    elif spec.qmp_socket is not None:
        argv += ["-qmp", f"unix:{_opt(spec.qmp_socket)},server=on,wait=off"]
    argv += ["-no-reboot"]  # a reboot inside the VM ends QEMU: the engine reports it, never loops
    if spec.pidfile is not None:
        argv += ["-pidfile", str(spec.pidfile)]
    return argv


def _opt(value: Path | str) -> str:
    """A path inside a QEMU ``key=value,...`` option (a comma is written twice)."""
    text = str(value)
    return text.replace(",", ",,")
