"""The Stats tab against the session's real engine: live numbers, and no stream while hidden."""

from __future__ import annotations

from typing import Any

import pytest

from app.views.container_page.stats_tab import StatsTab

pytestmark = [pytest.mark.gui, pytest.mark.engine]

BUSY = ["sh", "-c", "while :; do :; done"]


def _tab(app_ctx: Any, qtbot: Any, cid: str) -> StatsTab:
    tab = StatsTab(app_ctx, cid)
    qtbot.addWidget(tab)
    tab.resize(900, 600)
    tab.show()
    qtbot.waitUntil(lambda: tab._running is not None, timeout=10000)
    return tab


def test_busy_container_shows_cpu_and_stream_stops_when_hidden(
    app_ctx: Any, qtbot: Any, containers: Any
) -> None:
    cid = containers.create("busy", cmd=BUSY, start=True)
    tab = _tab(app_ctx, qtbot, cid)
    assert not tab.streaming  # not active yet: nothing is streamed
    tab.set_active(True)
    assert tab.streaming
    source = tab._source
    # the first sample has no CPU (no previous reading); the next ones show the busy loop
    qtbot.waitUntil(
        lambda: tab.history.latest is not None and (tab.history.latest.cpu_percent or 0.0) > 5.0,
        timeout=15000,
    )
    latest = tab.history.latest
    assert latest is not None and latest.memory_used > 0 and latest.memory_limit > 0
    assert tab.labels["cpu"].text().split(" %")[0] not in ("—", "0.0")
    assert " / " in tab.labels["memory"].text()
    xs, ys = tab.history.series("cpu_percent")
    assert xs[-1] == 0.0 and ys[-1] > 5.0
    cpu_curve = tab.charts[0].curves[0]
    assert len(cpu_curve.getData()[0]) == len(tab.history)  # the chart draws the history

    tab.set_active(False)  # the page hides the tab: the stream must close
    assert not tab.streaming
    assert not source._thread.is_alive()  # the monitor's thread ended, its socket with it
    assert not source._streams
    seen = tab.samples
    qtbot.wait(2500)  # the engine samples every second: nothing may arrive now
    assert tab.samples == seen

    tab.set_active(True)  # back: a new stream, history kept
    qtbot.waitUntil(lambda: tab.samples > seen, timeout=10000)
    tab.close_tab()
    assert not tab.streaming
    tab.close_tab()  # idempotent


def test_stopped_container_says_so_and_streams_nothing(
    app_ctx: Any, qtbot: Any, containers: Any
) -> None:
    cid = containers.create("stopped", cmd=["true"])
    tab = _tab(app_ctx, qtbot, cid)
    tab.set_active(True)
    assert not tab.streaming
    assert "not running" in tab.status.text()
    assert tab.status.isVisible()
    tab.close_tab()


def test_the_page_streams_stats_only_while_the_stats_tab_is_shown(
    app_ctx: Any, qtbot: Any, containers: Any
) -> None:
    from PySide6.QtCore import Qt

    from tests.gui.conftest import wait_for
    from tests.gui.pages import click_tab, open_container_page, shown_containers_view

    view = shown_containers_view(qtbot, app_ctx)
    cid = containers.create("paged", cmd=BUSY, start=True)
    page = open_container_page(qtbot, view, cid)
    stats = page.tab("Stats")

    click_tab(qtbot, page, "Inspect")
    assert not stats.streaming
    click_tab(qtbot, page, "Stats")
    wait_for(qtbot, lambda: stats.streaming and stats.samples >= 2, timeout=15)
    click_tab(qtbot, page, "Inspect")  # another tab: the stream closes at once
    assert not stats.streaming
    click_tab(qtbot, page, "Stats")
    assert stats.streaming
    qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)  # back to the list
    assert view.page is None and not stats.streaming


def test_stats_follow_a_restart(app_ctx: Any, qtbot: Any, containers: Any) -> None:
    from tests.gui.conftest import run_async

    cid = containers.create("restarted", cmd=BUSY, start=True)
    tab = _tab(app_ctx, qtbot, cid)
    tab.set_active(True)
    qtbot.waitUntil(lambda: tab.samples >= 2, timeout=15000)
    client = app_ctx.client
    # what the page does on the die/start events: hand the tab a fresh inspect
    run_async(qtbot, client.containers.stop(cid, timeout=0))
    tab.container_changed(run_async(qtbot, client.containers.inspect(cid)))
    assert not tab.streaming and "not running" in tab.status.text()
    assert {label.text() for label in tab.labels.values()} == {"—"}  # no stale "now" values
    seen = tab.samples
    run_async(qtbot, client.containers.start(cid))
    tab.container_changed(run_async(qtbot, client.containers.inspect(cid)))
    assert tab.streaming
    qtbot.waitUntil(lambda: tab.samples >= seen + 2, timeout=15000)
    latest = tab.history.latest
    assert latest is not None and latest.cpu_percent is not None
    tab.container_changed(None)  # removed
    assert not tab.streaming and "removed" in tab.status.text()


def test_opening_a_container_page_does_not_load_the_charts_library() -> None:
    """pyqtgraph + numpy (~0.3-0.4 s of imports) load when a Stats tab is first shown."""
    import subprocess
    import sys

    code = (
        "import sys; import app.views.container_page.page, app.views.containers; "
        "print('pyqtgraph' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.split() == ["False", "False"]


def test_a_memory_limit_is_drawn_and_shown(app_ctx: Any, qtbot: Any, containers: Any) -> None:
    limit = 64 * 1024 * 1024
    cid = containers.create(
        "limited", cmd=BUSY, start=True, extra={"HostConfig": {"Memory": limit}}
    )
    tab = _tab(app_ctx, qtbot, cid)
    tab.set_active(True)
    qtbot.waitUntil(lambda: tab.samples >= 1, timeout=15000)
    memory = next(c for c in tab.charts if c.title == "Memory")
    assert memory.limit_line.isVisible() and memory.limit_line.value() == limit
    assert tab.history.latest is not None and tab.history.latest.memory_limit == limit
    assert "/ 64 MiB" in tab.labels["memory"].text()
    y_min, y_max = memory.widget.getPlotItem().viewRange()[1]
    assert y_min == 0 and y_max >= limit  # the line is in view
    tab.close_tab()


def test_a_stream_that_ends_while_running_is_opened_again(
    app_ctx: Any, qtbot: Any, containers: Any
) -> None:
    cid = containers.create("hiccup", cmd=BUSY, start=True)
    tab = _tab(app_ctx, qtbot, cid)
    tab.set_active(True)
    qtbot.waitUntil(lambda: tab.samples >= 2, timeout=15000)
    source = tab._source
    # what the monitor does when a stream fails: the target is dropped and the error kept
    source._fail(cid, RuntimeError("connection reset"))  # type: ignore[arg-type]
    assert cid not in source.targets
    seen = tab.samples
    qtbot.waitUntil(lambda: "reconnecting" in tab.status.text(), timeout=5000)
    qtbot.waitUntil(lambda: tab.samples >= seen + 2, timeout=15000)
    assert cid in source.targets and tab.status.text() == ""
    tab.close_tab()
