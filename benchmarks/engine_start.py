"""Engine start: NativeEngine.start() against dockerd launched by hand with the same flags.

Usage (as root, like the tests)::

    .venv/bin/python benchmarks/engine_start.py [--rounds 10] [--write]

Each side gets its own engine folder under /tmp (data root, exec root, socket, daemon.json with
its own bridge and subnet, iptables off), prepared by one untimed warm-up start. Then the rounds
alternate, Portside first or second in turn, and time "start" to the first ``/_ping`` that
answers 200:

* portside: ``await NativeEngine(paths).start()`` — includes what Portside adds: lock, stale-file
  check, daemon.json read, bridge check, pipe + log writer, watcher thread, socket chmod.
* by hand: ``Popen(dockerd --data-root ... --config-file ...)`` with output to a log file, then
  ``/_ping`` polled over the socket at the same 20 ms interval (the bridge is made beforehand).

Stops are not timed. ``--write`` replaces the "Engine start" section of docs/benchmarks.md.
"""

# Blocking Popen/open/stat inside coroutines are deliberate here: the by-hand side does what a
# shell does, and NativeEngine makes the same calls on its loop.
# ruff: noqa: ASYNC109, ASYNC220, ASYNC230, ASYNC240

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import report_section
from engine.lifecycle import EnginePaths, NativeEngine, netconf, procs
from engine.lifecycle.native import PING_INTERVAL, find_program

SECTION = "Engine start"


async def _wait_ping(socket_path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    transport = httpx.AsyncHTTPTransport(uds=str(socket_path))
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(transport=transport, base_url="http://e", timeout=5) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with {proc.returncode}")
            if socket_path.exists():
                try:
                    if (await client.get("/_ping")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError("dockerd did not answer")
            await asyncio.sleep(PING_INTERVAL)


class ByHand:
    """dockerd started with Popen and the same path flags, as a user would in a shell."""

    def __init__(self, root: Path, dockerd: str) -> None:
        self.paths = EnginePaths.at(root)
        self.dockerd = dockerd
        self.proc: subprocess.Popen[bytes] | None = None
        self.paths.ensure()
        used = netconf.used_networks()
        subnet = netconf.pick_subnet(used)
        self.bridge = netconf.bridge_name_for(self.paths.data_root)
        config = {
            "iptables": False,
            "ip-masq": False,
            "bridge": self.bridge,
            "fixed-cidr": str(subnet),
        }
        self.paths.daemon_json.write_text(json.dumps(config))
        netconf.ensure_bridge(self.bridge, ipaddress.IPv4Network(subnet))

    async def start(self) -> float:
        p = self.paths
        started = time.perf_counter()
        with open(p.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.dockerd,
                    f"--data-root={p.data_root}",
                    f"--exec-root={p.exec_root}",
                    f"--pidfile={p.pidfile}",
                    f"--host=unix://{p.socket}",
                    f"--config-file={p.daemon_json}",
                    "--group=root",
                ],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        await _wait_ping(p.socket, self.proc, 60)
        return time.perf_counter() - started

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
            self.proc = None
        procs.unmount_all([self.paths.data_root, self.paths.exec_root])
        for stale in (self.paths.socket, self.paths.pidfile):
            stale.unlink(missing_ok=True)

    def close(self) -> None:
        self.stop()
        netconf.delete_bridge(self.bridge)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(rounds: int) -> dict[str, list[float]]:
    dockerd = find_program("dockerd")
    if not dockerd:
        raise SystemExit("no dockerd found; install docker.io")
    roots = [Path(tempfile.mkdtemp(prefix="pstb-", dir="/tmp")) for _ in range(2)]
    native = NativeEngine(EnginePaths.at(roots[0]), iptables=False)
    by_hand = ByHand(roots[1], dockerd)
    times: dict[str, list[float]] = {"portside": [], "by hand": []}

    async def once_native() -> float:
        started = time.perf_counter()
        await native.start()
        elapsed = time.perf_counter() - started
        await native.stop()
        return elapsed

    async def once_by_hand() -> float:
        elapsed = await by_hand.start()
        by_hand.stop()
        return elapsed

    try:
        await once_native()  # warm-up: creates the data roots, page cache
        await once_by_hand()
        for i in range(rounds):
            order = [("portside", once_native), ("by hand", once_by_hand)]
            if i % 2:
                order.reverse()
            for name, step in order:
                times[name].append(await step())
                print(f"round {i + 1:2d} {name:9s} {times[name][-1] * 1000:7.1f} ms", flush=True)
    finally:
        await native.stop()
        by_hand.close()
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
    return times


def _dockerd_version() -> str:
    found = subprocess.run(["dockerd", "--version"], capture_output=True, text=True, check=False)
    return found.stdout.strip() or "dockerd"


def render(times: dict[str, list[float]], rounds: int, command: str) -> str:
    base = statistics.median(times["by hand"])
    rows = [
        f"`NativeEngine.start()` against {_dockerd_version()} launched by hand with the same "
        "flags and "
        f"daemon.json, {rounds} rounds alternating (order swapped each round), time from start "
        "to the first `/_ping` answering 200; both poll every 20 ms. Stops are not timed.",
        "",
        f"Command: `{command}`",
        "",
        "| engine start | median ms | p95 ms | min ms | median vs by hand |",
        "|---|---|---|---|---|",
    ]
    for name in ("portside", "by hand"):
        values = times[name]
        rows.append(
            f"| {name} | {statistics.median(values) * 1000:.0f} | {_p95(values) * 1000:.0f} "
            f"| {min(values) * 1000:.0f} | {statistics.median(values) / base:.2f}x |"
        )
    rows += [
        "",
        "Portside's extra work per start (lock, stale pidfile/socket/mount check, daemon.json, "
        "bridge check, log pipe and watcher thread) is small next to dockerd's own start-up. "
        "The CLI's `portside engine start` adds one Python process start (the supervisor) on top.",
        f"1-minute load average at the end of the run: {os.getloadavg()[0]:.1f} (shared machine).",
    ]
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (the engines create their own bridges)")
    times = asyncio.run(run(args.rounds))
    command = f".venv/bin/python benchmarks/engine_start.py --rounds {args.rounds}"
    body = render(times, args.rounds, command + (" --write" if args.write else ""))
    report_section(SECTION, body, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
