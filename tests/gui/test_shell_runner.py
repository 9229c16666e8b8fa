"""Runner: superseded runs are cancelled, errors are reported with the engine's own message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.runner import Runner
from engine.errors import Conflict
from tests.gui.conftest import run_async

pytestmark = pytest.mark.gui


def test_same_key_cancels_older_run_and_reports_errors(qasync_loop: Any, qtbot: Any) -> None:
    runner = Runner(show_dialogs=False)
    busy: list[bool] = []
    errors: list[tuple[str, str]] = []
    done: list[int] = []
    runner.busy_changed.connect(busy.append)
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))

    async def slow(n: int) -> int:
        await asyncio.sleep(0.2)
        return n

    first = runner.run(lambda: slow(1), key="k", on_done=done.append)
    second = runner.run(lambda: slow(2), key="k", on_done=done.append)
    assert runner.in_flight("k")
    run_async(qtbot, asyncio.wait([first, second]))
    qtbot.waitUntil(lambda: busy[-1:] == [False])
    assert first.cancelled() and done == [2]
    assert busy == [True, False]

    async def fails() -> None:
        raise Conflict(409, "container name /x is already in use by container abc")

    task = runner.run(fails, title="Rename container")
    qtbot.waitUntil(task.done)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors == [("Rename container", "container name /x is already in use by container abc")]

    handled: list[BaseException] = []
    task = runner.run(fails, on_error=lambda e: handled.append(e) is None)
    qtbot.waitUntil(task.done)
    qtbot.waitUntil(lambda: bool(handled))
    assert len(errors) == 1  # the handler took it


def test_hidden_window_notifies_instead_of_dialog(qasync_loop: Any, qtbot: Any) -> None:
    runner = Runner(show_dialogs=True)
    notes: list[tuple[str, str]] = []
    runner.window_visible = lambda: False
    runner.notifier = lambda t, m: notes.append((t, m))

    async def ok() -> int:
        return 1

    task = runner.run(ok, title="Pull busybox", notify_when_hidden=True)
    qtbot.waitUntil(lambda: bool(notes))
    assert task.result() == 1 and notes == [("Pull busybox", "Finished.")]
    assert runner._open_boxes == []
