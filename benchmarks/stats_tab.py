"""What the Stats tab costs the app (``benchmarks/stats_tab.py``).

Starts a private engine and one busy container (a shell loop), then, in this process with
Qt offscreen on the qasync loop as in the app, a :class:`StatsTab` on it:

(a) shown and active for ``--seconds``: the process's CPU (% of one core), context switches/s,
    samples charted and the longest gap between two GUI-loop ticks of 10 ms (a stall measure);
    and the time the tab's own tick takes (take the sample, redraw four charts);
(b) the same tab set inactive (the stream closed) for the same time: what is left.

Needs root (a private dockerd). Cleans up after itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QTimer

from app.context import AppContext
from app.runner import Runner
from app.views.container_page.stats_tab import StatsTab
from benchmarks.support import private_engine, run_on_qt_loop, usage, wait_until
from engine.lifecycle import ExternalEngine
from tests.support.engine_fixtures import TEST_IMAGE


async def measure(tab: StatsTab, seconds: float) -> dict[str, float]:
    ticks: list[float] = []
    original = tab._tick

    def timed_tick() -> None:
        t = time.perf_counter()
        original()
        ticks.append(time.perf_counter() - t)

    tab._timer.timeout.disconnect()
    tab._timer.timeout.connect(timed_tick)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    n0 = tab.samples
    (c0, s0), t0 = usage(), time.perf_counter()
    await asyncio.sleep(seconds)
    (c1, s1), t1 = usage(), time.perf_counter()
    timer.stop()
    wall = t1 - t0
    return {
        "cpu": 100 * (c1 - c0) / wall,
        "switches": (s1 - s0) / wall,
        "samples": float(tab.samples - n0),
        "max_gap_ms": 1000 * max(gaps, default=0.0),
        "max_tick_ms": 1000 * max(ticks, default=0.0),
        "mean_tick_ms": 1000 * sum(ticks) / max(len(ticks), 1),
    }


async def bench(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    async with private_engine("psts-") as engine:
        ctx = AppContext(
            ExternalEngine(engine.endpoint), attached=True, runner=Runner(show_dialogs=False)
        )
        ctx.start()
        await wait_until(lambda: ctx.client is not None, 60, 0.05)
        client: Any = ctx.client
        cid = await client.containers.create(
            {
                "Image": TEST_IMAGE,
                "Cmd": ["sh", "-c", "while :; do :; done"],
                "StopSignal": "SIGKILL",
            }
        )
        await client.containers.start(cid)
        tab = StatsTab(ctx, cid)
        tab.resize(1280, 640)
        tab.show()
        try:
            await wait_until(lambda: tab._running is not None, 60, 0.05)
            tab.set_active(True)
            await wait_until(lambda: tab.samples >= 3, 60, 0.05)
            active = await measure(tab, args.seconds)
            tab.set_active(False)
            await asyncio.sleep(1)
            inactive = await measure(tab, args.seconds)
        finally:
            tab.close_tab()
            await client.containers.remove(cid, force=True)
            await ctx.shutdown()
        return {"active": active, "inactive": inactive}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    res = run_on_qt_loop(bench(args))
    for name, r in res.items():
        print(
            f"Stats tab {name:8s} {args.seconds:.0f} s: CPU {r['cpu']:.2f} % of a core, "
            f"{r['switches']:.1f} context switches/s, {r['samples']:.0f} samples charted, "
            f"longest GUI-loop gap {r['max_gap_ms']:.0f} ms, tab tick mean "
            f"{r['mean_tick_ms']:.2f} ms / max {r['max_tick_ms']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
