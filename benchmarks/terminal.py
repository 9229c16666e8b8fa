"""The Terminal tab under a flood of output vs xterm and the bare docker CLI.

Run under an X server (the xterm part needs one)::

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python benchmarks/terminal.py

Starts a private engine (own data root, socket, no iptables), builds the busybox test image
offline and starts one container. Then, alternating, ``--rounds`` times, each printing
``seq 1 N`` (N = ``--lines``, 100,000 by default: 689 KB) through a TTY exec:

1. ``docker exec -t <id> seq 1 N > /dev/null``: the transport alone (no terminal emulation);
2. ``xterm -e docker exec -it <id> seq 1 N``: a native terminal emulator, until it exits;
3. the Terminal tab (a 1280x720 window on the offscreen platform, so painting is real): 30
   key presses first (ms until the shell's echo arrives and until it is repainted), then the
   command typed into its shell, until ``flood-done`` is on its screen and nothing is left to
   parse or paint. Also: the longest gap of a 5 ms QTimer (a UI stall, wall clock) and the most
   CPU the GUI thread spent between two ticks (what is ours in a stall on a shared machine),
   the peak unparsed backlog and the process CPU.

And the parse rate of pyte itself (:class:`TermScreen`, no Qt) on the same bytes. Needs root
(a private dockerd), xterm and the docker CLI on PATH. Cleans up after itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import TickProbe, private_engine, run_on_qt_loop, usage


def cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cli_env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["DOCKER_HOST"] = endpoint
    return env


def docker_tty(endpoint: str, cid: str, lines: int) -> tuple[float, float]:
    """Wall and CPU seconds (of the CLI)."""
    docker = shutil.which("docker") or "docker"
    start, cpu0 = time.monotonic(), cpu_children()
    with open(os.devnull, "wb") as null:
        subprocess.run(
            [docker, "exec", "-t", cid, "seq", "1", str(lines)],
            stdout=null, stderr=null, check=True, env=cli_env(endpoint), timeout=600,
        )
    return time.monotonic() - start, cpu_children() - cpu0


def xterm(endpoint: str, cid: str, lines: int) -> tuple[float, float]:
    """Wall and CPU seconds (of xterm and the CLI in it)."""
    docker = shutil.which("docker") or "docker"
    start, cpu0 = time.monotonic(), cpu_children()
    subprocess.run(
        ["xterm", "-geometry", "160x45", "-e", docker, "exec", "-it", cid, "seq", "1",
         str(lines)],
        check=True, env=cli_env(endpoint), timeout=600,
    )
    return time.monotonic() - start, cpu_children() - cpu0


async def ours(client: Any, cid: str, lines: int) -> dict[str, Any]:
    from app.runner import Runner
    from app.views.container_page.terminal.tab import TerminalTab

    ctx = SimpleNamespace(client=client, runner=Runner(show_dialogs=False))
    tab = TerminalTab(ctx, cid)
    tab.resize(1280, 720)
    tab.show()
    pane = tab.open_terminal()
    assert pane is not None
    terminal = pane.terminal

    async def until(predicate: Any, limit: float = 600) -> None:
        # polled every 10 ms, and cheap first: reading the screen as text costs ~2 ms
        deadline = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the terminal did not get there")
            await asyncio.sleep(0.01)

    await until(lambda: any("/ #" in r for r in terminal.visible_text()))
    received, painted = await typing_latency(terminal)
    probe = TickProbe(lambda: terminal.backlog)
    cpu0 = usage()[0]
    start = time.monotonic()
    probe.start()
    terminal.send.emit(f"seq 1 {lines}; echo flood-done\r".encode())
    await until(lambda: terminal.idle and "flood-done" in terminal.visible_text())
    seconds = time.monotonic() - start
    probe.stop()
    used = usage()[0] - cpu0
    tab.close_tab()
    tab.deleteLater()
    await asyncio.sleep(1.5)  # the hang-up exec
    return {
        "seconds": seconds,
        "cpu": used,
        "stall_ms": max(probe.gaps),
        "cpu_gap_ms": max(probe.cpu_gaps),
        "backlog": max(probe.samples),
        "flushes": terminal.flushes,
        "bytes": terminal.bytes_fed,
        "echo_ms": received,
        "paint_ms": painted,
    }


async def spin_until(predicate: Any) -> None:
    """Poll at the loop's own speed (its timers are millisecond-coarse; this is the timing)."""
    while not predicate():  # noqa: ASYNC110 - nothing to wait on: the poll is the clock
        await asyncio.sleep(0)


async def typing_latency(terminal: Any, keys: int = 30) -> tuple[list[float], list[float]]:
    """Per key press: ms until the shell's echo arrived, and until it was repainted."""
    from PySide6.QtTest import QTest

    received: list[float] = []
    painted: list[float] = []
    for _ in range(keys):
        fed, flushes = terminal.bytes_fed, terminal.flushes
        start = time.perf_counter()
        QTest.keyClick(terminal, "a")
        await spin_until(lambda fed=fed: terminal.bytes_fed != fed)
        received.append((time.perf_counter() - start) * 1000)
        await spin_until(lambda flushes=flushes: terminal.flushes != flushes)
        painted.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.03)
    terminal.send.emit(b"\x15")  # Ctrl+U: the typed line goes
    return received, painted


#: 80-column lines with colours, for the parse rates beside seq's output.
COLOURED = (b"\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[0m plain text here " + b"x" * 40 + b"\r\n")


def parse_rate(data: bytes, plain: bool) -> float:
    """Bytes per CPU second: plain pyte (a ``pyte.Screen``) or our ``TermScreen`` on it."""
    import pyte

    from app.views.container_page.terminal.screen import TermScreen

    if plain:
        stream = pyte.ByteStream(pyte.Screen(160, 45))
        feed = stream.feed
    else:
        feed = TermScreen(160, 45).feed
    start = time.thread_time()  # CPU time: on a shared machine wall time says more about others
    for i in range(0, len(data), 4096):
        feed(data[i : i + 4096])
    return len(data) / (time.thread_time() - start)


def parse_rates(lines: int) -> str:
    seq = b"".join(b"%d\r\n" % n for n in range(1, lines + 1))
    parts = []
    for name, data in (("seq's", seq), ("80-column coloured", COLOURED * 20000)):
        pyte_rate, ours = parse_rate(data, True) / 1e3, parse_rate(data, False) / 1e3
        parts.append(f"{name} output: plain pyte {pyte_rate:,.0f} KB, TermScreen {ours:,.0f} KB")
    return "Parsed per CPU second, " + "; ".join(parts) + "."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines seq prints")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") or shutil.which("xterm") is None:
        print("Needs an X display and xterm: run under xvfb-run; apt-get install xterm")
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from engine.client import EngineClient
    from tests.support.engine_fixtures import TEST_IMAGE

    results: dict[str, list[Any]] = {"docker": [], "xterm": [], "ours": []}

    async def run() -> None:
        async with private_engine("psttm-") as engine, EngineClient(
            engine.endpoint, timeout=300
        ) as client:
            await client.connect()
            cid = await client.containers.create(
                {"Image": TEST_IMAGE, "Cmd": ["sleep", "3600"], "StopSignal": "SIGKILL"}
            )
            await client.containers.start(cid)
            try:
                for _ in range(args.rounds):
                    results["docker"].append(docker_tty(engine.endpoint, cid, args.lines))
                    results["xterm"].append(xterm(engine.endpoint, cid, args.lines))
                    results["ours"].append(await ours(client, cid, args.lines))
            finally:
                await client.containers.remove(cid, force=True)

    run_on_qt_loop(run())

    def med(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    size = results["ours"][0]["bytes"]
    print(f"| `seq 1 {args.lines:,}` through a TTY exec ({size / 1e3:,.0f} KB) | median | runs |")
    print("|---|---|---|")
    for name, label in (("docker", "`docker exec -t` > /dev/null"),
                        ("xterm", "xterm -e `docker exec -it`")):
        runs = ", ".join(f"{t:.2f} (CPU {c:.2f})" for t, c in results[name])
        print(f"| {label} | {med([t for t, _ in results[name]]):.2f} s | {runs} |")
    mine = results["ours"]
    runs = ", ".join(f"{r['seconds']:.2f} (CPU {r['cpu']:.2f})" for r in mine)
    print(f"| Terminal tab | {med([r['seconds'] for r in mine]):.2f} s | {runs} |")
    print()
    print(
        f"Terminal tab: longest 5 ms-timer gap {max(r['stall_ms'] for r in mine)} ms (wall), "
        f"most GUI-thread CPU between two ticks {max(r['cpu_gap_ms'] for r in mine):.0f} ms, "
        f"peak unparsed backlog {max(r['backlog'] for r in mine) / 1024:.0f} KiB, "
        f"{mine[0]['flushes']} repaint batches in the first run. "
        f"{parse_rates(args.lines)} "
        f"Load average at the end: {os.getloadavg()[0]:.1f}."
    )
    echo = sorted(ms for r in mine for ms in r["echo_ms"])
    paint = sorted(ms for r in mine for ms in r["paint_ms"])
    print(
        f"Typing ({len(echo)} keys): the shell's echo back after {med(echo):.1f} ms median "
        f"(p90 {echo[len(echo) * 9 // 10]:.1f}), repainted after {med(paint):.1f} ms median "
        f"(p90 {paint[len(paint) * 9 // 10]:.1f})."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
