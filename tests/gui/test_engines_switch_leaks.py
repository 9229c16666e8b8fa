"""Switching the whole app between three real engines leaks no task, socket or thread.

Three engines: the session's private engine (A) and two more private ``dockerd`` started here
(B, C), each with a running container that prints a line every 0.2 s. On each engine the test
opens what holds engine resources — the Containers view with stats for its visible rows, a
merged logs window following the container, and the container's page on its Stats tab (a raw
stats socket on the monitor thread) — waits until logs and stats really arrive, and switches
to the next engine through ``AppContext.switch_engine``. After A→B→C→A the counts of
``asyncio.all_tasks``, sockets in ``/proc/self/fd`` and ``threading.enumerate`` are the ones
measured on A before anything was opened; every old client is closed, every page and window of
the old engine is gone and no row of it is left in the model.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import shiboken6

from app.main_window import MainWindow
from app.settings import Settings
from engine.lifecycle import EnginePaths, ExternalEngine, NativeEngine
from tests.gui.conftest import run_async, wait_for
from tests.support.engine_fixtures import TEST_IMAGE, import_image

pytestmark = [pytest.mark.gui, pytest.mark.engine]

TICKER = ["sh", "-c", "while :; do echo tick; sleep 0.2; done"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def extra_engines() -> AsyncIterator[list[str]]:
    """Two more private engines (own roots, sockets, bridges), with the test image imported."""
    roots = [Path(tempfile.mkdtemp(prefix="pse-", dir="/tmp")) for _ in range(2)]
    engines = [NativeEngine(EnginePaths.at(r), iptables=False, start_timeout=60) for r in roots]
    try:
        await asyncio.gather(*(e.start() for e in engines))
        await asyncio.gather(*(import_image(e.endpoint, TEST_IMAGE) for e in engines))
        yield [e.endpoint for e in engines]
    finally:
        await asyncio.gather(*(e.stop(timeout=20) for e in engines), return_exceptions=True)
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)


def counts(loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    """Live tasks on the loop, open sockets of this process, live threads."""
    sockets = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                sockets += 1
        except OSError:  # closed while listing
            pass
    tasks = sum(1 for t in asyncio.all_tasks(loop) if not t.done())
    return {"tasks": tasks, "sockets": sockets, "threads": len(threading.enumerate())}


def no_more_than(baseline: dict[str, int], now: dict[str, int]) -> bool:
    """Nothing left behind: no count above the baseline. A pooled connection the baseline held
    may have expired meanwhile (httpx closes idle ones after 5 s), so fewer is fine."""
    return all(now[key] <= value for key, value in baseline.items())


def _run_ticker(ctx: Any, qtbot: Any, name: str) -> str:
    async def _go() -> str:
        cid = await ctx.client.containers.create(
            {"Image": TEST_IMAGE, "Cmd": TICKER, "StopSignal": "SIGKILL"}, name=name
        )
        await ctx.client.containers.start(cid)
        return str(cid)

    return run_async(qtbot, _go())


def _open_everything(window: MainWindow, qtbot: Any, cid: str) -> tuple[Any, Any]:
    """Merged logs window + the container page with a shell in its Terminal tab (an exec
    session), then on Stats; waits for real logs, a running shell and stats."""
    view: Any = window.views["containers"]
    wait_for(qtbot, lambda: cid in view.model)
    logs = view.logs_together([cid])
    seen = logs.buffer.received
    wait_for(qtbot, lambda: logs.buffer.received > seen + 2)  # the stream is live
    page = view.open_page(cid)
    page.show_tab("Terminal")
    terminal = page.tab("Terminal")
    wait_for(qtbot, lambda: not terminal._state_message and page.header.isVisible())
    terminal.shell.setCurrentText("sh")
    pane = terminal.open_terminal()
    assert pane is not None
    wait_for(qtbot, lambda: pane.running, timeout=20)
    page.shell_pane = pane  # the test checks it ended with the switch
    page.show_tab("Stats")
    stats = page.tab("Stats")
    wait_for(qtbot, lambda: stats.streaming and stats.samples > 0, timeout=20)
    return logs, page


def _shells(qtbot: Any, endpoint: str, cid: str) -> list[str]:
    """Lines of ``ps`` in the container for a bare ``sh`` (a terminal's shell; the ticker is
    ``sh -c …``), read straight from that engine."""
    from engine.client import EngineClient

    async def _ps() -> str:
        async with EngineClient(endpoint) as client:
            _code, out, _err = await client.execs.run(cid, ["ps", "-o", "pid,args"])
            return out

    lines = run_async(qtbot, _ps()).splitlines()[1:]
    return [line for line in lines if line.split(None, 1)[1:] == ["sh"]]


@pytest.fixture
def window(app_ctx: Any, qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    win = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win


def test_switching_three_engines_with_logs_and_stats_open_leaks_nothing(
    app_ctx: Any, qtbot: Any, window: MainWindow, extra_engines: list[str], test_image: str,
    engine_endpoint: str, qasync_loop: Any,
) -> None:
    ctx = app_ctx
    view: Any = window.views["containers"]
    endpoints = [engine_endpoint, *extra_engines]
    engines = {engine_endpoint: ctx.engine}
    engines.update({ep: ExternalEngine(ep) for ep in extra_engines})
    made: dict[str, str] = {}
    clients: list[Any] = []

    def switch(endpoint: str) -> None:
        clients.append(ctx.client)
        run_async(qtbot, ctx.switch_engine(engines[endpoint], attached=True), timeout=60)
        wait_for(qtbot, lambda: ctx.client is not None and view.store.synced_once, timeout=30)

    try:
        # one container per engine, made while the app is on that engine
        for endpoint in endpoints:
            if endpoint != engine_endpoint:
                switch(endpoint)
            made[endpoint] = _run_ticker(ctx, qtbot, f"pst-switch-{len(made)}")
        switch(engine_endpoint)
        wait_for(qtbot, lambda: made[engine_endpoint] in view.model)
        qtbot.wait(1500)  # the list's own stats stream settles
        baseline = counts(qasync_loop)

        for endpoint in [*endpoints[1:], engine_endpoint]:
            here = next(e for e in endpoints if ctx.engine is engines[e])
            logs, page = _open_everything(window, qtbot, made[here])
            stats_thread = page.tab("Stats")._source._thread
            session = page.shell_pane.session
            switch(endpoint)
            # nothing of the previous engine is left: its page, its logs window, its rows,
            # its exec session
            assert view.page is None and not (shiboken6.isValid(logs) and logs.isVisible())
            assert not session.running and session._closed
            # ...and the shell it ran in the old engine's container was hung up, not left
            assert _shells(qtbot, here, made[here]) == [], "the terminal's sh is still running"
            assert not stats_thread.is_alive()
            assert made[here] not in view.model
            assert made[endpoint] in view.model
            assert clients[-1]._http.is_closed

        # back on A with the list shown: its stats stream comes back, and nothing else
        wait_for(qtbot, lambda: view.store._source is not None)
        qtbot.wait(1500)

        def settled() -> bool:
            return no_more_than(baseline, counts(qasync_loop))

        try:
            wait_for(qtbot, settled, timeout=15)
        finally:
            print("baseline", baseline, "after A->B->C->A", counts(qasync_loop))
        assert all(c._http.is_closed for c in clients)
    finally:
        for endpoint, cid in made.items():
            async def _rm(ep: str = endpoint, c: str = cid) -> None:
                from engine.client import EngineClient

                async with EngineClient(ep) as client:
                    await client.containers.remove(c, force=True)

            run_async(qtbot, _rm(), timeout=60)


def test_switching_unix_tls_and_ssh_engines_through_the_switcher_leaks_nothing(
    app_ctx: Any, qtbot: Any, window: MainWindow, extra_engines: list[str], test_image: str,
    engine_endpoint: str, qasync_loop: Any, tls_engine: Any, sshd_server: Any,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same, through the footer's switcher: a unix engine, the TLS engine and an ssh engine
    (``dial-stdio`` to the session engine); back on A no ssh process is left either."""
    from engine.engines import add_engine
    from tests.support.remote_engines import ssh_children

    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PORTSIDE_SSH_CONFIG", str(sshd_server.config))
    ctx = app_ctx
    view: Any = window.views["containers"]
    tls_unix = f"unix://{tls_engine.socket}"
    run_async(qtbot, import_image(tls_unix, TEST_IMAGE), timeout=120)
    ids = {
        "unix": add_engine("Second unix", extra_engines[0]).id,
        "tls": add_engine("TLS", tls_engine.url, tls_engine.pki.client()).id,
        "ssh": add_engine("SSH", sshd_server.url).id,
    }
    switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
    switcher.reload()
    home = switcher.current_id
    # where each engine's ticker is made (the ssh engine IS the session engine)
    direct = {home: engine_endpoint, ids["unix"]: extra_engines[0], ids["tls"]: tls_unix,
              ids["ssh"]: engine_endpoint}
    made: dict[str, str] = {}

    async def _ticker(endpoint: str, name: str) -> str:
        from engine.client import EngineClient

        async with EngineClient(endpoint) as client:
            cid = await client.containers.create(
                {"Image": TEST_IMAGE, "Cmd": TICKER, "StopSignal": "SIGKILL",
                 "HostConfig": {"NetworkMode": "none"}}, name=name)
            await client.containers.start(cid)
            return str(cid)

    for n, endpoint in enumerate(dict.fromkeys(direct.values())):
        made[endpoint] = run_async(qtbot, _ticker(endpoint, f"pst-sw2-{n}"), timeout=60)
    clients: list[Any] = []

    def switch(entry_id: str) -> None:
        clients.append(ctx.client)
        # the open terminal is work in flight: the switch asks first (app/engines/busy.py)
        from tests.gui.test_engines_switch_busy import on_question

        asked = on_question(lambda box: box.stop_button.click())
        task = switcher.switch_to(entry_id)
        assert len(asked) == 1 and task is not None
        wait_for(qtbot, task.done, timeout=60)
        task.result()
        wait_for(qtbot, lambda: ctx.client is not None and view.store.synced_once, timeout=30)

    try:
        wait_for(qtbot, lambda: made[engine_endpoint] in view.model)
        qtbot.wait(1500)
        baseline = counts(qasync_loop)
        here = home
        for entry_id in (ids["unix"], ids["tls"], ids["ssh"], home):
            logs, page = _open_everything(window, qtbot, made[direct[here]])
            source = page.tab("Stats")._source
            switch(entry_id)
            assert view.page is None and not (shiboken6.isValid(logs) and logs.isVisible())
            thread = getattr(source, "_thread", None)
            assert thread is None or not thread.is_alive()
            if direct[here] != direct[entry_id]:
                assert made[direct[here]] not in view.model
            assert made[direct[entry_id]] in view.model
            assert clients[-1]._http.is_closed
            here = entry_id
        wait_for(qtbot, lambda: view.store._source is not None)
        qtbot.wait(1500)
        try:
            wait_for(
                qtbot,
                lambda: no_more_than(baseline, counts(qasync_loop)) and not ssh_children(),
                timeout=15,
            )
        finally:
            print("baseline", baseline, "after unix->TLS->ssh->A", counts(qasync_loop),
                  "ssh children", ssh_children())
    finally:
        for endpoint, cid in made.items():
            async def _rm(ep: str = endpoint, c: str = cid) -> None:
                from engine.client import EngineClient

                async with EngineClient(ep) as client:
                    await client.containers.remove(c, force=True)

            run_async(qtbot, _rm(), timeout=60)
