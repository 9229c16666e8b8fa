"""The app's asyncio loop: qasync's QEventLoop with one race closed and one gap filled.

qasync runs a ready socket's callback one loop turn after Qt reports the socket ready. anyio
(under httpcore) waits for a socket with ``loop.add_reader(sock, future.set_result, None)``; when
the waiting task is cancelled in between (a superseded refresh, a stats stream closed, quitting),
qasync then calls ``set_result`` on a cancelled future and the loop reports an
``InvalidStateError`` — a crash dialog for something that is not an error. Here such callbacks
are skipped once their future is done, which is what the callback's owner expects.

qasync runs ``call_soon``/``call_later`` callbacks from Qt timer events, which Qt also delivers
outside ``run_forever`` (while the app quits, in a nested event loop); such a callback found no
running loop. :func:`as_running` gives it this loop.

qasync does not install asyncio's async generator hooks either (``run_forever`` of asyncio's own
loops does): an async generator dropped mid-iteration (an httpx/httpcore response stream whose
reader was cancelled, e.g. the VM's port forwarder stopped during a restart) was finalized by the
garbage collector, which cannot await its clean-up: "async generator ignored GeneratorExit" on
stderr and a stream not closed. :class:`EventLoop` installs them while it runs, so such a
generator is closed by ``aclose()`` on this loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import qasync

_FUTURE_SETTERS = ("set_result", "set_exception")


def unless_done(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` itself, or, for a future's setter, one that does nothing once it is done."""
    future = getattr(callback, "__self__", None)
    if not isinstance(future, asyncio.Future) or callback.__name__ not in _FUTURE_SETTERS:
        return callback

    def call(*args: Any) -> None:
        if not future.done():
            callback(*args)

    return call


def as_running(loop: asyncio.AbstractEventLoop, handle: asyncio.Handle) -> asyncio.Handle:
    """``handle``, made to run with ``loop`` as the running loop when Qt fires it outside
    ``run_forever`` (Qt's own event processing: closing windows at quit, a nested dialog's loop
    in tests). Without it anyio's ``_deliver_cancellation`` (``asyncio.current_task()``) raised
    "no running event loop" as the app quit with an httpx request still cancelling."""
    callback = handle._callback  # type: ignore[attr-defined]

    def run(*args: Any) -> None:
        if asyncio.events._get_running_loop() is not None:
            callback(*args)
            return
        asyncio.events._set_running_loop(loop)
        try:
            callback(*args)
        finally:
            asyncio.events._set_running_loop(None)

    handle._callback = run  # type: ignore[attr-defined]
    return handle


class EventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop whose reader/writer callbacks tolerate a waiter that was cancelled, whose
    timed callbacks always see a running loop, and which closes dropped async generators."""

    _hooks_before: Any = None

    def _before_run_forever(self) -> None:
        super()._before_run_forever()
        self._hooks_before = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(
            firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
        )

    def _after_run_forever(self) -> None:
        self._restore_asyncgen_hooks()
        super()._after_run_forever()

    def close(self) -> None:
        self._restore_asyncgen_hooks()
        super().close()

    def _restore_asyncgen_hooks(self) -> None:
        hooks, self._hooks_before = self._hooks_before, None
        if hooks is not None and sys.get_asyncgen_hooks().finalizer == (
            self._asyncgen_finalizer_hook
        ):
            sys.set_asyncgen_hooks(*hooks)

    def _add_callback(self, handle: asyncio.Handle, delay: float = 0) -> Any:
        return super()._add_callback(as_running(self, handle), delay)

    def _add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Any:
        return super()._add_reader(fd, unless_done(callback), *args)

    def _add_writer(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Any:
        return super()._add_writer(fd, unless_done(callback), *args)
