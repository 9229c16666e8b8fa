"""Soak the qasync loop hard in a subprocess and require a clean exit.

Guards the PySide6 6.12.0 hazard (``QTimer.singleShot(0, ...)`` corrupting refcounts until the
interpreter dies with "Fatal Python error: none_dealloc"): a crash there kills the process, so it
runs in a child and the test checks its exit status and its own count of completed work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

SOAK = textwrap.dedent(
    """
    import asyncio, gc, sys
    from app.loop import EventLoop
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication
    from app.models.keyed import Column, KeyedTableModel

    N = int(sys.argv[1])
    qt_app = QApplication([])
    loop = EventLoop(qt_app)
    asyncio.set_event_loop(loop)
    counts = {"single": 0, "soon": 0, "task": 0, "signal": 0}

    class Emitter(QObject):
        ping = Signal(object)

    emitter = Emitter()
    emitter.ping.connect(lambda obj: counts.__setitem__("signal", counts["signal"] + 1))
    model = KeyedTableModel([Column("n", "N")])

    def single(i):
        counts["single"] += 1
        model.upsert(f"id{i % 500}", {"n": i})
        emitter.ping.emit(None)  # None crossing the signal boundary: the 6.12 refcount bug
        if i % 1000 == 0:
            gc.collect()

    def soon(i):
        counts["soon"] += 1

    async def task(i):
        await asyncio.sleep(0)
        counts["task"] += 1
        return None

    async def main():
        for i in range(N):
            QTimer.singleShot(0, lambda i=i: single(i))
            loop.call_soon(soon, i)
            if i % 4 == 0:
                asyncio.ensure_future(task(i))
            if i % 200 == 0:
                await asyncio.sleep(0)
        while counts["single"] < N or counts["soon"] < N or counts["task"] < N // 4:
            await asyncio.sleep(0.01)

    with loop:
        loop.run_until_complete(main())
    print("done", counts["single"], counts["soon"], counts["task"], counts["signal"], len(model))
    """
)


def test_qasync_loop_survives_a_soak_and_exits_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "soak.py"
    script.write_text(SOAK)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    n = 20000
    result = subprocess.run(
        [sys.executable, str(script), str(n)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "none_dealloc" not in result.stderr
    assert result.stdout.split() == ["done", str(n), str(n), str(n // 4), str(n), "500"]
