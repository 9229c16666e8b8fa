"""VM engine: boot to a working engine, ``docker run`` through the VM vs native, sizes, idle CPU.

Usage (as root, like the tests; the image must be built: ``bash packaging/vm/build.sh``)::

    .venv/bin/python benchmarks/vm_engine.py [--boots 3] [--runs 10] [--idle 60] [--write]

What it measures, in one run on one machine:

1. **Boot**: ``VMEngine.start()`` from QEMU's spawn to the first ``/_ping`` that answers through
   the forwarded socket, under the accelerator ``PORTSIDE_VM_ACCEL`` names (default tcg). The
   phases come from the guest's readiness lines (``init/sshd/ready <uptime>``) and the host's
   clock when each line arrived: firmware = host time of "init" − guest uptime at "init" (QEMU
   start, firmware, loading kernel and initramfs); kernel = guest uptime at "init" (kernel +
   initramfs up to portside-init); init = "sshd" − "init"; engine = "ready" − "sshd" (dockerd up);
   forward = our ``/_ping`` through ssh after "ready". The first boot (data disk formatted) is
   reported apart from the later ones.
2. **docker run**: ``docker run --rm <busybox image> echo hi`` through the VM's forwarded socket
   vs a private native ``NativeEngine``, alternating, same image (imported offline from
   busybox-static), wall time of the whole CLI process; medians and their ratio.
3. **Sizes**: image files, and what the VM's disks take after the run (allocated bytes).
4. **Idle CPU**: the QEMU process' CPU time (all its threads: vCPUs, I/O) and the ssh forward's
   over ``--idle`` seconds with no container running, as a share of one core.

``--write`` replaces the "VM engine" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import report_section
from engine.lifecycle import EnginePaths, NativeEngine
from engine.vm import disk
from engine.vm.engine import VMEngine
from engine.vm.image import find_image, host_arch
from engine.vm.layout import Resources, VMPaths
from tests.support.engine_fixtures import DOCKER_CLI, import_image

SECTION = "VM engine"
IMAGE = "portside-bench/busybox:latest"
PHASES = ("firmware", "kernel", "init", "engine", "forward", "total")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def docker_run(endpoint: str, config: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=endpoint, DOCKER_CONFIG=str(config))
    started = time.perf_counter()
    done = subprocess.run(
        [DOCKER_CLI, "run", "--rm", IMAGE, "echo", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    took = time.perf_counter() - started
    if done.returncode != 0 or done.stdout != "hi\n":
        raise RuntimeError(f"docker run failed: {done.stderr}")
    return took


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


async def run(boots: int, runs: int, idle: float) -> dict[str, object]:
    image = find_image(host_arch())
    if image is None:
        raise SystemExit("no VM image: build it with `bash packaging/vm/build.sh`")
    work = Path(tempfile.mkdtemp(prefix="pvb-", dir="/tmp"))
    config = work / "docker-config"
    config.mkdir()
    result: dict[str, object] = {"image": image}
    vm = VMEngine(VMPaths.default(work), start_timeout=300)
    native = NativeEngine(EnginePaths.at(work / "native"), iptables=False, start_timeout=60)
    try:
        boot_rows: list[dict[str, float]] = []
        for index in range(boots):
            await vm.start()
            assert vm.boot_times is not None
            boot_rows.append(vm.boot_times.phases())
            print(f"boot {index + 1}: {vm.boot_times.summary()}", flush=True)
            if index < boots - 1:
                await vm.stop()
        result["boots"] = boot_rows
        result["accel"] = vm.accel
        result["resources"] = vm.resources

        await native.start()
        await import_image(vm.endpoint, IMAGE)
        await import_image(native.endpoint, IMAGE)
        # warm both (the first container start pays for caches)
        await asyncio.to_thread(docker_run, vm.endpoint, config)
        await asyncio.to_thread(docker_run, native.endpoint, config)
        times: dict[str, list[float]] = {"vm": [], "native": []}
        for index in range(runs):
            order = ("vm", "native") if index % 2 == 0 else ("native", "vm")
            for side in order:
                endpoint = vm.endpoint if side == "vm" else native.endpoint
                times[side].append(await asyncio.to_thread(docker_run, endpoint, config))
        result["runs"] = times
        print(
            f"docker run: vm {statistics.median(times['vm']):.3f} s, "
            f"native {statistics.median(times['native']):.3f} s",
            flush=True,
        )
        await native.stop()

        assert vm.qemu_pid is not None and vm.forward is not None and vm.forward.pid is not None
        await asyncio.sleep(5)  # let the last container's clean-up settle
        qemu0, ssh0 = cpu_seconds(vm.qemu_pid), cpu_seconds(vm.forward.pid)
        await asyncio.sleep(idle)
        result["idle"] = (
            (cpu_seconds(vm.qemu_pid) - qemu0) / idle,
            (cpu_seconds(vm.forward.pid) - ssh0) / idle,
        )
        print(f"idle CPU: {result['idle']}", flush=True)
        await vm.stop()
        result["disks"] = {
            "root.qcow2 (overlay)": disk.allocated_bytes(vm.paths.root_disk),
            "data.qcow2": disk.allocated_bytes(vm.paths.data_disk),
        }
    finally:
        await vm.stop()
        await native.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def render(r: dict[str, object], command: str) -> str:
    image = r["image"]
    boots: list[dict[str, float]] = r["boots"]  # type: ignore[assignment]
    res: Resources = r["resources"]  # type: ignore[assignment]
    kernel = image.manifest.get("kernel_version", "?")  # type: ignore[attr-defined]
    rows = [
        f"Command: `{command}` (accelerator: {r['accel']}; VM: {res.cpus} vCPU, "
        f"{res.memory_mib} MiB; image {image.version}, kernel {kernel})",  # type: ignore[attr-defined]
        "",
        "**Boot: QEMU start to `/_ping` through the forwarded socket** (seconds)",
        "",
        "| boot | " + " | ".join(PHASES) + " |",
        "|---|" + "---:|" * len(PHASES),
    ]
    for index, phases in enumerate(boots):
        label = "first (formats the data disk)" if index == 0 else f"#{index + 1}"
        rows.append(f"| {label} | " + " | ".join(f"{phases.get(p, 0):.2f}" for p in PHASES) + " |")
    later = boots[1:] or boots
    rows.append(
        "| median of later boots | "
        + " | ".join(f"{statistics.median(b.get(p, 0) for b in later):.2f}" for p in PHASES)
        + " |"
    )
    times: dict[str, list[float]] = r["runs"]  # type: ignore[assignment]
    vm_med, native_med = statistics.median(times["vm"]), statistics.median(times["native"])
    rows += [
        "",
        f"**`docker run --rm busybox echo hi`**, {len(times['vm'])} alternating runs each (s)",
        "",
        "| engine | median | min | max | median ÷ native |",
        "|---|---:|---:|---:|---:|",
        f"| VM (ssh-forwarded socket) | {vm_med:.3f} | {min(times['vm']):.3f} | "
        f"{max(times['vm']):.3f} | {vm_med / native_med:.2f}x |",
        f"| native dockerd | {native_med:.3f} | {min(times['native']):.3f} | "
        f"{max(times['native']):.3f} | 1.00x |",
        "",
        "**Sizes**",
        "",
        "| file | size | on disk |",
        "|---|---:|---:|",
    ]
    for name in ("vmlinuz", "initrd.img", "rootfs.qcow2"):
        path = image.dir / name  # type: ignore[attr-defined]
        rows.append(
            f"| image {name} | {mib(path.stat().st_size)} | {mib(disk.allocated_bytes(path))} |"
        )
    for name, size in r["disks"].items():  # type: ignore[attr-defined]
        rows.append(f"| VM {name} after the run | | {mib(size)} |")
    idle: tuple[float, float] = r["idle"]  # type: ignore[assignment]
    qemu_idle, ssh_idle = idle
    ready = statistics.median(b.get("total", 0) for b in later)
    rows += goals(ready, qemu_idle)
    rows += [
        "",
        f"**Idle CPU** (no container, nothing connected but the forward): QEMU "
        f"{qemu_idle * 100:.2f} % of a core, ssh forward {ssh_idle * 100:.2f} %.",
        "",
        f"1-minute load average at the end: {os.getloadavg()[0]:.1f} (shared 2-core machine; "
        "TCG emulates every guest instruction, so the boot figures move with the load).",
    ]
    return "\n".join(rows) + "\n"


def goals(ready: float, qemu_idle: float) -> list[str]:
    """The issue's goals next to what this run measured, and where the boot time goes."""
    return [
        "",
        "**Goals.** Ready under 10 s under TCG here: "
        + ("met" if ready < 10 else f"not met ({ready:.1f} s median)")
        + "; idle VM under 1 % of a core: "
        + ("met" if qemu_idle < 0.01 else f"not met ({qemu_idle * 100:.2f} %)")
        + "; under 3 s with an accelerator: not measurable here (a nested KVM guest hangs on this "
        "machine kind), the design is built for it: direct kernel boot (no boot loader, no "
        "firmware menu: the firmware column is QEMU's own start plus loading the kernel), a "
        "busybox initramfs that loads only the modules it needs, a shell init that starts "
        "dockerd first and sshd, network and shares beside it, readiness pushed over "
        "virtio-serial (no polling over ssh), and an ssh forward that connects the moment sshd "
        "says it listens.",
        "",
        "Where the time goes under TCG: the **engine** column is dockerd and containerd "
        "starting inside the VM (dockerd's Go start, then 69 `iptables` processes on the first "
        "boot and 168 on later ones); **kernel** is the kernel, the initramfs and init's mounts "
        "up to the `init` line, **init** the data disk, the daemons' spawn, network, shares and "
        "sshd. Every instruction is emulated; what made process starts cheap is in the next "
        "section. `docker run` through the VM pays the same emulation for runc, the overlay "
        "mount and the container's network set-up, plus one ssh hop per API connection.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (the native engine creates its own bridge)")
    os.environ.setdefault("PORTSIDE_VM_ACCEL", "tcg")
    result = asyncio.run(run(args.boots, args.runs, args.idle))
    command = (
        f".venv/bin/python benchmarks/vm_engine.py --boots {args.boots} --runs {args.runs} "
        f"--idle {args.idle:g}"
    )
    body = render(result, command + (" --write" if args.write else ""))
    report_section(SECTION, body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
