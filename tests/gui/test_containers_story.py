"""The Containers view says what happens, driven by real keys and clicks on the real engine.

Transient states ("stopping…"), a start that exits at once, Compose group actions in parallel,
details that follow the selection, Ctrl+F inside the details, a log flood, the empty state,
accessible names.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolButton

from app.models.containers import COL, GROUP_PREFIX
from app.views.containers import ContainersView
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]

# sleep as PID 1 ignores SIGTERM: a stop waits the whole StopTimeout, then kills (exit 137)
SLOW_STOP = {"StopSignal": "SIGTERM", "StopTimeout": 3}


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> ContainersView:
    v = shown_containers_view(qtbot, app_ctx, (1100, 700))  # active: keys go to its focus
    v.tree.setFocus()
    return v


def test_stop_shows_stopping_until_the_engine_says_exited_137(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    cid = containers.create("slow", start=True, extra=SLOW_STOP)
    view.search.setText(containers.name("slow"))
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("state") == "running")
    assert view.model.state_text(cid).startswith("Up ")
    view.select([cid])
    # the toolbar's details button opens the pane (Enter opens the container page)
    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: view.details.container_id == cid and view.details._state_field)
    # a running container's details say since when, which does not age behind the row's "Up …"
    wait_for(qtbot, lambda: view.details._state_field.text().startswith("running since "))
    view.actions_by_name["stop"].trigger()
    assert view.model.state_text(cid) == "stopping…"
    time.sleep(1.2)  # events (kill) arrive meanwhile; the row must keep saying stopping
    wait_for(qtbot, lambda: view.details._state_field.text() == "stopping…", timeout=2)
    assert view.model.state_text(cid) == "stopping…"
    wait_for(qtbot, lambda: view.model.state_text(cid) == "exited (137)", timeout=15)
    # the details pane is never older than the row
    wait_for(qtbot, lambda: view.details._state_field.text() == "exited (137)", timeout=5)
    assert f"Stopped {containers.name('slow')}." == view.status.text()


def test_a_start_that_exits_at_once_says_why_and_opens_the_logs(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    cid = containers.create("crash", cmd=["sh", "-c", "echo boom-line-1; echo boom-line-2; exit 3"])
    view.search.setText(containers.name("crash"))
    wait_for(qtbot, lambda: cid in view.model)
    view.select([cid])
    view.actions_by_name["start"].trigger()
    wait_for(qtbot, lambda: view.notice.isVisible(), timeout=15)
    text = view.notice.text.text()
    assert containers.name("crash") in text and "exit code 3" in text
    assert "boom-line-2" in text and cid not in text
    qtbot.mouseClick(view.notice.action, Qt.MouseButton.LeftButton)
    assert view.details.isVisible() and view.details.container_id == cid
    assert view.details.tabs.currentWidget() is view.details.logs
    wait_for(qtbot, lambda: "boom-line-2" in view.details.logs.toPlainText())
    assert view.model.state_text(cid) == "exited (3)"


def test_compose_stop_all_runs_the_services_in_parallel(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    project = containers.prefix + "-par"
    label = {"com.docker.compose.project": project}
    a = containers.create("a", labels=label, start=True, extra=SLOW_STOP)
    b = containers.create("b", labels=label, start=True, extra=SLOW_STOP)
    key = GROUP_PREFIX + project
    wait_for(qtbot, lambda: view.model.get(key) and view.model.get(key)["state"] == "running")
    started = time.monotonic()
    task = view.group_action(key, "stop")
    assert task is not None
    assert view.model.state_text(a) == view.model.state_text(b) == "stopping…"
    wait_for(qtbot, task.done, timeout=20)
    took = time.monotonic() - started
    assert took < 5.5, f"two 3 s stops took {took:.1f} s: not in parallel"
    wait_for(qtbot, lambda: view.model.get(key)["state"] == "exited")
    assert "Stopped" in view.status.text() and containers.name("a") in view.status.text()


def test_details_follow_the_selection_by_arrow_keys(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    one = containers.create("one", cmd=["sh", "-c", "echo from-one; sleep 300"], start=True)
    two = containers.create("two", cmd=["sh", "-c", "echo from-two; sleep 300"], start=True)
    view.search.setText(containers.prefix)
    wait_for(qtbot, lambda: one in view.model and two in view.model)
    view.select([one])
    view.tree.setFocus()
    # the toolbar's details button opens the pane (Enter opens the container page)
    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "from-one" in view.details.logs.toPlainText())
    qtbot.keyClick(view.tree, Qt.Key.Key_Down)
    assert view.selected_ids() == [two]
    assert view.details.container_id == two
    wait_for(qtbot, lambda: view.details.title.text() == containers.name("two"))
    wait_for(qtbot, lambda: "from-two" in view.details.logs.toPlainText())
    assert "from-one" not in view.details.logs.toPlainText()


def test_accessible_names_say_what_each_control_is(view: ContainersView) -> None:
    assert view.tree.accessibleName() == "Containers"
    assert view.search.accessibleName() == "Search containers"
    icons = view.search.findChildren(QToolButton)
    assert any(b.accessibleName() == "Search containers" for b in icons)
    assert view.details.close_button.accessibleName() == "Close details"
    assert view.details.logs.accessibleName() == "Logs"
    assert view.details.raw.accessibleName() == "Inspect (JSON)"


def test_empty_state_appears_when_the_last_row_goes_and_offers_next_steps(
    view: ContainersView, qtbot: Any
) -> None:
    view.model.clear()  # as if the engine had no containers (other tests share the engine)
    assert view.empty_state.isVisible() and not view.splitter.isVisible()
    button = view.empty_state.buttons["pull"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = view._dialogs[-1]
    assert dialog.isVisible()
    dialog.close()
    assert "run" in view.empty_state.buttons


def test_state_column_and_port_tooltip(view: ContainersView, containers: Any, qtbot: Any) -> None:
    cid = containers.create(
        "web",
        start=True,
        extra={
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "0"}]}},
        },
    )
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("state") == "running")
    port = view.model.get(cid)["ports"][0]["public_port"]
    tip = view.model.index_for(cid, COL["ports_text"]).data(Qt.ItemDataRole.ToolTipRole)
    assert f"http://127.0.0.1:{port}" in tip
    assert view.model.state_text(cid).startswith("Up ")


def test_ctrl_f_in_the_logs_searches_the_logs_not_the_list(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    cid = containers.create(
        "finder", cmd=["sh", "-c", "echo ok; echo ERROR disk full; echo ok; sleep 300"], start=True
    )
    view.search.setText(containers.name("finder"))
    wait_for(qtbot, lambda: cid in view.model)
    view.select([cid])
    view.activateWindow()
    wait_for(qtbot, view.isActiveWindow, timeout=5)
    view.tree.setFocus()
    # the toolbar's details button opens the pane (Enter opens the container page)
    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    logs = view.details.logs
    wait_for(qtbot, lambda: "ERROR disk full" in logs.toPlainText())
    rows_before = view.proxy.rowCount()
    logs.setFocus()
    qtbot.keyClick(logs, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = view.details.find_bar
    assert bar.isVisible() and QApplication.focusWidget() is bar.field
    qtbot.keyClicks(bar.field, "ERROR")
    assert view.search.text() == containers.name("finder")  # the list's search is untouched
    assert view.proxy.rowCount() == rows_before
    assert logs.textCursor().selectedText() == "ERROR"
    assert bar.result.text() == "1 match"
    # Delete in the find field edits the field; it does not remove the container
    qtbot.keyClick(bar.field, Qt.Key.Key_Delete)
    assert cid in view.model and view.model.pending(cid) is None
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)  # closes the find bar, not the details
    assert not bar.isVisible() and view.details.isVisible()
    # on the list, Ctrl+F still goes to the list's search
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is view.search
    view.details.close_panel()


def test_log_flood_drops_behind_a_marker_and_catches_up(
    containers: Any, qtbot: Any, app_ctx: Any
) -> None:
    """The details pane's reader and pane, on a container writing 300k lines as fast as it can."""
    import asyncio

    from app.views.containers.logs import LogPane, follow_logs

    cid = containers.create(
        "flood", cmd=["sh", "-c", "sleep 1; yes line | head -n 300000; echo LAST-LINE"]
    )
    pane = LogPane()
    qtbot.addWidget(pane)
    pane.show()
    run_async(qtbot, app_ctx.client.containers.start(cid))
    task = asyncio.ensure_future(follow_logs(app_ctx.client, cid, pane, tail="all"))
    run_async(qtbot, app_ctx.client.containers.wait(cid), timeout=120)
    exited = time.monotonic()
    wait_for(qtbot, lambda: "LAST-LINE" in pane.toPlainText(), timeout=10)
    assert time.monotonic() - exited < 10
    assert pane.blockCount() <= pane.cap
    assert "lines skipped" in pane.toPlainText()
    wait_for(qtbot, task.done, timeout=5)  # the stream of a stopped container ends
    # the flood is over: the flush timer stops (nothing runs until new data arrives)
    wait_for(qtbot, lambda: not pane._timer.isActive(), timeout=2)


@pytest.mark.parametrize("width", [900, 700])  # a 900 px window; its view beside the sidebar
def test_important_columns_stay_visible_in_a_narrow_window(
    view: ContainersView, containers: Any, qtbot: Any, width: int
) -> None:
    cid = containers.create("narrow", start=True)
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("state") == "running")
    view.resize(width, 600)
    qtbot.wait(50)
    header = view.tree.header()
    viewport = view.tree.viewport().width()
    for key in ("name", "state", "cpu", "mem"):
        col = COL[key]
        right = header.sectionViewportPosition(col) + header.sectionSize(col)
        assert header.sectionViewportPosition(col) >= 0 and right <= viewport + 1, key
    assert header.sectionSize(COL["name"]) >= 100
    # in the narrow one, Created makes room for the names (it is in the details)
    assert header.isSectionHidden(COL["created"]) == (view.tree.viewport().width() < 760)
    assert not view.tree.horizontalScrollBar().isVisible()
    # the image elides in the middle (both the registry and the tag stay readable)
    delegate = view.tree.itemDelegateForColumn(COL["image"])
    assert type(delegate).__name__ == "ElideMiddleDelegate"
