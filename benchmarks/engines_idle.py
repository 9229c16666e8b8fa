"""Remote engines: idle CPU on TLS vs unix, and event -> row over ssh (issue 12, item 6).

Run as root: ``python benchmarks/engines_idle.py [--idle 30] [--rounds 2] [--starts 20]``.

One private ``dockerd`` listens on a unix socket AND on ``tcp://127.0.0.1:<port>`` with
``--tlsverify`` (certificates made here, ``tests/support/remote_engines.py``), so both
transports see the very same 50 running containers; a private ``sshd`` on 127.0.0.1 serves
``docker system dial-stdio`` for the same engine.

(b) idle: the app (AppContext + MainWindow, through the switcher's own ``EntryEngine`` and
    ``client_for``, exactly what a switch builds) open on the Containers view at 1280x800 with 50
    running containers; CPU time of this process (all threads: Qt, the loop, the stats reader)
    over ``--idle`` seconds after a 4 s settle; unix and TLS alternate for ``--rounds`` rounds.
    Goal: TLS within 1.5x of unix.
(c) event -> row: ``--starts`` containers started one after another (0.3 s apart); for each the
    engine's event time to the model row saying "running"; over ssh and over the unix socket.

Cleans up: containers removed, dockerd and sshd ended by their pids, folders deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import AppContext
from app.engines.targets import target_for
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from benchmarks.support import idle_usage, run_on_qt_loop, wait_until, watch_running
from engine.client import EngineClient
from engine.engines import EngineEntry
from tests.support import remote_engines
from tests.support.engine_fixtures import TEST_IMAGE, import_image

RUN = {"Image": TEST_IMAGE, "Cmd": ["sleep", "3600"], "StopSignal": "SIGKILL",
       "HostConfig": {"NetworkMode": "none"}}


async def open_window(entry: EngineEntry) -> tuple[AppContext, MainWindow, Any]:
    target = target_for(entry, {})
    ctx = AppContext(target.engine, attached=True, runner=Runner(show_dialogs=False),
                     client_factory=target.client_factory)
    folder = Path(tempfile.mkdtemp())
    window = MainWindow(ctx, Settings(path=folder / "s.json", last_view="containers"))
    window.resize(1280, 800)
    window.show()
    ctx.start()
    await wait_until(lambda: ctx.client is not None, 60)
    return ctx, window, window.views["containers"]


async def close_window(ctx: AppContext, window: MainWindow) -> None:
    await ctx.shutdown()
    window.close()
    window.deleteLater()
    await asyncio.sleep(0.2)


async def idle_once(entry: EngineEntry, n: int, seconds: float) -> dict[str, float]:
    ctx, window, view = await open_window(entry)
    await wait_until(lambda: len(view.model) >= n, 60)
    await asyncio.sleep(4)  # settle: first list, stats streams of the visible rows opened
    idle = await idle_usage(seconds)
    out = {
        "cpu_percent": idle["cpu_percent"],
        "stats_rows": float(len(view.store.stats_streams)),
        "source": type(view.store._source).__name__ if view.store._source else "none",
    }
    await close_window(ctx, window)
    return out  # type: ignore[return-value]


async def event_to_row(entry: EngineEntry, client: EngineClient, starts: int) -> list[float]:
    ids = [await client.containers.create(RUN, name=f"ev{entry.kind}{i}-{os.getpid()}")
           for i in range(starts)]
    ctx, window, view = await open_window(entry)
    await wait_until(lambda: all(c in view.model for c in ids), 60)
    event_time, seen = watch_running(ctx, view, ids)
    for cid in ids:
        await client.containers.start(cid)
        await asyncio.sleep(0.3)
    await wait_until(lambda: len(seen) >= len(ids), 60)
    await close_window(ctx, window)
    for cid in ids:
        await client.containers.remove(cid, force=True)
    return [1000 * (seen[c] - event_time[c]) for c in ids if c in event_time]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    tls_gen = remote_engines.tls_engine._get_wrapped_function()()
    tls = next(tls_gen)
    unix_url = f"unix://{tls.socket}"
    ssh_gen = remote_engines.sshd_server._get_wrapped_function()(unix_url)
    sshd = next(ssh_gen)
    os.environ["PORTSIDE_SSH_CONFIG"] = str(sshd.config)
    entries = {
        "unix": EngineEntry(id="user:unix", name="unix", kind="user", url=unix_url),
        "tls": EngineEntry(id="user:tls", name="tls", kind="user", url=tls.url,
                           tls=tls.pki.client()),
        "ssh": EngineEntry(id="user:ssh", name="ssh", kind="user", url=sshd.url),
    }
    results: dict[str, Any] = {"idle": {"unix": [], "tls": []}}
    ids: list[str] = []
    try:
        await import_image(unix_url, TEST_IMAGE)
        async with EngineClient(unix_url, timeout=120) as client:
            for i in range(args.containers):
                cid = await client.containers.create(RUN, name=f"idle{i}-{os.getpid()}")
                await client.containers.start(cid)
                ids.append(cid)
            for r in range(args.rounds):
                for kind in ("unix", "tls") if r % 2 == 0 else ("tls", "unix"):
                    print(f"idle round {r + 1}: {kind}", file=sys.stderr, flush=True)
                    results["idle"][kind].append(
                        await idle_once(entries[kind], args.containers, args.idle))
            for kind in ("ssh", "unix"):
                print(f"event -> row: {kind}", file=sys.stderr, flush=True)
                results[f"event_{kind}"] = await event_to_row(entries[kind], client, args.starts)
            for cid in ids:
                await client.containers.remove(cid, force=True)
    finally:
        for gen in (ssh_gen, tls_gen):
            gen.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=30.0, help="seconds per idle measure")
    parser.add_argument("--rounds", type=int, default=2, help="unix/TLS idle rounds")
    parser.add_argument("--containers", type=int, default=50, help="running containers")
    parser.add_argument("--starts", type=int, default=20, help="starts for event -> row")
    args = parser.parse_args()
    res = run_on_qt_loop(bench(args))
    for kind in ("unix", "tls"):
        runs = res["idle"][kind]
        cpus = ", ".join(f"{r['cpu_percent']:.2f}" for r in runs)
        print(f"(b) idle {args.idle:.0f} s, {args.containers} running, Containers view, {kind}: "
              f"CPU % of a core per round [{cpus}], median "
              f"{statistics.median(r['cpu_percent'] for r in runs):.2f}; stats for "
              f"{runs[0]['stats_rows']:.0f} visible rows via {runs[0]['source']}")
    u = statistics.median(r["cpu_percent"] for r in res["idle"]["unix"])
    t = statistics.median(r["cpu_percent"] for r in res["idle"]["tls"])
    print(f"(b) TLS / unix = {t / u:.2f}x (goal <= 1.5x)")
    for kind in ("ssh", "unix"):
        lat = sorted(res[f"event_{kind}"])
        print(f"(c) event -> row over {kind}: median {statistics.median(lat):.1f} ms, "
              f"max {lat[-1]:.1f} ms (n={len(lat)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
