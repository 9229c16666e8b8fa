"""GUI test fixtures: a qasync loop driven by pytest-qt, and an AppContext on the test engine.

GUI tests are plain (sync) pytest-qt tests. ``qasync_loop`` marks a qasync ``QEventLoop`` as the
running asyncio loop for the duration of the test, so every ``qtbot.waitUntil``/``waitSignal``
(which spins the Qt event loop) also runs asyncio callbacks, tasks and socket I/O — exactly as in
the app, where Qt's loop *is* the asyncio loop. Use :func:`run_async` to await a coroutine from the
test body.

``app_ctx`` gives an :class:`app.context.AppContext` attached (as an external engine) to the
session's private engine (``engine_endpoint``), already connected. Errors the Runner would show
in a dialog are collected in ``app_ctx.reported_errors`` instead; the fixture fails the test if
any are left unexamined.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import qasync

from app.loop import EventLoop

T = TypeVar("T")


def run_async(qtbot: Any, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
    """Run ``awaitable`` on the qasync loop while pumping Qt events; return its result."""
    task = asyncio.ensure_future(awaitable)
    qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
    return task.result()


@pytest.fixture
def qasync_loop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    """A qasync loop that counts as running while the test's Qt events are processed."""
    loop = EventLoop(qapp, already_running=True)
    failures: list[dict[str, Any]] = []

    def _handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        failures.append(context)

    loop.set_exception_handler(_handler)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(Exception):
                from pytestqt.qtbot import QtBot

                QtBot(qapp).waitUntil(lambda: all(t.done() for t in pending), timeout=5000)
        for _ in range(3):
            qapp.processEvents()
        asyncio.events._set_running_loop(None)
        loop._QEventLoop__is_running = False  # what qasync's run_forever does on exit
        loop.close()
    assert not failures, f"unhandled errors on the asyncio loop: {failures!r}"


class ContainerFactory:
    """Creates containers through the context's client; removes them all afterwards."""

    def __init__(self, ctx: Any, qtbot: Any, image: str) -> None:
        self.ctx = ctx
        self.qtbot = qtbot
        self.image = image
        self.ids: list[str] = []
        self.prefix = f"pst-gui-{uuid.uuid4().hex[:6]}"

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def create(
        self,
        suffix: str,
        *,
        cmd: list[str] | None = None,
        labels: dict[str, str] | None = None,
        start: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> str:
        config: dict[str, Any] = {
            "Image": self.image,
            "Cmd": cmd or ["sleep", "300"],
            "Labels": labels or {},
            "StopSignal": "SIGKILL",
        }
        if extra:
            config.update(extra)

        async def _go() -> str:
            cid = await self.ctx.client.containers.create(config, name=self.name(suffix))
            if start:
                await self.ctx.client.containers.start(cid)
            return str(cid)

        cid = run_async(self.qtbot, _go())
        self.ids.append(cid)
        return cid

    def cleanup(self) -> None:
        client = self.ctx.client
        if client is None or not self.ids:
            return

        async def _rm() -> None:
            for cid in self.ids:
                with contextlib.suppress(Exception):
                    await client.containers.remove(cid, force=True)

        with contextlib.suppress(Exception):
            run_async(self.qtbot, _rm(), timeout=60)


@pytest.fixture
def app_ctx(qasync_loop: Any, qtbot: Any, engine_endpoint: str) -> Iterator[Any]:
    """An AppContext attached to the session engine, connected, with dialogs turned off."""
    from app.context import AppContext
    from app.runner import Runner
    from engine.lifecycle import ExternalEngine

    runner = Runner(show_dialogs=False)
    ctx = AppContext(ExternalEngine(engine_endpoint), attached=True, runner=runner)
    ctx.reported_errors = []  # type: ignore[attr-defined]
    runner.error_reported.connect(lambda t, m: ctx.reported_errors.append((t, m)))
    ctx.start()
    qtbot.waitUntil(lambda: ctx.client is not None, timeout=20000)
    try:
        yield ctx
    finally:
        errors = list(ctx.reported_errors)
        run_async(qtbot, ctx.shutdown(), timeout=20)
    assert not errors, f"the GUI reported errors: {errors!r}"


@pytest.fixture
def containers(app_ctx: Any, qtbot: Any, test_image: str) -> Iterator[ContainerFactory]:
    """Make containers on the test engine (named with a unique prefix); all removed afterwards."""
    factory = ContainerFactory(app_ctx, qtbot, test_image)
    try:
        yield factory
    finally:
        factory.cleanup()


def wait_for(qtbot: Any, predicate: Callable[[], Any], timeout: float = 15.0) -> None:
    """``qtbot.waitUntil`` with seconds and a bool-ish predicate."""
    qtbot.waitUntil(lambda: bool(predicate()), timeout=int(timeout * 1000))


OFFSCREEN_NOISE = (
    # The offscreen platform says this on every top-level show(); it is not a problem of ours.
    r"This plugin does not support propagateSizeHints\(\)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/gui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))
