"""What several benchmarks do alike: a private engine, the app's loop, waiting, measuring, docs.

Data flow: a benchmark's ``main`` parses its flags and hands its top coroutine to
:func:`run_on_qt_loop` (GUI benchmarks: a ``QApplication`` and the app's own qasync
``EventLoop``, as in the app) or to ``asyncio.run``. Inside, :func:`private_engine` starts a
``NativeEngine`` in a folder of its own under /tmp (own data root, socket, bridge; iptables off)
with the busybox test image built, and stops it and deletes the folder on the way out, whatever
happened. :func:`wait_until` polls a condition on the loop; :func:`watch_running` records, for
each container, the engine's start-event time and the moment the Containers view's model says
"running" (the event -> row latency). :func:`usage` reads this process' CPU time and context
switches; :func:`idle_usage` lets the loop run and says what the process used meanwhile;
:class:`TickProbe` is a 5 ms Qt timer on the GUI thread that records what happened between two
of its ticks (wall ms, this thread's CPU ms, one sampled value), a stall meter. At
the end :func:`report_section` prints the benchmark's section and, with ``--write``,
:func:`write_doc_section` replaces that ``## `` section of docs/benchmarks.md atomically (other
sections are untouched).

Qt and the engine are imported inside the functions that need them, so the benchmarks that time
other processes (credential_get, package) import neither.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def usage() -> tuple[float, int]:
    """This process' CPU seconds (user + system, all threads) and context switches so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_nvcsw + r.ru_nivcsw


def write_doc_section(title: str, body: str) -> None:
    """Replace the ``## title`` section of docs/benchmarks.md with ``body`` (or append it).

    The file is re-read right before the edit (others edit it too) and replaced atomically.
    """
    title = title.removeprefix("## ")
    text = DOC.read_text(encoding="utf-8")
    block = f"## {title}\n\n{body}"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + block
    tmp = DOC.with_name(f".{DOC.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, DOC)


async def idle_usage(seconds: float) -> dict[str, float]:
    """Let the loop run ``seconds``; what this process used meanwhile (CPU, switches, peak RSS)."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.sleep(seconds)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    wall = t1 - t0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    switches = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw)
    return {
        "seconds": wall,
        "cpu_percent": 100 * cpu / wall,
        "switches_per_s": switches / wall,
        "rss_mib": r1.ru_maxrss / 1024,
    }


def report_section(title: str, body: str, write: bool) -> None:
    """Print a benchmark's section; with ``--write`` also put it into docs/benchmarks.md."""
    print()
    print(body)
    if write:
        write_doc_section(title, body)


async def wait_until(pred: Callable[[], Any], limit: float = 120.0, poll: float = 0.005) -> None:
    """Poll ``pred`` every ``poll`` seconds until it is true; TimeoutError after ``limit``."""
    end = time.monotonic() + limit
    while not pred():
        if time.monotonic() > end:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(poll)


def run_on_qt_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on the app's qasync loop (a QApplication that outlives its windows)."""
    from PySide6.QtWidgets import QApplication

    from app.loop import EventLoop

    qt_app = QApplication.instance() or QApplication([])
    assert isinstance(qt_app, QApplication)
    qt_app.setQuitOnLastWindowClosed(False)
    loop = EventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(main)


@asynccontextmanager
async def private_engine(prefix: str) -> AsyncIterator[Any]:
    """A started ``NativeEngine`` of our own with the test image; stopped and removed after."""
    from engine.lifecycle import EnginePaths, NativeEngine
    from tests.support.engine_fixtures import TEST_IMAGE, build_image, busybox_context

    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    try:
        await engine.start()
        await build_image(engine.endpoint, busybox_context(), TEST_IMAGE)
        yield engine
    finally:
        await engine.stop(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def watch_running(ctx: Any, view: Any, ids: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Start recording event -> row for ``ids`` on an open Containers view.

    Returns two dicts that fill as it happens: the engine's time of each container's start
    event, and the wall time at which the view's model first said "running" for it.
    """
    event_time: dict[str, float] = {}
    seen: dict[str, float] = {}

    def on_event(ev: Any) -> None:
        if ev.type == "container" and ev.action == "start":
            event_time.setdefault(ev.actor_id, ev.time_nano / 1e9)

    def on_change(*_a: Any) -> None:
        now = time.time()
        for cid in ids:
            if cid not in seen and (view.model.get(cid) or {}).get("state") == "running":
                seen[cid] = now

    ctx.engine_event.connect(on_event)
    view.model.dataChanged.connect(on_change)
    return event_time, seen


class TickProbe:
    """A Qt timer ticking every ``interval`` ms on this (GUI) thread, recording at each tick.

    ``gaps``: wall-clock ms since the last tick (a stall shows as a long gap); ``cpu_gaps``: the
    CPU ms this thread spent meanwhile (what is ours in a stall on a shared machine);
    ``samples``: ``sample()`` at the tick (a backlog, say). Made inside a running QApplication.
    """

    def __init__(self, sample: Callable[[], int], interval: int = 5) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.gaps: list[int] = []
        self.cpu_gaps: list[float] = []
        self.samples: list[int] = []
        self._sample = sample
        self._clock = QElapsedTimer()
        self._cpu = time.thread_time()
        self._timer = QTimer()
        self._timer.setInterval(interval)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.gaps.append(self._clock.restart())
        now = time.thread_time()
        self.cpu_gaps.append((now - self._cpu) * 1000)
        self._cpu = now
        self.samples.append(self._sample())

    def start(self) -> None:
        self._cpu = time.thread_time()
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
