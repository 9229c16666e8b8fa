"""A log flood end to end through the Containers view: click the row, the Logs tab keeps up.

A real container writes hundreds of thousands of lines as fast as it can, then one unique line,
and exits. The pane is watched on every change of its block count (never above its cap), shows
the skipped-lines marker, and shows the final line soon after the exit.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]

FLOOD_LINES = 600_000


def test_a_flood_through_the_view_stays_capped_and_ends_on_the_last_line(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    last = f"LAST-{uuid.uuid4().hex}"
    cid = containers.create(
        "flood",
        cmd=["sh", "-c", f"sleep 2; yes flood-line | head -n {FLOOD_LINES}; echo {last}"],
    )
    view = shown_containers_view(qtbot, app_ctx, (1100, 700), active_within=10, synced_within=30)
    view.search.setText(containers.name("flood"))
    wait_for(qtbot, lambda: cid in view.model and view.proxy.rowCount() == 1, timeout=30)

    # a user's click on the row, then Enter: the details open on the Logs tab of that container
    index = view.proxy.index(0, 0)
    rect = view.tree.visualRect(index)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_ids() == [cid]
    # the toolbar's details button opens the pane (Enter opens the container page)
    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: view.details.isVisible() and view.details.container_id == cid)
    logs = view.details.logs
    assert view.details.tabs.currentWidget() is logs
    # not started yet: no output, and the pane says so instead of being a blank box
    assert logs.toPlainText() == "" and logs.placeholderText().startswith("No output")

    most = [0]
    logs.blockCountChanged.connect(lambda n: most.__setitem__(0, max(most[0], n)))
    start = view.toolbar.widgetForAction(view.actions_by_name["start"])
    wait_for(qtbot, start.isEnabled)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "lines skipped" in logs.toPlainText(), timeout=120)
    assert logs.blockCount() <= logs.cap and most[0] <= logs.cap

    run_async(qtbot, app_ctx.client.containers.wait(cid), timeout=300)
    exited = time.monotonic()
    wait_for(qtbot, lambda: last in logs.toPlainText(), timeout=30)
    took = time.monotonic() - exited
    text = logs.toPlainText()
    assert text.rstrip("\n").endswith(last), text[-200:]
    assert "lines skipped" in text and "flood-line" in text
    assert most[0] <= logs.cap and logs.blockCount() <= logs.cap
    assert took < 30
    # the flood is over: the pane's flush timer stops, nothing keeps the app busy
    wait_for(qtbot, lambda: not logs._timer.isActive(), timeout=5)
    print(f"last line {took:.2f} s after the exit; most blocks {most[0]}")
