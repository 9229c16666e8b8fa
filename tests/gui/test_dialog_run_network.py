"""The Run dialog's network, labels and memory/CPU limits, typed for real, checked by inspect.

A port requested on the host or none network is refused next to the ports with what to do (the
engine would silently ignore it); on a user network the container is created there, with the
labels and limits in its HostConfig.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.dialogs import run_spec as rs
from app.dialogs.run import RunDialog
from tests.gui.conftest import run_async, wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def _open(app_ctx: Any, qtbot: Any, image: str) -> RunDialog:
    dialog = RunDialog(app_ctx, image)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.networks_task is not None
    wait_for(qtbot, dialog.networks_task.done)
    wait_for(qtbot, lambda: dialog.engine_cpus is not None)
    return dialog


def _choose(qtbot: Any, dialog: RunDialog, network: str) -> None:
    combo = dialog.network
    edit = combo.lineEdit()
    assert edit is not None
    edit.selectAll()
    qtbot.keyClicks(edit, network)
    assert combo.currentText() == network


def test_run_on_a_user_network_with_labels_and_limits(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any
) -> None:
    client = app_ctx.client
    net = f"pst-run-{uuid.uuid4().hex[:6]}"
    network_id = run_async(qtbot, client.networks.create(net))
    try:
        dialog = _open(app_ctx, qtbot, test_image)
        wait_for(qtbot, lambda: dialog.network.findText(net) >= 0)
        offered = [dialog.network.itemText(i) for i in range(dialog.network.count())]
        # bridge first (the default), the user's networks, then host and none.
        assert offered[0] == "bridge" and offered[-2:] == ["host", "none"] and net in offered
        assert dialog.network.currentText() == "bridge"

        name = containers.name("limits")
        qtbot.keyClicks(dialog.name, name)
        qtbot.keyClicks(dialog.command, "sleep 60")
        qtbot.keyClicks(dialog.ports, "80")
        _choose(qtbot, dialog, net)
        qtbot.keyClicks(dialog.labels, "team=dialogs")
        qtbot.keyClick(dialog.labels, Qt.Key.Key_Return)  # a new line in the labels box …
        qtbot.keyClicks(dialog.labels, "tier=test")
        assert dialog.labels.toPlainText() == "team=dialogs\ntier=test"  # … not a submit
        assert dialog.task is None
        qtbot.keyClicks(dialog.memory, "64m")
        qtbot.keyClicks(dialog.cpus, "0.5")
        with qtbot.waitSignal(dialog.started, timeout=60000) as started:
            qtbot.keyClick(dialog.cpus, Qt.Key.Key_Return)
        cid = started.args[0]
        containers.ids.append(cid)

        details = run_async(qtbot, client.containers.inspect(cid))
        host = details.raw["HostConfig"]
        assert host["NetworkMode"] == net
        assert net in details.raw["NetworkSettings"]["Networks"]
        assert host["Memory"] == 64 * 1024 * 1024
        assert host["NanoCpus"] == 500_000_000
        assert details.labels["team"] == "dialogs" and details.labels["tier"] == "test"
        assert details.running
    finally:
        containers.cleanup()
        run_async(qtbot, client.networks.remove(network_id))


@pytest.mark.parametrize("network", ["host", "none"])
def test_ports_on_host_or_none_are_refused_with_what_to_do(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any, network: str
) -> None:
    dialog = _open(app_ctx, qtbot, test_image)
    name = containers.name(f"on-{network}")
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.ports, "8080:80")
    _choose(qtbot, dialog, network)
    assert dialog.network_hint.isVisible() and network in dialog.network_hint.text()
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.task is None  # refused before the engine is asked
    text = dialog.errors().get(rs.PORTS, "")
    assert f"“{network}” network" in text and "clear Ports" in text and "bridge" in text
    assert dialog.field_errors[rs.PORTS].isVisible()
    left = run_async(qtbot, app_ctx.client.containers.list(all=True, filters={"name": [name]}))
    assert left == []

    # Without ports it runs there.
    dialog.ports.clear()
    qtbot.keyClicks(dialog.command, "sleep 30")
    with qtbot.waitSignal(dialog.started, timeout=30000) as started:
        qtbot.keyClick(dialog.command, Qt.Key.Key_Return)
    containers.ids.append(started.args[0])
    details = run_async(qtbot, app_ctx.client.containers.inspect(started.args[0]))
    assert details.raw["HostConfig"]["NetworkMode"] == network


def test_bad_limits_are_said_next_to_the_field(
    app_ctx: Any, qtbot: Any, test_image: str
) -> None:
    dialog = _open(app_ctx, qtbot, test_image)
    qtbot.keyClicks(dialog.memory, "2m")
    qtbot.keyClicks(dialog.cpus, "lots")
    qtbot.keyClick(dialog.image, Qt.Key.Key_Return)
    assert dialog.task is None
    assert "at least 6m" in dialog.errors()[rs.MEMORY]
    dialog.memory.clear()
    qtbot.keyClick(dialog.image, Qt.Key.Key_Return)
    assert "not a number of CPUs" in dialog.errors()[rs.CPUS]
    dialog.cpus.clear()
    qtbot.keyClicks(dialog.cpus, str((dialog.engine_cpus or 1) + 1))
    qtbot.keyClick(dialog.image, Qt.Key.Key_Return)
    assert "has only" in dialog.errors()[rs.CPUS]


def test_a_network_the_engine_does_not_know_is_said_next_to_the_network(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any
) -> None:
    dialog = _open(app_ctx, qtbot, test_image)
    name = containers.name("lost")
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.command, "sleep 30")
    missing = f"pst-missing-{uuid.uuid4().hex[:6]}"
    _choose(qtbot, dialog, missing)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    task = dialog.task
    assert task is not None
    wait_for(qtbot, lambda: task.done() and rs.NETWORK in dialog.errors(), timeout=30)
    assert missing in dialog.errors()[rs.NETWORK]
    left = run_async(qtbot, app_ctx.client.containers.list(all=True, filters={"name": [name]}))
    assert left == []  # the container created for the failed start was removed again
