"""What one VM start needs, checked before anything is written, and QEMU's spec built from it.

    host arch ─► image.find_image ─► qemu.find_qemu / disk.find_qemu_img / ssh.find_ssh
      ─► vm.json + PORTSIDE_VM_ACCEL ─► qemu.accel_candidates ─► layout.resolve_resources
      ─► share.default_shares ─► BootPlan ─► machine_spec(plan, accel, paths, ssh port)

A missing image, QEMU, qemu-img or ssh, a bad setting, or an OS whose API transport Portside
cannot offer yet (Windows) is a clear :class:`LifecycleError` here, before the VM folder is
touched. Also here: the guest's config file (fw_cfg ``opt/portside/config``) and what identifies
the root overlay's base.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from engine.errors import EngineNotInstalled, LifecycleError
from engine.vm import disk, qemu, share
from engine.vm import image as vm_image
from engine.vm.choice import api_transport
from engine.vm.layout import (
    ACCELS,
    Resources,
    VMPaths,
    VMSettings,
    host_memory_bytes,
    resolve_resources,
)
from engine.vm.ssh import find_ssh

#: fw_cfg names the guest reads (image contract).
FW_AUTHORIZED_KEYS = "opt/portside/authorized_keys"
FW_HOST_KEY = "opt/portside/ssh_host_ed25519_key"
FW_CONFIG = "opt/portside/config"


@dataclass(frozen=True)
class BootPlan:
    """The image, programs, accelerators to try, resources and shares of one start."""

    arch: str
    image: vm_image.VMImage
    qemu: str
    qemu_img: str
    ssh: str
    keygen: str
    accels: list[str]
    resources: Resources
    shares: list[share.Share]
    notes: list[str] = field(default_factory=list)


def make_plan(arch: str | None, settings: VMSettings, accels: list[str] | None = None) -> BootPlan:
    """Check and gather everything a start needs; raises a :class:`LifecycleError` with the fix."""
    if api_transport() != "unix":
        raise LifecycleError(
            "The VM engine cannot offer its API on Windows yet: it needs a named-pipe relay "
            "for the ssh forward. Use Docker Desktop's WSL engine with DOCKER_HOST meanwhile."
        )
    try:
        host = vm_image.host_arch()
    except ValueError as exc:
        raise LifecycleError(str(exc)) from exc
    arch = arch or host
    image = vm_image.find_image(arch)
    if image is None:
        raise EngineNotInstalled(
            f"The Portside VM image ({arch}, version {vm_image.IMAGE_VERSION}) is not built "
            f"yet. Build it with: {vm_image.build_hint(arch)}"
        )
    program = qemu.find_qemu(arch)
    qemu_img = disk.find_qemu_img()
    ssh, keygen = find_ssh()
    forced = os.environ.get(qemu.ACCEL_ENV) or settings.accel
    if forced and forced not in ACCELS:
        raise LifecycleError(
            f"{qemu.ACCEL_ENV}={forced!r} is not an accelerator ({', '.join(ACCELS)})."
        )
    same_arch = arch == host
    if not accels:
        accels = qemu.accel_candidates(
            qemu.qemu_accelerators(program),
            qemu.host_accelerators() if same_arch else [],
            forced,
            same_arch=same_arch,
        )
    resources = resolve_resources(settings, os.cpu_count(), host_memory_bytes())
    if not same_arch and resources.cpus > 1:  # TCG emulating another arch: one vCPU is enough
        resources = Resources(1, resources.memory_mib, resources.disk_gib, resources.notes,
                              resources.swap_mib)
    if settings.shares is not None:
        shares, share_note = share.configured_shares(settings.shares)
    else:
        shares, share_note = share.default_shares()
    return BootPlan(
        arch=arch,
        image=image,
        qemu=program,
        qemu_img=qemu_img,
        ssh=ssh,
        keygen=keygen,
        accels=accels,
        resources=resources,
        shares=shares,
        notes=[*resources.notes, *([share_note] if share_note else [])],
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for the guest's sshd)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def machine_spec(plan: BootPlan, accel: str, paths: VMPaths, ssh_port: int) -> qemu.MachineSpec:
    """QEMU's spec for this plan with ``accel``."""
    image, res = plan.image, plan.resources
    return qemu.MachineSpec(
        arch=plan.arch,
        accel=accel,
        cpus=res.cpus,
        memory_mib=res.memory_mib,
        kernel=image.kernel,
        initrd=image.initrd,
        cmdline=qemu.kernel_cmdline(plan.arch, image.kernel_cmdline, accel),
        root_disk=paths.root_disk,
        data_disk=paths.data_disk,
        ssh_port=ssh_port,
        qmp_socket=paths.qmp_socket,
        ready_socket=paths.ready_socket,
        shares=plan.shares,
        fw_cfg={
            FW_AUTHORIZED_KEYS: paths.client_key.with_name(paths.client_key.name + ".pub"),
            FW_HOST_KEY: paths.host_key,
            FW_CONFIG: paths.guest_config,
        },
        pidfile=paths.qemu_pidfile,
        firmware=qemu.find_qboot(plan.qemu) if plan.arch == "x86_64" else None,
    )


def guest_config(
    shares: list[share.Share], dockerd_args: str = "", env: dict[str, str] | None = None,
    swap_mib: int = 0,
) -> str:
    """The shell-sourced ``opt/portside/config`` (values single-quoted; share paths are vetted).

    ``env`` (the engine's proxies, engine/lifecycle/proxies.py) is exported, so the dockerd the
    guest's init starts afterwards inherits it; its values have no quotes (proxies.check_url).
    """
    values = {
        "PORTSIDE_SHARES": share.shares_setting(shares),
        "PORTSIDE_DOCKERD_ARGS": dockerd_args.replace("'", ""),
        "PORTSIDE_HOSTNAME": "portside-vm",
        "PORTSIDE_SWAP_MIB": str(int(swap_mib)),
    }
    exported = {k: v.replace("'", "") for k, v in (env or {}).items()}
    text = "".join(f"{key}='{value}'\n" for key, value in {**values, **exported}.items())
    if exported:
        text += f"export {' '.join(exported)}\n"
    return text


def base_id(image: vm_image.VMImage) -> str:
    """What the root overlay was made over: the image version and its rootfs' checksum (a
    rebuilt image of the same version is a different base; an overlay over it would be garbage)."""
    files = image.manifest.get("files")
    digest = files.get("rootfs.qcow2") if isinstance(files, dict) else None
    if not isinstance(digest, str):
        info = image.rootfs.stat()
        digest = f"{info.st_size}-{int(info.st_mtime)}"
    return f"{image.version} {digest}"
