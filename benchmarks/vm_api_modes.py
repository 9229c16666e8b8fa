"""The VM's two API modes side by side: ``ssh`` (Linux, macOS) vs ``tls`` (Windows; any OS).

Usage (as root, like the tests; the image must be built: ``bash packaging/vm/build.sh``)::

    .venv/bin/python benchmarks/vm_api_modes.py [--boots 3] [--runs 10] [--idle 60] [--write]

Two VMs of the same image in two folders, one per mode, in one run on one machine:

1. **Boot**: ``VMEngine.start()`` to the first working ``/_ping``, the modes alternating
   (ssh, tls, tls, ssh, ...), each boot after the first of its folder (the first formats the data
   disk). In ``ssh`` mode readiness comes from the virtio-serial port and ``/_ping`` goes through
   the ssh forward; in ``tls`` from the serial console and straight to dockerd's TLS port.
2. **docker run**: ``docker run --rm <busybox> echo hi`` through each (both VMs up, the other
   one idle), alternating, wall time of the whole CLI process; medians and their ratio.
3. **Idle CPU** of each VM over the same ``--idle`` seconds, both up with no container: QEMU's
   CPU time, plus the ssh forward's in ``ssh`` mode (``tls`` has no host-side helper process).

``--write`` replaces the "VM API modes" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from benchmarks.vm_engine import IMAGE, cpu_seconds
from engine.vm.engine import VMEngine
from engine.vm.image import find_image, host_arch
from engine.vm.layout import VMPaths
from tests.support.engine_fixtures import DOCKER_CLI, import_image

SECTION = "VM API modes"
MODES = ("ssh", "tls")


def docker_run(vm: VMEngine, config: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST=vm.endpoint, DOCKER_CONFIG=str(config))
    if vm.api == "tls":
        env.update(DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(vm.paths.tls_dir))
    started = time.perf_counter()
    done = subprocess.run([DOCKER_CLI, "run", "--rm", IMAGE, "echo", "hi"],
                          capture_output=True, text=True, env=env, timeout=120)
    took = time.perf_counter() - started
    if done.returncode != 0 or done.stdout != "hi\n":
        raise RuntimeError(f"docker run ({vm.api}) failed: {done.stderr}")
    return took


def make_vm(work: Path, mode: str) -> VMEngine:
    paths = VMPaths.default(work / mode)
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text(json.dumps({"api": mode, "memory_mib": 1024}))
    return VMEngine(paths, start_timeout=300)


def idle_cpu(vm: VMEngine) -> tuple[int, ...]:
    pids = [vm.qemu_pid] + ([vm.forward.pid] if vm.forward is not None else [])
    return tuple(p for p in pids if p is not None)


async def run(boots: int, runs: int, idle: float) -> dict[str, object]:
    if find_image(host_arch()) is None:
        raise SystemExit("no VM image: build it with `bash packaging/vm/build.sh`")
    work = Path(tempfile.mkdtemp(prefix="pam-", dir="/tmp"))
    config = work / "docker-config"
    config.mkdir()
    vms = {mode: make_vm(work, mode) for mode in MODES}
    result: dict[str, object] = {}
    try:
        for vm in vms.values():  # the first boot of each formats its data disk: not counted
            await vm.start()
            await vm.stop()
        ready: dict[str, list[float]] = {mode: [] for mode in MODES}
        for index in range(boots):
            order = MODES if index % 2 == 0 else MODES[::-1]
            for mode in order:
                vm = vms[mode]
                await vm.start()
                assert vm.boot_times is not None and vm.boot_times.pinged is not None
                ready[mode].append(vm.boot_times.pinged)
                print(f"boot {mode}: {vm.boot_times.summary()}", flush=True)
                if index < boots - 1 or mode != order[-1]:
                    await vm.stop()
        for vm in vms.values():
            if vm.qemu_pid is None:
                await vm.start()
        result["ready"] = ready
        for vm in vms.values():
            await import_image(vm.client_endpoint(), IMAGE)
            await asyncio.to_thread(docker_run, vm, config)  # warm: the first start pays caches
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for index in range(runs):
            for mode in MODES if index % 2 == 0 else MODES[::-1]:
                times[mode].append(await asyncio.to_thread(docker_run, vms[mode], config))
        result["runs"] = times
        await asyncio.sleep(5)  # let the last containers' clean-up settle
        pids = {mode: idle_cpu(vm) for mode, vm in vms.items()}
        before = {mode: [cpu_seconds(p) for p in ps] for mode, ps in pids.items()}
        await asyncio.sleep(idle)
        result["idle"] = {
            mode: [(cpu_seconds(p) - b) / idle for p, b in zip(pids[mode], before[mode],
                                                                strict=True)]
            for mode in MODES
        }
        print(f"idle: {result['idle']}", flush=True)
    finally:
        for vm in vms.values():
            await vm.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def render(r: dict[str, object], command: str) -> str:
    ready = r["ready"]
    runs = r["runs"]
    idle = r["idle"]
    assert isinstance(ready, dict) and isinstance(runs, dict) and isinstance(idle, dict)
    med = {m: statistics.median(runs[m]) for m in MODES}
    boot = {m: statistics.median(ready[m]) for m in MODES}
    lines = [
        f"Command: `{command}` (as root; TCG, 2 vCPUs, 1 GiB each; both modes in one run).",
        "",
        "| | ssh (unix socket via ssh -L) | tls (127.0.0.1, mutual TLS) | tls / ssh |",
        "|---|---|---|---|",
        f"| boot to a working /_ping, median of {len(ready['ssh'])} | {boot['ssh']:.2f} s "
        f"({', '.join(f'{x:.1f}' for x in ready['ssh'])}) | {boot['tls']:.2f} s "
        f"({', '.join(f'{x:.1f}' for x in ready['tls'])}) | {boot['tls'] / boot['ssh']:.2f} |",
        f"| `docker run --rm busybox echo hi`, median of {len(runs['ssh'])} | {med['ssh']:.3f} s "
        f"| {med['tls']:.3f} s | {med['tls'] / med['ssh']:.2f} |",
        f"| idle CPU, QEMU | {idle['ssh'][0] * 100:.2f} % | {idle['tls'][0] * 100:.2f} % | "
        f"{idle['tls'][0] / idle['ssh'][0]:.2f} |",
        f"| idle CPU, ssh forward | {idle['ssh'][1] * 100:.3f} % | none | |",
        "",
        "Boots alternate between the modes after each folder's first (disk-formatting) boot; the "
        "`docker run`s alternate too, with both VMs up. Idle is one window with both VMs up and "
        "no container, as a share of one core.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root, like the VM tests")
    os.environ.setdefault("PORTSIDE_VM_ACCEL", "tcg")
    result = asyncio.run(run(args.boots, args.runs, args.idle))
    command = (f".venv/bin/python benchmarks/vm_api_modes.py --boots {args.boots} "
               f"--runs {args.runs} --idle {args.idle:g}")
    report_section(SECTION, render(result, command + (" --write" if args.write else "")),
                   args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
