"""System checks: can an engine run here, and what to do when it cannot.

One function, :func:`run_checks`, for the first-run wizard, ``portside doctor``, the diagnostics
bundle and the settings window. Each check is a short, blocking look-up (file stats, one
``qemu -accel help``, one ``/_ping`` per local socket with a short timeout); they run on a small
thread pool so the whole set stays under a second, and a check that raises or overruns becomes a
failed :class:`Check` saying so, so :func:`run_checks` never raises::

    os, arch ─────────────── platform, engine.vm.image.host_arch
    dockerd, rootless ────── engine.lifecycle.programs (same messages the engine start uses)
    virtualization, qemu ─── engine.vm.qemu (accelerator choice), engine.vm.image (VM image)
    disk ─────────────────── shutil.disk_usage of the engine folder (engine.lifecycle.paths)
    existing-engines ─────── /var/run/docker.sock, DOCKER_HOST, docker contexts (engine.probes)

``blocking`` means Portside's engine for this OS (the native ``dockerd`` on Linux, the VM on
macOS and Windows) cannot start, and no engine it could attach to instead (``DOCKER_HOST``)
answers: ``portside doctor`` exits 1 when any blocking check fails.
"""

from __future__ import annotations

import concurrent.futures
import os
import platform
import pwd
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.lifecycle.paths import EnginePaths
from engine.lifecycle.programs import (
    INSTALL_HINT,
    SYSTEM_DIRS,
    find_program,
    rootless_network_problem,
    rootless_requirements,
)
from engine.probes import DEFAULT_SOCKET as DEFAULT_SOCKET
from engine.probes import ExistingEngine as ExistingEngine
from engine.probes import existing_engines as existing_engines
from engine.probes import ping as ping
from engine.probes import socket_owner as socket_owner

#: Below this much free space in the engine folder an engine cannot pull even a small image.
DISK_BLOCKING_BYTES = 1 << 30
#: Below this, images and build caches fill the disk quickly: a warning, not a blocker.
DISK_LOW_BYTES = 10 << 30
#: The whole set of checks is given this long (each socket probe has its own shorter timeout).
DEADLINE_S = 0.9
SUBID_MIN = 65536
#: What packaging/vm/build.sh checks for before building the VM image, and their packages.
VM_BUILD_TOOLS = ("mmdebstrap", "depmod", "modprobe", "mkfs.ext4", "qemu-img", "cpio")
VM_BUILD_PACKAGES = "mmdebstrap kmod e2fsprogs qemu-utils cpio qemu-user-static"


@dataclass(frozen=True)
class Check:
    """One system check.

    Attributes:
        id: stable id ("os", "arch", "virtualization", "dockerd", "qemu", "disk", "rootless",
            "existing-engines").
        title: what was checked, for people ("Free disk space").
        ok: it passed.
        detail: what was found ("41 GiB free in /root/.local/share/portside").
        fix: what to do when not ok ("" when ok): an exact command or step.
        blocking: failing it blocks every engine choice (``portside doctor`` exits 1).
    """

    id: str
    title: str
    ok: bool
    detail: str
    fix: str = ""
    blocking: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- the checks ----------------------------------------------------------------------------------


def check_os(platform_name: str = sys.platform) -> Check:
    if platform_name.startswith("linux"):
        return Check("os", "Operating system", True, "Linux: Portside runs dockerd natively")
    if platform_name in ("darwin", "win32"):
        return Check("os", "Operating system", True,
                     f"{platform_name}: Portside runs its engine in a Linux VM (QEMU)")
    return Check("os", "Operating system", False, f"{platform_name} is not supported",
                 "Use Linux, macOS or Windows, or point DOCKER_HOST at an engine elsewhere.",
                 blocking=True)


def check_arch(machine: str | None = None, platform_name: str = sys.platform) -> Check:
    from engine.vm.image import host_arch

    raw = machine if machine is not None else platform.machine()
    try:
        arch = host_arch(raw)
    except ValueError as exc:
        linux = platform_name.startswith("linux")
        return Check("arch", "Processor architecture", False, str(exc),
                     "The native engine still works with your distribution's dockerd; "
                     "Portside's VM needs an x86_64 or arm64 machine." if linux else
                     "Use an x86_64 or arm64 machine, or point DOCKER_HOST at another engine.",
                     blocking=not linux)
    return Check("arch", "Processor architecture", True, f"{raw} (VM image: {arch})")


def check_dockerd(path: str | None = None, system_dirs: Sequence[str] = SYSTEM_DIRS,
                  platform_name: str = sys.platform) -> Check:
    found = find_program("dockerd", path=path, system_dirs=system_dirs)
    if found:
        return Check("dockerd", "Docker engine (dockerd)", True, f"found {found}")
    return Check("dockerd", "Docker engine (dockerd)", False, "no dockerd in Portside's bundle "
                 "folders, PATH or " + ", ".join(system_dirs) if system_dirs else
                 "no dockerd in Portside's bundle folders or PATH", INSTALL_HINT,
                 blocking=platform_name.startswith("linux"))


def check_virtualization(platform_name: str = sys.platform,
                         kvm_device: str = "/dev/kvm") -> Check:
    """Which accelerator the VM engine would try first (engine.vm.qemu's own choice)."""
    from engine.vm import qemu
    from engine.vm.image import host_arch

    title = "Virtualization (for Portside's VM)"
    on_host = qemu.host_accelerators(platform_name, kvm_device=kvm_device, can_open=_opens)
    try:
        binary = qemu.find_qemu(host_arch(), platform=platform_name)
        in_qemu = qemu.qemu_accelerators(binary)
        order = qemu.accel_candidates(in_qemu, on_host, os.environ.get(qemu.ACCEL_ENV) or None)
    except Exception as exc:  # reported as the check's result
        return Check("virtualization", title, False, f"cannot ask QEMU: {exc}",
                     qemu.install_hint(platform_name), blocking=False)
    names = " then ".join(qemu.describe_accel(a) for a in order)
    forced = os.environ.get(qemu.ACCEL_ENV)
    if forced:  # the user's own choice, not a lack of the host's
        accelerated = [a for a in on_host if a in in_qemu and a != "tcg"]
        also = (f" (this host also offers {', '.join(map(qemu.describe_accel, accelerated))})"
                if accelerated and forced == "tcg" else "")
        return Check("virtualization", title, True,
                     f"{qemu.ACCEL_ENV}={forced} chooses {names}{also}; unset it to let "
                     "Portside choose")
    if order[0] != "tcg":
        return Check("virtualization", title, True, f"the VM would try {names} (a boot that "
                     "exits or stalls on the accelerator falls back to the next one)")
    fix = ("Enable virtualization (VT-x/AMD-V) in the firmware and make /dev/kvm usable: "
           "`sudo modprobe kvm_intel` (or kvm_amd) and `sudo usermod -aG kvm $USER`"
           if platform_name.startswith("linux") else
           "Turn on the hypervisor feature of your OS (Hypervisor.framework / Windows "
           "Hypervisor Platform).")
    return Check("virtualization", title, False,
                 f"no hardware accelerator: the VM would run on {names}", fix,
                 blocking=False)


def _opens(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True


def check_qemu(platform_name: str = sys.platform) -> Check:
    """QEMU and the VM image: blocking only where the VM is the engine (macOS, Windows)."""
    from engine.vm import qemu
    from engine.vm.image import build_hint, find_image, host_arch

    title = "QEMU and the VM image"
    vm_is_engine = not platform_name.startswith("linux")
    try:
        arch = host_arch()
        binary = qemu.find_qemu(arch, platform=platform_name)
    except Exception as exc:  # a missing QEMU is the result
        return Check("qemu", title, False, str(exc), qemu.install_hint(platform_name),
                     blocking=vm_is_engine)
    image = find_image(arch)
    if image is None:
        fix = f"Build it once from a Portside checkout: `{build_hint(arch)}`"
        detail = f"{binary} found; the VM image ({arch}) is not built"
        if platform_name.startswith("linux"):
            lacking = [t for t in VM_BUILD_TOOLS if not find_program(t)]
            if lacking:
                detail += f", and the build needs {', '.join(lacking)}"
                fix = f"`sudo apt-get install {VM_BUILD_PACKAGES}`, then b" + fix[1:]
        return Check("qemu", title, False, detail, fix, blocking=vm_is_engine)
    return Check("qemu", title, True, f"{binary}; VM image {image.dir}")


def check_disk(root: Path | None = None) -> Check:
    root = root if root is not None else EnginePaths.default().root
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    gib = free / (1 << 30)
    detail = f"{gib:.1f} GiB free in {root}"
    if free >= DISK_LOW_BYTES:
        return Check("disk", "Free disk space", True, detail)
    return Check("disk", "Free disk space", False, detail,
                 "Free some space on that file system (`docker system prune` removes unused "
                 "images and caches), or move the engine with PORTSIDE_HOME=/a/bigger/folder",
                 blocking=free < DISK_BLOCKING_BYTES)


def check_rootless(uid: int | None = None, user: str | None = None,
                   env: Mapping[str, str] | None = None, subuid: str = "/etc/subuid",
                   path: str | None = None, system_dirs: Sequence[str] = SYSTEM_DIRS) -> Check:
    """Rootless dockerd's prerequisites for a non-root user on Linux (same messages as start)."""
    title = "Rootless engine prerequisites"
    uid = os.geteuid() if uid is None else uid
    if uid == 0:
        return Check("rootless", title, True, "running as root: Portside runs dockerd directly")
    env = os.environ if env is None else env
    user = user or pwd.getpwuid(uid).pw_name
    _, missing = rootless_requirements(path=path, system_dirs=system_dirs)
    problems = list(missing)
    if not subid_range(subuid, user, uid):
        ids = f"{free_subid_start(subuid)}-{free_subid_start(subuid) + SUBID_MIN - 1}"
        problems.append(f"no range of at least {SUBID_MIN} ids for {user} in {subuid}: `sudo "
                        f"usermod --add-subuids {ids} --add-subgids {ids} {user}`")
    net = rootless_network_problem(env)
    if net:
        problems.append(net.replace("\n", " "))
    if not problems:
        return Check("rootless", title, True, f"rootlesskit, slirp4netns, newuidmap, {subuid} "
                     "and /dev/net/tun are ready")
    return Check("rootless", title, False, f"{len(problems)} missing for {user}",
                 "\n".join(problems), blocking=True)


def subid_range(subuid: str, user: str, uid: int) -> bool:
    """``/etc/subuid`` gives ``user`` (by name or uid) at least :data:`SUBID_MIN` ids."""
    try:
        lines = Path(subuid).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    for line in lines:
        parts = line.strip().split(":")
        if (len(parts) == 3 and parts[0] in (user, str(uid)) and parts[2].isdigit()
                and int(parts[2]) >= SUBID_MIN):
            return True
    return False


def free_subid_start(subuid: str) -> int:
    """The first id after every range in ``subuid`` (100000 when it has none), for the fix."""
    end = 100000
    try:
        lines = Path(subuid).read_text(encoding="utf-8").splitlines()
    except OSError:
        return end
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            end = max(end, int(parts[1]) + int(parts[2]))
    return end


def check_existing(engines: Sequence[ExistingEngine]) -> Check:
    title = "Engines already on this machine"
    if not engines:
        return Check("existing-engines", title, True,
                     "none: no /var/run/docker.sock, DOCKER_HOST or docker contexts")
    lines = [f"{e.source} {e.name}: {e.endpoint or '-'} ({e.detail})"
             + (" [docker CLI uses it]" if e.current else "") for e in engines]
    return Check("existing-engines", title, True, "\n".join(lines))


# -- running them ----------------------------------------------------------------------------------


def run_checks(env: Mapping[str, str] | None = None) -> list[Check]:
    """Every check, in a stable order; sync, no Qt, under a second, never raises."""
    env = os.environ if env is None else env
    jobs: list[tuple[str, str, Callable[[], Any]]] = [
        ("os", "Operating system", check_os),
        ("arch", "Processor architecture", check_arch),
        ("dockerd", "Docker engine (dockerd)", lambda: check_dockerd(path=env.get("PATH", ""))),
        ("virtualization", "Virtualization (for Portside's VM)", check_virtualization),
        ("qemu", "QEMU and the VM image", check_qemu),
        ("disk", "Free disk space", check_disk),
        ("rootless", "Rootless engine prerequisites", lambda: _rootless(env)),
        ("existing-engines", "Engines already on this machine",
         lambda: existing_engines(env)),
    ]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs))
    futures = [pool.submit(job) for _, _, job in jobs]
    concurrent.futures.wait(futures, timeout=DEADLINE_S)
    pool.shutdown(wait=False, cancel_futures=True)
    results: list[Check] = []
    engines: list[ExistingEngine] = []
    for (cid, title, _), future in zip(jobs, futures, strict=True):
        # a check that could not run is not a pass: it blocks if its failure would
        if not future.done():
            results.append(Check(cid, title, False, f"did not finish within {DEADLINE_S} s",
                                 "Run `portside doctor` again; if it stays slow, report it.",
                                 blocking=_can_block(cid)))
            continue
        try:
            value = future.result()
        except Exception as exc:  # never raises: the failure is the result
            results.append(Check(cid, title, False, f"the check failed: {exc!r}",
                                 "Report this with `portside diagnostics --out bundle.zip`.",
                                 blocking=_can_block(cid)))
            continue
        if cid == "existing-engines":
            engines = list(value)
            value = check_existing(engines)
        results.append(value)
    return _attachable(results, engines, env)


def _can_block(cid: str, platform_name: str = sys.platform) -> bool:
    """Whether a failure of check ``cid`` can block Portside's engine on this OS."""
    own = ("dockerd", "rootless") if platform_name.startswith("linux") else ("qemu",)
    return cid in ("os", "disk", *own)


def _rootless(env: Mapping[str, str]) -> Check:
    if not sys.platform.startswith("linux"):
        return Check("rootless", "Rootless engine prerequisites", True, "not needed on this OS")
    return check_rootless(env=env, path=env.get("PATH", ""))


def _attachable(results: list[Check], engines: Sequence[ExistingEngine],
                env: Mapping[str, str]) -> list[Check]:
    """With ``DOCKER_HOST`` answering, Portside attaches to it: its own engine is optional."""
    if not any(e.source == "DOCKER_HOST" and e.reachable for e in engines):
        return results
    note = " (not blocking: DOCKER_HOST answers and Portside attaches to it)"
    return [Check(c.id, c.title, c.ok, c.detail + note, c.fix, False)
            if c.blocking and not c.ok and c.id != "os" else c for c in results]


def blocking_failures(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.blocking and not c.ok]
