"""The merged logs view: opened from the Containers view on a selection, lines of two real
containers interleaved in time order, tagged and coloured per container, filterable by container.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.views.merged_logs.merge import MergedBuffer
from app.views.merged_logs.window import TAG_COLOURS, MergedLogsWindow
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_late_batches_are_merged_in_time_order_within_the_cap() -> None:
    buf = MergedBuffer(cap=4)
    buf.add([("t1", 1, "a1", 0), ("t3", 1, "a3", 0)])
    assert buf.take() == ([("t1", 1, "a1", 0), ("t3", 1, "a3", 0)], False)
    buf.add([("t2", 1, "b2", 1), ("t4", 1, "b4", 1), ("t5", 1, "b5", 1)])  # starts earlier
    lines, restart = buf.take()
    assert restart  # the view starts over with the merged store, the oldest line dropped
    assert [line[2] for line in lines] == ["b2", "a3", "b4", "b5"] == [ln[2] for ln in buf.lines]


def log_lines(window: MergedLogsWindow) -> list[str]:
    return [ln for ln in window.view.toPlainText().splitlines() if ln and "— " not in ln]


def test_two_containers_interleave_in_time_order_and_filter_by_container(
    app_ctx: Any, containers: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script_a = "echo a1; sleep 1.5; echo a2; sleep 1.5; echo a3"
    script_b = "sleep 0.75; echo b1; sleep 1.5; echo b2 >&2; sleep 1.5; echo b3"
    a = containers.create("merge-a", cmd=["sh", "-c", script_a])
    b = containers.create("merge-b", cmd=["sh", "-c", script_b])

    async def start_both() -> None:
        await app_ctx.client.containers.start(a)
        await app_ctx.client.containers.start(b)

    run_async(qtbot, start_both())
    view = shown_containers_view(qtbot, app_ctx, (1100, 700), active_within=None, synced_within=30)
    view.search.setText(containers.prefix)
    wait_for(qtbot, lambda: view.proxy.rowCount() == 2, timeout=30)
    # a user's click on the first row and Shift+click on the second
    mods = Qt.KeyboardModifier
    for row, modifier in ((0, mods.NoModifier), (1, mods.ShiftModifier)):
        rect = view.tree.visualRect(view.proxy.index(row, 0))
        qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert sorted(view.selected_ids()) == sorted([a, b])
    button = view.toolbar.widgetForAction(view.actions_by_name["logs_together"])
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window = view.findChildren(MergedLogsWindow)[-1]
    name_a, name_b = containers.name("merge-a"), containers.name("merge-b")
    wait_for(qtbot, lambda: len(log_lines(window)) == 6, timeout=30)
    assert log_lines(window) == [
        f"[{name_a}] a1",
        f"[{name_b}] b1",
        f"[{name_a}] a2",
        f"[{name_b}] b2",
        f"[{name_a}] a3",
        f"[{name_b}] b3",
    ]
    # each tag in its container's colour
    colours = set()
    for number in range(window.view.row_count()):
        if window.view.row_text(number).startswith("["):
            colours.add(window.view.char_format_at(number, 0).foreground().color().name())
    assert colours == {TAG_COLOURS[0], TAG_COLOURS[1]}
    # filter by container: untick b
    box_b = next(box for box in window.boxes if box.text() == name_b)
    qtbot.mouseClick(box_b, Qt.MouseButton.LeftButton)
    assert log_lines(window) == [f"[{name_a}] a1", f"[{name_a}] a2", f"[{name_a}] a3"]
    qtbot.mouseClick(box_b, Qt.MouseButton.LeftButton)
    assert len(log_lines(window)) == 6
    # save: the shown lines to a file; an unwritable folder is a message, not a crash
    saved = tmp_path / "merged.log"
    window.save_to(saved)
    assert saved.read_text().splitlines() == log_lines(window)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, _title, text: warnings.append(text))
    window.save_to(tmp_path / "no-such-folder" / "merged.log")
    assert len(warnings) == 1 and "Pick another folder" in warnings[0]
    window.close()


@pytest.mark.qt_log_ignore(
    "does not support raise", "does not support grabbing", "does not support propagateSizeHints"
)
def test_a_compose_groups_menu_opens_its_containers_logs_together(
    app_ctx: Any, containers: Any, qtbot: Any
) -> None:
    from PySide6.QtWidgets import QApplication, QMenu

    project = containers.name("proj")
    labels = {"com.docker.compose.project": project}
    web = containers.create("web", cmd=["sh", "-c", "echo from-web"], labels=labels)
    db = containers.create("db", cmd=["sh", "-c", "echo from-db"], labels=labels)
    run_async(qtbot, app_ctx.client.containers.start(web))
    run_async(qtbot, app_ctx.client.containers.start(db))
    view = shown_containers_view(qtbot, app_ctx, (1100, 700), active_within=None, synced_within=30)
    view.search.setText(containers.prefix)
    group = view.proxy.mapFromSource(view.model.index_for(f"compose:{project}"))
    wait_for(qtbot, lambda: group.isValid() and view.proxy.rowCount() >= 1, timeout=30)
    group = view.proxy.mapFromSource(view.model.index_for(f"compose:{project}"))
    view.tree.customContextMenuRequested.emit(view.tree.visualRect(group).center())
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    wait_for(qtbot, menu.isVisible)
    action = next(a for a in menu.actions() if a.text() == "View logs together")
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    window = view.findChildren(MergedLogsWindow)[-1]
    assert sorted(cid for cid, _name in window.containers) == sorted([web, db])
    wait_for(qtbot, lambda: len(log_lines(window)) == 2, timeout=30)
    assert sorted(log_lines(window)) == sorted(
        [f"[{containers.name('web')}] from-web", f"[{containers.name('db')}] from-db"]
    )
    window.close()
