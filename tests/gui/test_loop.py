"""The app's event loop ignores a socket becoming ready after its waiter was cancelled."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import qasync

from app.loop import EventLoop, unless_done

pytestmark = [pytest.mark.gui]


def _ready_after_cancel(loop: asyncio.AbstractEventLoop, qtbot: Any) -> list[dict[str, Any]]:
    """anyio's wait pattern, with the waiter cancelled once the socket is already readable."""
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _lp, context: reported.append(context))
    r, w = socket.socketpair()
    try:
        future = loop.create_future()
        loop.add_reader(r.fileno(), future.set_result, None)
        w.send(b"x")
        # let Qt see the socket ready (qasync queues the callback), then cancel the waiter
        qtbot.waitUntil(lambda: r.fileno() in loop._read_notifiers, timeout=1000)  # type: ignore[attr-defined]
        qtbot.wait(50)
        future.cancel()
        qtbot.wait(100)
        loop.remove_reader(r.fileno())
    finally:
        r.close()
        w.close()
    return reported


def test_cancelled_waiter_is_not_reported(qapp: Any, qtbot: Any) -> None:
    loop = EventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        assert _ready_after_cancel(loop, qtbot) == []
    finally:
        asyncio.set_event_loop(None)


def test_plain_qasync_reports_it(qapp: Any, qtbot: Any) -> None:
    # the race this module exists for: qasync itself calls set_result on the cancelled future
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        reported = _ready_after_cancel(loop, qtbot)
    finally:
        asyncio.set_event_loop(None)
    assert any(isinstance(c.get("exception"), asyncio.InvalidStateError) for c in reported)


def _callback_outside_run_forever(loop: Any, qtbot: Any) -> tuple[list[Any], list[Any]]:
    """anyio's _deliver_cancellation pattern: a call_soon callback asking for the current task,
    fired by Qt while the loop is not in run_forever (as when the app quits)."""
    reported: list[dict[str, Any]] = []
    seen: list[Any] = []
    loop.set_exception_handler(lambda _lp, context: reported.append(context))
    loop.call_soon(lambda: seen.append(asyncio.current_task()))
    outer = asyncio.events._get_running_loop()  # the test session's own loop, if any
    asyncio.events._set_running_loop(None)
    try:
        qtbot.wait(50)
        assert asyncio.events._get_running_loop() is None  # put back afterwards
    finally:
        asyncio.events._set_running_loop(outer)
    return seen, reported


def test_timed_callbacks_fired_by_qt_see_the_running_loop(qapp: Any, qtbot: Any) -> None:
    loop = EventLoop(qapp)
    try:
        seen, reported = _callback_outside_run_forever(loop, qtbot)
        assert reported == [] and seen == [None]
    finally:
        loop.close()


def test_plain_qasync_runs_them_without_a_loop(qapp: Any, qtbot: Any) -> None:
    loop = qasync.QEventLoop(qapp)
    try:
        seen, reported = _callback_outside_run_forever(loop, qtbot)
    finally:
        loop.close()
    assert seen == []
    assert any(isinstance(c.get("exception"), RuntimeError) for c in reported), reported


def test_unless_done_wraps_only_future_setters() -> None:
    loop = asyncio.new_event_loop()
    try:
        future = loop.create_future()
        wrapped = unless_done(future.set_result)
        future.cancel()
        wrapped(None)  # no InvalidStateError
        assert future.cancelled()
        plain = print
        assert unless_done(plain) is plain
    finally:
        loop.close()


def _drop_a_stream_midway(loop: Any, qtbot: Any) -> tuple[list[str], list[Any]]:
    """A reader cancelled inside ``async for`` over a stream whose clean-up awaits (as httpcore's
    response streams do): what closed the stream, and what reached ``sys.unraisablehook``."""
    import gc
    import sys

    closed: list[str] = []
    unraisable: list[Any] = []

    async def stream() -> Any:
        try:
            while True:
                yield 1
        finally:
            await asyncio.sleep(0)  # an awaiting clean-up: only aclose() on a loop can run it
            closed.append("closed")

    async def reader() -> None:
        async for _ in stream():
            await asyncio.sleep(30)

    hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        task = loop.create_task(reader())
        qtbot.wait(50)
        task.cancel()
        qtbot.waitUntil(task.done, timeout=1000)
        del task
        gc.collect()
        qtbot.wait(100)
    finally:
        sys.unraisablehook = hook
    return closed, unraisable


def test_a_stream_dropped_midway_is_closed_on_the_loop(qapp: Any, qtbot: Any) -> None:
    import sys

    sys.set_asyncgen_hooks(firstiter=None, finalizer=None)  # no other loop's hooks
    loop = EventLoop(qapp, already_running=True)
    try:
        assert _drop_a_stream_midway(loop, qtbot) == (["closed"], [])
    finally:
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # what qasync's run_forever does on exit
        loop.close()
    assert sys.get_asyncgen_hooks() == (None, None)  # put back as the loop closed


def test_plain_qasync_leaves_it_to_the_garbage_collector(qapp: Any, qtbot: Any) -> None:
    import sys

    sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
    loop = qasync.QEventLoop(qapp, already_running=True)
    try:
        closed, unraisable = _drop_a_stream_midway(loop, qtbot)
    finally:
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # what qasync's run_forever does on exit
        loop.close()
    assert closed == []
    assert any("ignored GeneratorExit" in str(u.exc_value) for u in unraisable), unraisable
