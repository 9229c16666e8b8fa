"""Share throughput: Portside's 9P server on a pipe chardev (``tls`` mode) vs QEMU's ``-virtfs``.

Usage (as root, like the tests; the image must be built: ``bash packaging/vm/build.sh``)::

    .venv/bin/python benchmarks/vm_share_throughput.py [--mib 100] [--runs 3] [--write]

One VM per mode, each in its own temporary engine folder with one temporary shared folder
(vm.json ``shares``), booted one after the other (never both at once: 2 cores here):

- ``tls``: the share is a virtio-serial port served by engine/vm/ninep in a thread of this
  process, mounted ``trans=fd`` (through the guest's two relay cats) with msize 512 KiB;
- ``ssh``: QEMU's ``-virtfs local`` (its own 9p server in QEMU's threads), ``trans=virtio`` with
  msize 256 KiB.

In the VM: ``dd if=/dev/zero of=<share>/f bs=1M count=N conv=fsync`` (write), then ``dd
if=<share>/f of=/dev/null bs=1M`` (read; both mounts are ``cache=none``, so every byte crosses
the share), ``--runs`` times each; the medians are reported as MiB/s (dd's own timing).
``--write`` replaces the "VM share throughput" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import report_section
from engine.vm.engine import VMEngine
from engine.vm.layout import VMPaths

SECTION = "VM share throughput (`benchmarks/vm_share_throughput.py`)"
_DD = re.compile(r"(\d+) bytes .* copied, ([\d.]+) s")


async def in_vm(vm: VMEngine, script: str) -> str:
    argv = vm.ssh_command("sh", "-c", shlex.quote(script))
    done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True,
                                   timeout=1800)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"`{script}` failed in the VM: {done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def mib_per_s(dd_output: str) -> float:
    found = _DD.search(dd_output)
    if found is None:
        raise RuntimeError(f"no dd summary in: {dd_output}")
    return int(found.group(1)) / float(found.group(2)) / (1024 * 1024)


async def measure(mode: str, mib: int, runs: int) -> dict[str, list[float]]:
    home = Path(tempfile.mkdtemp(prefix=f"pshare-{mode}-", dir="/tmp"))
    try:
        folder = home / "shared"
        folder.mkdir()
        paths = VMPaths.default(home / "engine")
        paths.root.mkdir(parents=True)
        paths.settings_file.write_text(json.dumps({"api": mode, "shares": [str(folder)]}))
        vm = VMEngine(paths, start_timeout=300)
        await vm.start()
        result: dict[str, list[float]] = {"write": [], "read": []}
        try:
            mounts = await in_vm(vm, "grep ' 9p ' /proc/mounts")
            print(f"[{mode}] {mounts.strip()}", flush=True)
            target = f"{folder}/f"
            for run in range(runs):
                write = await in_vm(vm, f"dd if=/dev/zero of={target} bs=1M count={mib} "
                                        "conv=fsync 2>&1")  # fmt: skip
                if (folder / "f").stat().st_size != mib * 1024 * 1024:
                    raise RuntimeError("the file on the host has the wrong size")
                read = await in_vm(vm, f"sync; echo 3 > /proc/sys/vm/drop_caches; "
                                       f"dd if={target} of=/dev/null bs=1M 2>&1")  # fmt: skip
                result["write"].append(mib_per_s(write))
                result["read"].append(mib_per_s(read))
                print(f"[{mode}] run {run + 1}: write {result['write'][-1]:.1f} MiB/s, "
                      f"read {result['read'][-1]:.1f} MiB/s", flush=True)
        finally:
            await vm.stop()
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def render(results: dict[str, dict[str, list[float]]], mib: int, runs: int, command: str) -> str:
    rows = []
    for mode, label in (("tls", "Portside 9P server, pipe chardev (tls mode; Windows' way)"),
                        ("ssh", "QEMU `-virtfs` (ssh mode; Linux, macOS)")):  # fmt: skip
        r = results[mode]
        rows.append(f"| {label} | {statistics.median(r['write']):.1f} | "
                    f"{statistics.median(r['read']):.1f} |")  # fmt: skip
    ratio_w = statistics.median(results["tls"]["write"]) / statistics.median(
        results["ssh"]["write"])
    ratio_r = statistics.median(results["tls"]["read"]) / statistics.median(
        results["ssh"]["read"])
    return "\n".join([
        f"Command: `{command}` (as root; TCG, 2 vCPUs, 2 GiB; {os.cpu_count()} host cores shared "
        "with other work). A "
        f"{mib} MiB file written in the VM with `dd bs=1M conv=fsync` into the shared folder and "
        "read back with `dd bs=1M` after dropping the guest's caches (both mounts are "
        f"`cache=none`), {runs} runs per mode, medians of dd's own MiB/s; one VM at a time.",
        "",
        "| share | write MiB/s | read MiB/s |",
        "|---|---:|---:|",
        *rows,
        "",
        f"The pipe server reaches {ratio_w:.0%} of `-virtfs`'s write and {ratio_r:.0%} of its "
        "read speed here. Its path is longer: guest v9fs -> FIFO -> relay cat -> virtio-serial "
        "port (32 KiB writes, 4 KiB reads per call in the guest) -> QEMU -> host FIFO -> one "
        "Python thread answering one request at a time -> os.read/os.write; `-virtfs` is QEMU's "
        "C server on virtqueues with zero-copy buffers. It is the share Windows gets, where "
        "there is no `-virtfs` at all.",
    ])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    os.environ.setdefault("PORTSIDE_VM_ACCEL", "tcg")
    results = {mode: await measure(mode, args.mib, args.runs) for mode in ("tls", "ssh")}
    command = (f".venv/bin/python benchmarks/vm_share_throughput.py --mib {args.mib} "
               f"--runs {args.runs}")
    report_section(SECTION, render(results, args.mib, args.runs,
                                   command + (" --write" if args.write else "")), args.write)


if __name__ == "__main__":
    asyncio.run(main())
