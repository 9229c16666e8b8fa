"""GUI shell benchmarks on a private engine (run: ``python benchmarks/gui_shell.py``).

(a) launch: AppContext + MainWindow created -> the Containers view shows N containers (default
    1,000, created but not started);
(b) idle: CPU time and wake-ups of this process over D seconds with 100 containers (50 running
    ``sleep``), window open on the Containers view (stats streams for the visible running rows,
    read by one StatsMonitor thread);
(c) event -> row: a burst of 200 container starts; for each, the engine's event time to the
    model row showing "running" (median, p95).
Peer for (c): a ``docker ps`` polling loop at 1 s sees a change after 0.5 s on average.

Needs root (a private dockerd with its own data root, bridge and subnet). Cleans up after itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import AppContext
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from benchmarks.support import (
    idle_usage,
    private_engine,
    run_on_qt_loop,
    wait_until,
    watch_running,
)
from engine.client import EngineClient
from engine.lifecycle import ExternalEngine
from tests.support.engine_fixtures import TEST_IMAGE


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def create_many(client: EngineClient, n: int, prefix: str) -> list[str]:
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> str:
        async with sem:
            return await client.containers.create(
                {"Image": TEST_IMAGE, "Cmd": ["sleep", "3600"], "StopSignal": "SIGKILL"},
                name=f"{prefix}{i}",
            )

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def remove_all(client: EngineClient, ids: list[str]) -> None:
    sem = asyncio.Semaphore(16)

    async def one(cid: str) -> None:
        async with sem:
            await client.containers.remove(cid, force=True)

    await asyncio.gather(*(one(c) for c in ids))


async def open_window(endpoint: str) -> tuple[AppContext, MainWindow, Any]:
    ctx = AppContext(ExternalEngine(endpoint), attached=True, runner=Runner(show_dialogs=False))
    window = MainWindow(ctx, Settings(path=Path(tempfile.mkdtemp()) / "s.json", last_view="x"))
    window.resize(1280, 800)
    window.show()
    ctx.start()
    return ctx, window, window.views["containers"]


async def bench_launch(client: EngineClient, endpoint: str, n: int) -> float:
    """(a) AppContext + MainWindow -> the Containers view shows ``n`` containers (seconds)."""
    ids = await create_many(client, n, "la")
    t0 = time.perf_counter()
    ctx, window, view = await open_window(endpoint)
    await wait_until(lambda: len(view.model) >= n and view.isVisible())
    took = time.perf_counter() - t0
    await ctx.shutdown()
    window.close()
    window.deleteLater()
    await remove_all(client, ids)
    return took


async def bench_burst(client: EngineClient, endpoint: str, n: int) -> tuple[float, float, int]:
    """(c) engine event -> row shows "running" during ``n`` concurrent starts (median, p95 ms)."""
    ids = await create_many(client, n, "bu")
    ctx, window, view = await open_window(endpoint)
    await wait_until(lambda: len(view.model) >= n)
    event_time, seen = watch_running(ctx, view, ids)
    sem = asyncio.Semaphore(16)

    async def start(cid: str) -> None:
        async with sem:
            await client.containers.start(cid)

    await asyncio.gather(*(start(c) for c in ids))
    await wait_until(lambda: len(seen) >= len(ids))
    lat = [seen[c] - event_time[c] for c in ids if c in event_time]
    await ctx.shutdown()
    window.close()
    window.deleteLater()
    await remove_all(client, ids)
    return statistics.median(lat) * 1000, pct(lat, 0.95) * 1000, len(lat)


def samples_seen(view: Any) -> int | None:
    """Stats samples the view's StatsMonitor thread has read so far (None: no monitor)."""
    source = getattr(view.store, "_source", None)
    return getattr(source, "samples_seen", None) if source is not None else 0


async def bench_idle(client: EngineClient, endpoint: str, seconds: float) -> dict[str, Any]:
    """(b) CPU time and context switches of this process, 100 containers (50 running)."""
    results: dict[str, Any] = {}
    ids = await create_many(client, 100, "id")
    await asyncio.gather(*(client.containers.start(c) for c in ids[:50]))
    ctx, window, view = await open_window(endpoint)
    await wait_until(lambda: len(view.model) >= 100)
    updates = 0

    def count(*_a: Any) -> None:
        nonlocal updates
        updates += 1

    view.model.dataChanged.connect(count)
    for label, show in (("idle", "containers"), ("idle_other_view", "volumes")):
        if show in window.views:
            window.show_view(show)
        await asyncio.sleep(3)  # settle: first list, stats open/close
        print(f"measuring {label} (pid {os.getpid()})", file=sys.stderr, flush=True)
        updates = 0
        n0 = samples_seen(view)
        idle = await idle_usage(seconds)
        n1 = samples_seen(view)
        wall = idle["seconds"]
        results[label] = {
            "view": show,
            "seconds": wall,
            "cpu_percent_of_core": idle["cpu_percent"],
            "wakeups_per_s": idle["switches_per_s"],
            "model_updates_per_s": updates / wall,
            "stats_targets": len(view.store.stats_streams),
            "samples_per_s": (n1 - n0) / wall if n0 is not None and n1 is not None else None,
            "rss_mib": idle["rss_mib"],
        }
    await ctx.shutdown()
    window.close()
    await remove_all(client, ids)
    return results


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with (
        private_engine("pstb-") as engine,
        EngineClient(engine.endpoint, timeout=120) as client,
    ):
        if "a" in args.parts:
            results["launch_s"] = await bench_launch(client, engine.endpoint, args.launch)
        if "c" in args.parts:
            results["event_to_row_ms"] = await bench_burst(client, engine.endpoint, args.burst)
        if "b" in args.parts:
            results.update(await bench_idle(client, engine.endpoint, args.idle))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launch", type=int, default=1000, help="containers for (a)")
    parser.add_argument("--burst", type=int, default=200, help="container starts for (c)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds for (b)")
    parser.add_argument("--parts", default="abc", help="which of a, b, c to run (default abc)")
    args = parser.parse_args()
    res = run_on_qt_loop(bench(args))
    if "launch_s" in res:
        print(f"(a) launch to window showing {args.launch} containers: {res['launch_s']:.2f} s")
    if "event_to_row_ms" in res:
        med, p95, n = res["event_to_row_ms"]
        print(
            f"(c) event -> row during {args.burst} starts: median {med:.1f} ms, "
            f"p95 {p95:.1f} ms (n={n})"
        )
    for key in ("idle", "idle_other_view"):
        if key not in res:
            continue
        idle = res[key]
        print(
            f"(b) idle {idle['seconds']:.0f} s, 100 containers (50 running), window open on "
            f"{idle['view']}: CPU {idle['cpu_percent_of_core']:.2f} % of a core, "
            f"{idle['wakeups_per_s']:.1f} context switches/s, "
            f"{idle['model_updates_per_s']:.1f} model dataChanged/s, "
            f"{idle['stats_targets']} containers with stats, max RSS {idle['rss_mib']:.0f} MiB"
            + (
                f", {idle['samples_per_s']:.1f} samples/s"
                if idle.get("samples_per_s") is not None
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
