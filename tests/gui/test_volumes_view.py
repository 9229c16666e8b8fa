"""Volumes view against the real engine: create (validated), used-by from events, remove, prune."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.views.volumes import VolumesView
from tests.gui.conftest import run_async, wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    # Showing a top-level dialog on the offscreen platform logs this harmless warning.
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> Iterator[VolumesView]:
    v = VolumesView(app_ctx)
    qtbot.addWidget(v)
    wait_for(qtbot, lambda: not app_ctx.runner.in_flight("volumes.refresh"))
    yield v
    # Let work the test started (e.g. a resync after a prune event) finish before teardown.
    wait_for(qtbot, lambda: not v.ctx.runner.busy, timeout=30)


def test_create_use_remove_prune(
    view: VolumesView, qtbot: Any, qtmodeltester: Any, containers: Any
) -> None:
    name = f"pst-vol-{uuid.uuid4().hex[:6]}"
    dialog = view.open_create()
    qtbot.addWidget(dialog)
    dialog.name.setText("bad name!")
    assert dialog.submit() is None and "not a valid volume name" in dialog.name_error.text()
    dialog.name.setText(name)
    dialog.labels.setPlainText("team=views\nnot a label")
    assert dialog.submit() is None and "key=value" in dialog.labels_error.text()
    dialog.labels.setPlainText("team=views")
    with qtbot.waitSignal(dialog.created, timeout=15000):
        dialog.submit()
    wait_for(qtbot, lambda: name in view.model)
    qtmodeltester.check(view.model)
    row = view.model.get(name)
    assert row is not None and row["driver"] == "local" and row["used_by"] == {}

    # A container using it shows up in "Used by" (container create event), and leaves on destroy.
    cid = containers.create("user", extra={"HostConfig": {"Binds": [f"{name}:/data"]}})
    wait_for(qtbot, lambda: cid in view.model.get(name)["used_by"])  # type: ignore[index]
    assert containers.name("user") in view.model.get(name)["used_by"].values()  # type: ignore[index]
    # Write data so the size is measurable, then refresh sizes from df.
    run_async(qtbot, view.ctx.client.containers.remove(cid, force=True))
    wait_for(qtbot, lambda: view.model.get(name)["used_by"] == {})  # type: ignore[index]

    view.ask = lambda *a, **k: True  # type: ignore[method-assign]
    view.select_ids([name])
    assert view.selected_ids() == [name]
    view.remove_selected()
    wait_for(qtbot, lambda: name not in view.model)
    wait_for(qtbot, lambda: view.status.text() == "Removed 1 volume(s).")

    # Prune: an unused volume goes away and the space reclaimed is reported. Scoped with a label
    # (the engine is shared); an unlabelled unused volume stays.
    uid = uuid.uuid4().hex[:6]
    other, kept = f"pst-vol-{uid}", f"pst-vol-{uid}-kept"
    client = view.ctx.client
    run_async(qtbot, client.volumes.create(name=other, labels={"portside.test.prune": uid}))
    run_async(qtbot, client.volumes.create(name=kept))
    wait_for(qtbot, lambda: other in view.model and kept in view.model)
    with qtbot.waitSignal(
        view.ctx.engine_event,
        timeout=15000,
        check_params_cb=lambda e: (e.type, e.action) == ("volume", "prune"),
    ):
        view.prune(filters={"label": [f"portside.test.prune={uid}"]})
    wait_for(qtbot, lambda: view.status.text().startswith("Pruned 1 volume(s); reclaimed"))
    assert other not in view.model
    # The resync the prune event triggers leaves the result line alone.
    wait_for(qtbot, lambda: not view.ctx.runner.busy)
    assert view.status.text().startswith("Pruned 1 volume(s); reclaimed")
    assert other not in view.model and kept in view.model
    run_async(qtbot, client.volumes.remove(kept))
    wait_for(qtbot, lambda: kept not in view.model)


def test_sizes_come_from_df(view: VolumesView, qtbot: Any, containers: Any) -> None:
    name = f"pst-vol-{uuid.uuid4().hex[:6]}"
    cid = containers.create(
        "writer",
        cmd=["sh", "-c", "head -c 300000 /dev/zero > /data/blob"],
        start=True,
        extra={"HostConfig": {"Binds": [f"{name}:/data"]}},
    )
    run_async(qtbot, view.ctx.client.containers.wait(cid))
    wait_for(qtbot, lambda: name in view.model)
    view.refresh_sizes()
    wait_for(qtbot, lambda: ((view.model.get(name) or {}).get("size") or 0) >= 300000)
    assert view.model.get(name)["size"] >= 300000  # type: ignore[index]
    run_async(qtbot, view.ctx.client.containers.remove(cid, force=True))
    run_async(qtbot, view.ctx.client.volumes.remove(name))
    wait_for(qtbot, lambda: name not in view.model)
