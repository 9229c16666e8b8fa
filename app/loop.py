"""The app's asyncio loop: qasync's QEventLoop with one race closed.

qasync runs a ready socket's callback one loop turn after Qt reports the socket ready. anyio
(under httpcore) waits for a socket with ``loop.add_reader(sock, future.set_result, None)``; when
the waiting task is cancelled in between (a superseded refresh, a stats stream closed, quitting),
qasync then calls ``set_result`` on a cancelled future and the loop reports an
``InvalidStateError`` — a crash dialog for something that is not an error. Here such callbacks
are skipped once their future is done, which is what the callback's owner expects.
"""

from __future__ import annotations

import asyncio
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


class EventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop whose reader/writer callbacks tolerate a waiter that was cancelled."""

    def _add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Any:
        return super()._add_reader(fd, unless_done(callback), *args)

    def _add_writer(self, fd: Any, callback: Callable[..., Any], *args: Any) -> Any:
        return super()._add_writer(fd, unless_done(callback), *args)
