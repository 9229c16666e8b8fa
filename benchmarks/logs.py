"""The container page's Logs tab vs ``docker logs`` (run: ``python benchmarks/logs.py``).

Starts a private engine (own data root, socket, no iptables) and builds the busybox test image
offline, then, each part in a fresh child process of this script (so peak memory is per part):

1. ``load``: a container that wrote N lines (500,000 by default). Alternating, ``--rounds``
   times: ``docker logs <id> > /dev/null`` (the CLI from PATH, same engine) and a
   :class:`LogsTab` with the cap raised to N opened on it with ``tail=all`` — time from opening
   the tab until the view holds all N lines and has painted the last one. Ratio = ours / docker's.
2. ``memory``: the same log read whole through a tab with the DEFAULT cap, and once with the cap
   raised to N: peak RSS of the process above its RSS before the tab opened.
3. ``follow``: a container writing ~10,000 lines/s for ``--seconds`` while a tab follows it:
   the longest gap of a 5 ms QTimer (a UI stall: nothing else can run in it) with the CPU the
   process used in it, the most CPU it used between two ticks (its own longest stall, whatever
   the host's load), the longest single draw, the process CPU (% of one core) during the
   flood, and in the 1 s after the tab has drawn the container's last line (should be ~0:
   the tab goes idle).

The parts call ``gc.freeze()`` first, as the app does after start-up (``--no-freeze``: not).

Needs root (a private dockerd). Cleans up after itself. Prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def last_log_line(tab: Any) -> str:
    """The last log row the view holds (taken from the buffer and painted when on screen)."""
    view = tab.view
    for index in range(view.row_count() - 1, max(-1, view.row_count() - 50), -1):
        text = view.row_text(index)
        if text and not text.startswith("— "):
            return str(text)
    return ""


class StallMeter:
    """A 5 ms QTimer: the longest gap between its ticks, less 5 ms, is the longest UI stall.

    The CPU this process used during that gap is kept too: a gap the process spent mostly
    waiting for a core (this 2-core host is shared) is the host's stall, not the app's.
    """

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self.longest_cpu = 0.0
        self.busiest = 0.0  # the most CPU between two ticks: the app's own longest stall
        self._last = time.monotonic()
        self._last_cpu = cpu()
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, used = time.monotonic(), cpu()
        if now - self._last > self.longest:
            self.longest = now - self._last
            self.longest_cpu = used - self._last_cpu
        self.busiest = max(self.busiest, used - self._last_cpu)
        self._last, self._last_cpu = now, used

    def start(self) -> None:
        self._last, self._last_cpu = time.monotonic(), cpu()
        self._timer.start()

    def stop(self) -> tuple[float, float]:
        """The longest stall and the CPU used in it, in ms."""
        self._timer.stop()
        return max(0.0, (self.longest - 0.005) * 1000), self.longest_cpu * 1000


async def wait_until(predicate: Any, limit_s: float = 300) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit_s:
            raise TimeoutError("the tab never got there")
        await asyncio.sleep(0.005)


# -- parts (each runs in its own child process) ----------------------------------------------


async def part_load(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.views.container_page.logs.tab import LogsTab

    ctx: Any = SimpleNamespace(client=client)
    tab = LogsTab(ctx, args.cid, cap=args.lines + 10, tail="all")
    tab.resize(1000, 700)
    tab.show()
    meter = StallMeter()
    meter.start()
    start = time.monotonic()
    c0 = cpu()
    await wait_until(lambda: last_log_line(tab) == f"line {args.lines}")
    tab.view.viewport().repaint()  # and painted on screen (the view paints only visible rows)
    took = time.monotonic() - start
    stall, stall_cpu = meter.stop()
    busiest = meter.busiest * 1000
    lines = sum(1 for line in tab.buffer.lines if line[1] != 0)
    result = {
        "seconds": took,
        "cpu": cpu() - c0,
        "lines": lines,
        "draw_ms": tab.view.longest_draw_ms,
        "stall_ms": stall,
        "stall_cpu_ms": stall_cpu,
        "busiest_ms": busiest,
    }
    tab.close_tab()
    return result


async def part_memory(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.views.container_page.logs.tab import LogsTab

    ctx: Any = SimpleNamespace(client=client)
    base = rss_kib()
    tab = LogsTab(ctx, args.cid, tail="all", **({"cap": args.cap} if args.cap else {}))
    tab.resize(1000, 700)
    tab.show()
    await wait_until(lambda: last_log_line(tab) == f"line {args.lines}")
    await asyncio.sleep(0.3)
    result = {
        "peak_mib": (peak_kib() - base) / 1024,
        "cap": tab.buffer.cap,
        "held": len(tab.buffer.lines),
        "rows": tab.view.row_count(),
    }
    tab.close_tab()
    return result


async def part_follow(client: Any, args: argparse.Namespace) -> dict[str, Any]:
    from app.views.container_page.logs.tab import LogsTab

    per_tick = args.rate // 10
    ticks = args.seconds * 10
    script = (
        # 80 ms, not 100: seq and the loop take the rest of each tenth of a second
        f"i=0; while [ $i -lt {ticks} ]; do seq 1 {per_tick}; usleep 80000; i=$((i+1)); done; "
        "echo LAST-LINE"
    )
    cid = await client.containers.create({"Image": TEST_IMAGE, "Cmd": ["sh", "-c", script]})
    ctx: Any = SimpleNamespace(client=client)
    tab = LogsTab(ctx, cid)
    tab.resize(1000, 700)
    tab.show()
    meter = StallMeter()
    await client.containers.start(cid)
    await wait_until(lambda: tab.buffer.received > 0)
    meter.start()
    c0, t0 = cpu(), time.monotonic()
    received0 = tab.buffer.received
    await client.containers.wait(cid)
    await wait_until(lambda: last_log_line(tab) == "LAST-LINE", limit_s=60)
    c1, t1 = cpu(), time.monotonic()
    stall, stall_cpu = meter.stop()
    busiest = meter.busiest * 1000
    await asyncio.sleep(1.0)
    c2 = cpu()
    result = {
        "lines_per_s": (tab.buffer.received - received0) / (t1 - t0),
        "stall_ms": stall,
        "stall_cpu_ms": stall_cpu,
        "busiest_ms": busiest,
        "draw_ms": tab.view.longest_draw_ms,
        "cpu_flood": 100 * (c1 - c0) / (t1 - t0),
        "cpu_after": 100 * (c2 - c1),
        "timer_active_after": tab.view._timer.isActive(),
    }
    tab.close_tab()
    await client.containers.remove(cid, force=True)
    return result


PARTS = {"load": part_load, "memory": part_memory, "follow": part_follow}
TEST_IMAGE = "portside-test/busybox:latest"


def child(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    from app.loop import EventLoop
    from engine.client import EngineClient

    qt_app = QApplication([])
    qt_app.setQuitOnLastWindowClosed(False)
    if not args.no_freeze:
        gc.freeze()  # as app/gui.py does once the window is up
    loop = EventLoop(qt_app)
    asyncio.set_event_loop(loop)

    async def run() -> dict[str, Any]:
        async with EngineClient(args.endpoint, timeout=120) as client:
            await client.connect()
            return await PARTS[args.part](client, args)

    with loop:
        print(json.dumps(loop.run_until_complete(run())))
    return 0


def run_child(args: argparse.Namespace, part: str, **extra: Any) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--part", part, "--endpoint", args.endpoint]
    cmd += ["--no-freeze"] if args.no_freeze else []
    cmd += ["--lines", str(args.lines), "--rate", str(args.rate), "--seconds", str(args.seconds)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        noise = "propagateSizeHints"
        tail = [line for line in done.stderr.splitlines() if noise not in line][-15:]
        raise SystemExit(f"part {part} failed:\n" + "\n".join(tail))
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def docker_logs(endpoint: str, cid: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``docker logs <cid> > /dev/null``."""
    docker = shutil.which("docker") or "docker"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    start, c0 = time.monotonic(), children_cpu()
    with open(os.devnull, "wb") as null:
        argv = [docker, "-H", endpoint, "logs", cid]
        subprocess.run(argv, stdout=null, stderr=null, check=True, env=env)
    return time.monotonic() - start, children_cpu() - c0


def parent(args: argparse.Namespace) -> int:
    from engine.client import EngineClient
    from engine.lifecycle import EnginePaths, NativeEngine
    from tests.support.engine_fixtures import build_image, busybox_context

    root = Path(tempfile.mkdtemp(prefix="pstlg-", dir="/tmp"))
    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)

    async def setup() -> str:
        await engine.start()
        await build_image(engine.endpoint, busybox_context(), TEST_IMAGE)
        async with EngineClient(engine.endpoint, timeout=300) as client:
            script = f"seq 1 {args.lines} | sed 's/^/line /'"
            cid = await client.containers.create({"Image": TEST_IMAGE, "Cmd": ["sh", "-c", script]})
            await client.containers.start(cid)
            await client.containers.wait(cid)
            return str(cid)

    try:
        cid = asyncio.run(setup())
        args.endpoint = engine.endpoint
        ours: list[dict[str, Any]] = []
        theirs: list[float] = []
        theirs_cpu: list[float] = []
        for _ in range(args.rounds):
            wall, used = docker_logs(engine.endpoint, cid)
            theirs.append(wall)
            theirs_cpu.append(used)
            ours.append(run_child(args, "load", cid=cid))
        memory_default = run_child(args, "memory", cid=cid)
        memory_all = run_child(args, "memory", cid=cid, cap=args.lines + 10)
        follow = run_child(args, "follow")
    finally:
        asyncio.run(engine.stop(timeout=30))
        shutil.rmtree(root, ignore_errors=True)

    ours_s = sorted(r["seconds"] for r in ours)
    theirs_s = sorted(theirs)
    med = ours_s[len(ours_s) // 2]
    med_docker = theirs_s[len(theirs_s) // 2]
    print(f"| {args.lines:,} lines, all in the view | median | runs |")
    print("|---|---|---|")
    runs = ", ".join(f"{t:.2f}" for t in theirs)
    cpus = ", ".join(f"{t:.2f}" for t in theirs_cpu)
    print(f"| `docker logs` > /dev/null | {med_docker:.2f} s | {runs} (CPU {cpus} s) |")
    runs = ", ".join(f"{r['seconds']:.2f}" for r in ours)
    cpus = ", ".join(f"{r['cpu']:.2f}" for r in ours)
    print(f"| Logs tab (cap {args.lines + 10:,}) | {med:.2f} s | {runs} (CPU {cpus} s) |")
    stalls = ", ".join(
        f"{r['stall_ms']:.0f} ({r['stall_cpu_ms']:.0f} CPU; busiest gap {r['busiest_ms']:.0f})"
        for r in ours
    )
    draws = ", ".join(f"{r['draw_ms']:.0f}" for r in ours)
    print(
        f"| ratio (ours / docker) | {med / med_docker:.2f} | longest UI stall per run {stalls} ms "
        f"(longest draw {draws} ms), {ours[0]['lines']:,} lines held |"
    )
    print()
    print(f"Peak memory over the baseline, reading all {args.lines:,} lines: default cap "
          f"({memory_default['cap']:,}): {memory_default['peak_mib']:.1f} MiB "
          f"({memory_default['held']:,} lines held, {memory_default['rows']:,} rows); "
          f"cap {memory_all['cap']:,}: {memory_all['peak_mib']:.1f} MiB.")
    print(f"Following {follow['lines_per_s']:,.0f} lines/s for {args.seconds} s: longest UI stall "
          f"{follow['stall_ms']:.1f} ms, {follow['stall_cpu_ms']:.1f} ms of it on the CPU; "
          f"most CPU between two ticks {follow['busiest_ms']:.1f} ms (longest "
          f"draw {follow['draw_ms']:.1f} ms), CPU "
          f"{follow['cpu_flood']:.1f} % of a core; in the 1 s after the last line: "
          f"{follow['cpu_after']:.1f} % (draw timer active: {follow['timer_active_after']}).")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000, help="lines in the big log")
    parser.add_argument("--rounds", type=int, default=3, help="alternating load runs")
    parser.add_argument("--rate", type=int, default=10_000, help="lines/s of the follow part")
    parser.add_argument("--seconds", type=int, default=10, help="length of the follow part")
    parser.add_argument(
        "--no-freeze", action="store_true", help="no gc.freeze() in the parts (the app does one)"
    )
    parser.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--cid", help=argparse.SUPPRESS)
    parser.add_argument("--cap", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.part else parent(args)


if __name__ == "__main__":
    sys.exit(main())
