"""Log pane under a flood (run: ``python benchmarks/gui_logs_flood.py [--lines N]``).

A container writes N lines as fast as it can (``yes line | head -n N``, then ``LAST-LINE``) while
a :class:`app.views.containers.logs.LogPane` follows its logs through
:func:`app.views.containers.logs.follow_logs`, as the details pane does. Reports:

- lag: from the container's exit to the pane showing ``LAST-LINE``;
- CPU of this process (user+sys, % of one core) while the flood runs, and in the 1 s after the
  pane caught up (should be idle);
- lines skipped (shown as the "… N lines skipped …" marker) and the pane's block count.

Needs root (a private dockerd with its own data root, bridge and subnet). Cleans up after itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.views.containers.logs import LogPane, follow_logs
from benchmarks.support import private_engine, run_on_qt_loop, usage
from engine.client import EngineClient
from tests.support.engine_fixtures import TEST_IMAGE


def cpu() -> float:
    return usage()[0]


def last_line(pane: LogPane) -> str:
    doc = pane.document()
    block = doc.lastBlock()
    while block.isValid() and not block.text():
        block = block.previous()
    return block.text() if block.isValid() else ""


async def flood(client: EngineClient, lines: int) -> dict[str, Any]:
    cid = await client.containers.create(
        {
            "Image": TEST_IMAGE,
            "Cmd": ["sh", "-c", f"yes line | head -n {lines}; echo LAST-LINE"],
        }
    )
    pane = LogPane()
    pane.resize(800, 400)
    pane.show()
    c0, t0 = cpu(), time.monotonic()
    await client.containers.start(cid)
    # as the details pane does for a running container: the whole log, then follow
    task = asyncio.ensure_future(follow_logs(client, cid, pane, tail="all"))
    await client.containers.wait(cid)
    t_exit, c_exit = time.monotonic(), cpu()
    while last_line(pane) != "LAST-LINE":
        if time.monotonic() - t_exit > 120:
            raise TimeoutError(f"the pane never showed the last line ({last_line(pane)!r})")
        await asyncio.sleep(0.01)
    t_seen, c_seen = time.monotonic(), cpu()
    await asyncio.sleep(1.0)
    c_idle = cpu()
    result = {
        "flood_s": t_exit - t0,
        "lines_per_s": lines / max(t_exit - t0, 1e-9),
        "cpu_flood": 100 * (c_exit - c0) / max(t_exit - t0, 1e-9),
        "lag_s": t_seen - t_exit,
        "cpu_catch_up_s": c_seen - c_exit,
        "cpu_idle_after": 100 * (c_idle - c_seen) / 1.0,
        "skipped": pane.dropped_total,
        "blocks": pane.blockCount(),
        "cap": pane.cap,
        "timer_active_after": pane._timer.isActive(),
    }
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await client.containers.remove(cid, force=True)
    pane.close()
    return result


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    async with (
        private_engine("pstl-") as engine,
        EngineClient(engine.endpoint, timeout=120) as client,
    ):
        return await flood(client, args.lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000_000, help="lines the container writes")
    args = parser.parse_args()
    r = run_on_qt_loop(bench(args))
    print(
        f"{args.lines:,} lines in {r['flood_s']:.1f} s ({r['lines_per_s']:,.0f} lines/s): "
        f"CPU {r['cpu_flood']:.0f} % of a core during the flood; pane showed the last line "
        f"{r['lag_s']:.2f} s after the exit ({r['cpu_catch_up_s']:.2f} s CPU to catch up); "
        f"CPU in the next 1 s: {r['cpu_idle_after']:.1f} %; {r['skipped']:,} lines skipped; "
        f"{r['blocks']} blocks (cap {r['cap']}); flush timer active after: "
        f"{r['timer_active_after']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
