"""CPU per stats sample: engine.stats_monitor vs httpx streams (``benchmarks/stats_monitor.py``).

Starts a private engine, runs N ``sleep`` containers, then for D seconds each:
(1) one :class:`StatsMonitor` thread streaming all N (the caller takes ``latest()`` once per
    second, as the Containers view's tick does);
(2) N ``EngineClient.containers.stats`` streams on a plain asyncio loop (the old path, which
    costs more again under qasync).
Reports process CPU time / samples received. Needs root (private dockerd). Cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gui_shell import create_many, remove_all
from benchmarks.support import private_engine, usage
from engine.client import EngineClient
from engine.stats_monitor import StatsMonitor


def rates(samples: int, cpu: float, switches: int, wall: float) -> dict[str, float]:
    """Per second and per sample, from what was counted over ``wall`` seconds."""
    return {
        "samples_per_s": samples / wall,
        "cpu_ms_per_sample": 1000 * cpu / max(samples, 1),
        "cpu_percent": 100 * cpu / wall,
        "switches_per_s": switches / wall,
    }


async def bench_monitor(client: EngineClient, ids: list[str], seconds: float) -> dict[str, float]:
    mon = StatsMonitor(client.endpoint, client.api_version)
    try:
        mon.set_targets(set(ids))
        await asyncio.sleep(3)  # settle: connections open, first samples
        n0, (c0, s0), t0 = mon.samples_seen, usage(), time.perf_counter()
        taken = 0
        end = t0 + seconds
        while time.perf_counter() < end:
            await asyncio.sleep(1.0)
            taken += len(mon.latest())  # decode the latest sample per container, as the tick
        n1, (c1, s1), t1 = mon.samples_seen, usage(), time.perf_counter()
        errors = mon.errors()
    finally:
        mon.close()
    return {
        **rates(n1 - n0, c1 - c0, s1 - s0, t1 - t0),
        "decoded_per_s": taken / (t1 - t0),
        "errors": float(len(errors)),
    }


async def bench_httpx(client: EngineClient, ids: list[str], seconds: float) -> dict[str, float]:
    count = 0
    latest: dict[str, object] = {}

    async def one(cid: str) -> None:
        nonlocal count
        async for s in client.containers.stats(cid, stream=True):
            latest[cid] = s
            count += 1

    tasks = [asyncio.ensure_future(one(c)) for c in ids]
    await asyncio.sleep(3)
    n0, (c0, s0), t0 = count, usage(), time.perf_counter()
    await asyncio.sleep(seconds)
    n1, (c1, s1), t1 = count, usage(), time.perf_counter()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return rates(n1 - n0, c1 - c0, s1 - s0, t1 - t0)


async def bench(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    async with (
        private_engine("pstm-") as engine,
        EngineClient(engine.endpoint, timeout=120) as client,
    ):
        await client.connect()
        ids = await create_many(client, args.containers, "sm")
        await asyncio.gather(*(client.containers.start(c) for c in ids))
        try:
            return {
                "monitor": await bench_monitor(client, ids, args.seconds),
                "httpx": await bench_httpx(client, ids, args.seconds),
            }
        finally:
            await remove_all(client, ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    res = asyncio.run(bench(args))
    for name, r in res.items():
        print(
            f"{name:8s} {args.containers} streams, {args.seconds:.0f} s: "
            f"{r['samples_per_s']:.1f} samples/s, {r['cpu_ms_per_sample']:.3f} ms CPU/sample, "
            f"{r['cpu_percent']:.2f} % of a core, {r['switches_per_s']:.1f} context switches/s"
            + (f", {r['decoded_per_s']:.1f} decoded/s" if "decoded_per_s" in r else "")
            + (f", {r['errors']:.0f} errors" if r.get("errors") else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
