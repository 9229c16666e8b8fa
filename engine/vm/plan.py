"""What one VM start needs, checked before anything is written, and QEMU's spec built from it.

    host arch ─► image.find_image ─► qemu.find_qemu / disk.find_qemu_img / ssh.find_ssh
      ─► vm.json + PORTSIDE_VM_ACCEL ─► qemu.accel_candidates ─► layout.resolve_resources
      ─► share.default_shares ─► BootPlan ─► machine_spec(plan, accel, paths, ssh port)

A missing image, QEMU, qemu-img or ssh or a bad setting is a clear :class:`LifecycleError` here,
before the VM folder is touched. The API mode (choice.api_mode: ``ssh``, or ``tls`` on Windows)
decides QEMU's channels: in ``tls`` the spec forwards dockerd's TLS port and hands the guest the
server's certificate through fw_cfg, serves the shares with Portside's own 9P server on pipe
chardevs (no ``-virtfs`` in QEMU for Windows), and uses no unix socket. Also here: the guest's
config file (fw_cfg ``opt/portside/config``) and what identifies the root overlay's base.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import EngineNotInstalled, LifecycleError
from engine.vm import disk, qemu, share
from engine.vm import image as vm_image
from engine.vm.choice import API_ENV, api_mode
from engine.vm.layout import (
    ACCELS,
    API_MODES,
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
#: fw_cfg folder of the ``tls`` mode's CA and server certificate and key (read by dockerd).
FW_TLS = "opt/portside/tls"
#: the server side's files in the VM's tls folder (engine/vm/tls.py), in dockerd's flag order
TLS_SERVER_FILES = ("ca.pem", "server-cert.pem", "server-key.pem")


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
    #: how the host reaches the engine: ``ssh`` or ``tls`` (engine/vm/choice.py)
    api: str = "ssh"
    #: the OS the plan is for (``sys.platform``): where QMP's pipe lives in the ``tls`` mode
    platform: str = sys.platform


def make_plan(
    arch: str | None,
    settings: VMSettings,
    accels: list[str] | None = None,
    platform: str = sys.platform,
) -> BootPlan:
    """Check and gather everything a start needs; raises a :class:`LifecycleError` with the fix."""
    wanted_api = os.environ.get(API_ENV)
    if wanted_api and wanted_api not in API_MODES:
        raise LifecycleError(
            f"{API_ENV}={wanted_api!r} is not an API mode ({', '.join(API_MODES)}). Unset it to "
            "use this system's default."
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
        api=api_mode(settings.api, platform),
        platform=platform,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for the guest's sshd)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def machine_spec(
    plan: BootPlan, accel: str, paths: VMPaths, ssh_port: int, api_port: int | None = None
) -> qemu.MachineSpec:
    """QEMU's spec for this plan with ``accel`` (``api_port``: the ``tls`` mode's host port)."""
    image, res = plan.image, plan.resources
    fw_cfg = {
        FW_AUTHORIZED_KEYS: paths.client_key.with_name(paths.client_key.name + ".pub"),
        FW_HOST_KEY: paths.host_key,
        FW_CONFIG: paths.guest_config,
    }
    tls = plan.api == "tls"
    if tls:
        fw_cfg.update(tls_fw_cfg(paths))
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
        qmp_socket=None if tls else paths.qmp_socket,
        ready_socket=None if tls else paths.ready_socket,
        shares=plan.shares,
        fw_cfg=fw_cfg,
        pidfile=paths.qemu_pidfile,
        firmware=qemu.find_qboot(plan.qemu) if plan.arch == "x86_64" else None,
        api_port=api_port if tls else None,
        qmp_pipe=qmp_pipe_name(paths, plan.platform) if tls else None,
        share_pipes={
            s.tag: share_pipe_name(paths, s.tag, plan.platform) for s in plan.shares
        } if tls else {},
    )  # fmt: skip


def tls_fw_cfg(paths: VMPaths) -> dict[str, Path]:
    """fw_cfg name -> host file of the ``tls`` mode's server side (engine/vm/tls.py makes them)."""
    return {f"{FW_TLS}/{name}": paths.tls_dir / name for name in TLS_SERVER_FILES}


def tls_dockerd_args() -> str:
    """dockerd's flags in the ``tls`` mode: its TLS port beside the guest's own socket, with the
    server's files read straight from fw_cfg (only root reads them; nothing lands on a disk)."""
    where = f"/sys/firmware/qemu_fw_cfg/by_name/{FW_TLS}"
    ca, cert, key = (f"{where}/{name}/raw" for name in TLS_SERVER_FILES)
    return (
        f"--host tcp://0.0.0.0:{qemu.GUEST_TLS_PORT} --tlsverify "
        f"--tlscacert {ca} --tlscert {cert} --tlskey {key}"
    )


def qmp_pipe_name(paths: VMPaths, platform: str = sys.platform) -> str:
    """QMP's pipe: a named pipe of this VM folder on Windows, FIFOs in the run folder elsewhere."""
    from engine.vm.qmp_pipe import windows_pipe_name

    return windows_pipe_name(paths.root) if platform == "win32" else str(paths.qmp_pipe)


def share_pipe_name(paths: VMPaths, tag: str, platform: str = sys.platform) -> str:
    """A share's pipe in the ``tls`` mode (served by engine/vm/ninep, since QEMU for Windows has
    no ``-virtfs``): a named pipe of this VM folder and tag on Windows, FIFOs in the run folder
    elsewhere."""
    from engine.vm.pipes import windows_pipe_name

    if platform == "win32":
        return windows_pipe_name(paths.root, f"9p-{tag}")
    return str(paths.run / f"share-{tag}.pipe")


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
