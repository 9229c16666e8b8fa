"""Disk usage view against the real engine: numbers shown, prune per kind reports the space."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.views.disk import DiskUsageView
from tests.gui.conftest import run_async, wait_for
from tests.gui.modals import when_modal
from tests.support.buildkit import make_build_cache

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
    # Prunes are scoped with this test's label: the engine is shared with the other tests.
    uid = uuid.uuid4().hex[:8]
    scope = {"label": [f"portside.test.prune={uid}"]}
    client = view.ctx.client
    cid = containers.create(
        "stopped",
        cmd=["sh", "-c", "head -c 200000 /dev/zero > /junk"],
        labels={"portside.test.prune": uid},
        start=True,
    )
    keep = containers.create("kept", cmd=["true"])  # stopped too, but not in the scope
    run_async(qtbot, client.containers.wait(cid))
    before = view.usage
    view.refresh()
    wait_for(qtbot, lambda: view.usage is not before)
    assert int(view.numbers("containers")["total"]) >= 2
    task = view.prune("containers", scope)
    assert task is not None
    wait_for(qtbot, lambda: "Containers: removed" in view.result_label.text())
    assert task.result().deleted == [cid]
    assert view.result_label.text().startswith("Containers: removed 1 item(s), reclaimed")
    assert "0 B" not in view.result_label.text()

    async def listed(ident: str) -> bool:
        return bool(await client.containers.list(all=True, filters={"id": [ident]}))

    assert not run_async(qtbot, listed(cid))
    assert run_async(qtbot, listed(keep))

    # Volumes: only the labelled unused one goes; the build cache prune runs and reports.
    vol = f"pst-disk-{uid}"
    run_async(qtbot, client.volumes.create(vol, labels={"portside.test.prune": uid}))
    task = view.prune("volumes", scope)
    assert task is not None
    wait_for(qtbot, lambda: "Local volumes: removed" in view.result_label.text())
    assert task.result().deleted == [vol]
    assert view.result_label.text().startswith("Local volumes: removed 1 item(s)")
    view.prune("build_cache")
    wait_for(qtbot, lambda: "Build cache: removed" in view.result_label.text())
    with pytest.raises(ValueError, match="no filters"):
        view.prune("build_cache", scope)


def test_prune_build_cache_by_click_and_keys_removes_a_real_cache(
    view: DiskUsageView, qtbot: Any, engine_endpoint: str
) -> None:
    """A BuildKit build leaves a cache; the button, then Tab to "Prune" and Space, removes it."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

    client = view.ctx.client
    uid = uuid.uuid4().hex[:8]
    tag = run_async(qtbot, make_build_cache(engine_endpoint, uid), timeout=180)
    try:
        cache = run_async(qtbot, client.df()).build_cache
        assert cache, "BuildKit left no build cache, so the prune below would prove nothing"
        size = sum(int(c.get("Size") or 0) for c in cache)
        assert size >= 1_000_000
        view.show()
        before = view.usage
        view.refresh()
        wait_for(qtbot, lambda: view.usage is not before and view.usage is not None)
        assert view.numbers("build_cache")["size"] != "0 B"

        def confirm(box: Any) -> None:
            assert isinstance(box, QMessageBox) and box.text() == "Remove the build cache?"
            prune = next(b for b in box.findChildren(QPushButton) if b.text() == "Prune")
            assert box.defaultButton() is not prune  # Enter alone would not prune
            for _ in range(4):  # as a person would: Tab to "Prune", then Space
                if QApplication.focusWidget() is prune:
                    break
                qtbot.keyClick(QApplication.focusWidget() or box, Qt.Key.Key_Tab)
            assert QApplication.focusWidget() is prune
            qtbot.keyClick(prune, Qt.Key.Key_Space)

        asked = when_modal(confirm)
        qtbot.mouseClick(view.prune_buttons["build_cache"], Qt.MouseButton.LeftButton)
        assert asked, "no question was asked"
        wait_for(qtbot, lambda: "Build cache: removed" in view.result_label.text(), timeout=60)
        text = view.result_label.text()
        assert "removed 0 " not in text and "reclaimed 0 B" not in text, text
        # at least the megabyte of this test's own data (the records' sizes overlap: their sum
        # in df is more than what a prune reclaims)
        assert _at_least(text, 1_000_000), text
        assert run_async(qtbot, client.df()).build_cache == ()
        # the numbers follow: the view refreshed after the prune
        wait_for(qtbot, lambda: view.numbers("build_cache")["size"] == "0 B", timeout=30)
    finally:
        run_async(qtbot, client.images.remove(tag, force=True))


def _at_least(text: str, size: int) -> bool:
    """Whether the ``reclaimed 1.23 MB.`` at the end of ``text`` is at least ``size`` bytes."""
    value, unit = text.rsplit("reclaimed ", 1)[1].rstrip(".").split()
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
    return float(value) * scale >= size * 0.99


def test_state_page_when_disconnected(view: DiskUsageView) -> None:
    view.ctx.client_changed.emit(None)
    assert view.stack.currentWidget() is view.state_page
    view.ctx.client_changed.emit(view.ctx.client)
    assert view.stack.currentWidget() is view.content


def test_refreshes_never_overlap_and_one_more_runs_after(
    view: DiskUsageView, qtbot: Any
) -> None:
    # The engine refuses a second /system/df while one runs; the view must queue, not fail.
    view.show()
    first = view.refresh()
    second = view.refresh()
    assert first is not None and second is first
    wait_for(qtbot, first.done, timeout=60)
    # the queued refresh runs after the first one (no error reported: app_ctx checks that)
    wait_for(qtbot, lambda: view._df_task is not first and view._df_task is not None)
    wait_for(qtbot, lambda: view._df_task is not None and view._df_task.done(), timeout=60)


def test_each_prune_button_says_what_it_prunes(view: DiskUsageView, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    texts = [b.text() for b in view.prune_buttons.values()]
    assert texts == [
        "Prune dangling images…",
        "Prune stopped containers…",
        "Prune unused volumes…",
        "Prune build cache…",
    ]
    asked: list[tuple[str, str]] = []

    def ask(title: str, text: str) -> bool:
        asked.append((title, text))
        return False  # "Cancel": nothing is pruned

    view.ask = ask  # type: ignore[method-assign]
    view.show()
    qtbot.mouseClick(view.prune_buttons["build_cache"], Qt.MouseButton.LeftButton)
    assert asked == [("Prune build cache", "Remove the build cache?")]
    assert view.header.title.text() == "Disk usage"
    assert "reclaimable" in view.header.count.text()
    assert view.header.primary is view.refresh_button
