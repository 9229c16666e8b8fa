"""Networks view against the real engine: create with a subnet (validated), connect/disconnect a
container, remove, prune — every change reaching the list through events."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.views.networks import NetworksView
from tests.gui.conftest import run_async, wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    # Showing a top-level dialog on the offscreen platform logs this harmless warning.
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> Iterator[NetworksView]:
    v = NetworksView(app_ctx)
    qtbot.addWidget(v)
    wait_for(qtbot, lambda: _id_named(v, "bridge") is not None)
    yield v
    # Let work the test started (e.g. a resync after a prune event) finish before teardown.
    wait_for(qtbot, lambda: not v.ctx.runner.busy, timeout=30)


def _id_named(view: NetworksView, name: str) -> str | None:
    for nid in view.model.ids():
        if (view.model.get(nid) or {}).get("name") == name:
            return nid
    return None


def test_create_connect_disconnect_remove(
    view: NetworksView, qtbot: Any, qtmodeltester: Any, containers: Any
) -> None:
    qtmodeltester.check(view.model)
    name = f"pst-net-{uuid.uuid4().hex[:6]}"
    # Outside 10.200.0.0/13, where engines pick their bridge subnets (ours must not overlap).
    subnet = f"10.197.{random.randint(0, 255)}.0/24"
    dialog = view.open_create()
    qtbot.addWidget(dialog)
    dialog.name.setText(name)
    dialog.subnet.setText("10.1.2.3/24")
    assert dialog.submit() is None and "host bits set" in dialog.errors()["subnet"]
    dialog.subnet.setText("not-a-subnet/99")
    assert dialog.submit() is None and "not a valid subnet" in dialog.errors()["subnet"]
    dialog.subnet.setText(subnet)
    dialog.gateway.setText("192.168.77.1")
    assert dialog.submit() is None and "not inside the subnet" in dialog.errors()["gateway"]
    dialog.gateway.setText("")
    with qtbot.waitSignal(dialog.created, timeout=15000):
        dialog.submit()
    wait_for(qtbot, lambda: _id_named(view, name) is not None)
    nid = _id_named(view, name)
    assert nid is not None
    assert view.model.get(nid)["subnet"] == subnet  # type: ignore[index]
    qtmodeltester.check(view.model)

    cid = containers.create("member", start=True)
    view.connect_container(nid, cid)
    wait_for(qtbot, lambda: cid in view.model.get(nid)["containers"])  # type: ignore[index]
    assert containers.name("member") in view.model.get(nid)["containers"].values()  # type: ignore[index]
    view.disconnect_container(nid, cid)
    wait_for(qtbot, lambda: view.model.get(nid)["containers"] == {})  # type: ignore[index]

    # Built-in networks are never offered for removal.
    bridge = _id_named(view, "bridge")
    assert bridge is not None
    view.ask = lambda *a, **k: True  # type: ignore[method-assign]
    view.select_ids([bridge])
    view.remove_selected()
    assert "can't be removed" in view.status.text()

    view.select_ids([nid])
    view.remove_selected()
    wait_for(qtbot, lambda: nid not in view.model)
    wait_for(qtbot, lambda: view.status.text() == "Removed 1 network(s).")


def test_prune_removes_unused_networks(view: NetworksView, qtbot: Any) -> None:
    uid = uuid.uuid4().hex[:6]
    name, kept = f"pst-net-{uid}", f"pst-net-{uid}-kept"
    label = f"portside.test.prune={uid}"
    client = view.ctx.client
    # Scoped with a label: the prune touches only what this test made (the engine is shared).
    run_async(qtbot, client.networks.create(name, labels={"portside.test.prune": uid}))
    run_async(qtbot, client.networks.create(kept))
    wait_for(qtbot, lambda: None not in (_id_named(view, name), _id_named(view, kept)))
    with qtbot.waitSignal(
        view.ctx.engine_event,
        timeout=15000,
        check_params_cb=lambda e: (e.type, e.action) == ("network", "prune"),
    ):
        task = view.prune(filters={"label": [label]})
        assert task is not None
    # The engine's answer is shown and stays shown: the resync the prune event triggers updates
    # the count beside it, not the result line.
    wait_for(qtbot, lambda: view.status.text() == f"Pruned 1 network(s): {name}.")
    assert _id_named(view, name) is None
    wait_for(qtbot, lambda: not view.ctx.runner.busy)
    assert view.status.text() == f"Pruned 1 network(s): {name}."
    assert _id_named(view, name) is None
    assert _id_named(view, kept) is not None and _id_named(view, "bridge") is not None
    assert view.count_label.text().endswith("networks")
    run_async(qtbot, client.networks.remove(kept))
    wait_for(qtbot, lambda: _id_named(view, kept) is None)
