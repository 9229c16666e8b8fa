"""Disk usage view against the real engine: numbers shown, prune per kind reports the space."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.views.disk import DiskUsageView
from tests.gui.conftest import run_async, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.fixture
def view(app_ctx: Any, qtbot: Any, test_image: str) -> Iterator[DiskUsageView]:
    v = DiskUsageView(app_ctx)
    qtbot.addWidget(v)
    wait_for(qtbot, lambda: v.usage is not None)
    yield v
    # Let work the test started (e.g. a resync after a prune event) finish before teardown.
    wait_for(qtbot, lambda: not v.ctx.runner.busy, timeout=30)


def test_numbers_and_prune(view: DiskUsageView, qtbot: Any, containers: Any) -> None:
    images = view.numbers("images")
    assert int(images["total"]) >= 1
    assert images["size"].endswith("B") and images["size"] != "0 B"
    assert "reclaimable" in view.total_label.text()
    assert view.stack.currentWidget() is view.content

    # A stopped container with data in its writable layer is reclaimable; pruning removes it.
    cid = containers.create(
        "stopped", cmd=["sh", "-c", "head -c 200000 /dev/zero > /junk"], start=True
    )
    run_async(qtbot, view.ctx.client.containers.wait(cid))
    before = view.usage
    view.refresh()
    wait_for(qtbot, lambda: view.usage is not before)
    assert int(view.numbers("containers")["total"]) >= 1
    view.prune("containers")
    wait_for(qtbot, lambda: "Containers: removed" in view.result_label.text())
    assert "reclaimed" in view.result_label.text()
    assert "0 B" not in view.result_label.text()

    async def gone() -> bool:
        listed = await view.ctx.client.containers.list(all=True, filters={"id": [cid]})
        return not listed

    assert run_async(qtbot, gone())

    # Build cache and volumes prune run and report too (possibly nothing to reclaim).
    view.prune("build_cache")
    wait_for(qtbot, lambda: "Build cache: removed" in view.result_label.text())
    view.prune("volumes")
    wait_for(qtbot, lambda: "Local volumes: removed" in view.result_label.text())


def test_state_page_when_disconnected(view: DiskUsageView) -> None:
    view.ctx.client_changed.emit(None)
    assert view.stack.currentWidget() is view.state_page
    view.ctx.client_changed.emit(view.ctx.client)
    assert view.stack.currentWidget() is view.content
