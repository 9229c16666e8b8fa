"""Double-click a volume or a network for its details; right-click an image for its actions.

Real mouse events (qtbot.mouseDClick on the table's viewport at the row's rectangle) against the
real engine: the details must say what ``docker volume inspect`` / ``docker network inspect`` and
the container list say.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu, QTableView

from app.dialogs.network_details import NetworkDetailsDialog
from app.dialogs.volume_details import VolumeDetailsDialog
from app.models.keyed import ID_ROLE
from app.views.images import ImagesView
from app.views.networks import NetworksView
from app.views.volumes import VolumesView
from tests.gui.conftest import run_async, wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def _row_rect_center(table: QTableView, row_id: str) -> QPoint:
    proxy = table.model()
    for r in range(proxy.rowCount()):
        index = proxy.index(r, 0)
        if proxy.data(index, ID_ROLE) == row_id:
            table.scrollTo(index)
            return table.visualRect(index).center()
    raise AssertionError(f"{row_id} is not in the table")


def _show(qtbot: Any, view: Any, key: str) -> None:
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    wait_for(qtbot, lambda: not view.ctx.runner.in_flight(key))


@pytest.fixture
def volume(app_ctx: Any, qtbot: Any) -> Iterator[str]:
    name = f"pst-details-{uuid.uuid4().hex[:6]}"
    run_async(qtbot, app_ctx.client.volumes.create(name=name, labels={"team": "details"}))
    yield name
    with contextlib.suppress(Exception):  # the test may have removed it
        run_async(qtbot, app_ctx.client.volumes.remove(name, force=True))


def test_double_click_a_volume_shows_users_mountpoint_and_size(
    app_ctx: Any, qtbot: Any, containers: Any, volume: str
) -> None:
    # A container writes 300 kB into the volume and exits; another mounts it read-only.
    writer = containers.create(
        "writer",
        cmd=["sh", "-c", "head -c 300000 /dev/zero > /data/blob"],
        start=True,
        extra={"HostConfig": {"Binds": [f"{volume}:/data"]}},
    )
    reader = containers.create("reader", extra={"HostConfig": {"Binds": [f"{volume}:/srv:ro"]}})
    wait_for(
        qtbot,
        lambda: run_async(qtbot, app_ctx.client.containers.inspect(writer)).status == "exited",
    )
    view = VolumesView(app_ctx)
    _show(qtbot, view, "volumes.refresh")
    wait_for(qtbot, lambda: volume in view.model)
    where = _row_rect_center(view.table, volume)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)

    dialogs = view.findChildren(VolumeDetailsDialog)
    assert len(dialogs) == 1, "a double-click opens one details dialog"
    dialog = dialogs[0]
    wait_for(qtbot, lambda: dialog.loaded, timeout=30)
    inspected = run_async(qtbot, app_ctx.client.volumes.inspect(volume))
    assert dialog.fact("Mountpoint") == inspected.mountpoint and inspected.mountpoint
    assert dialog.fact("Labels") == "team=details"
    # the creation time in local time, as a person reads it (not the engine's UTC RFC 3339)
    import datetime

    from app.models.images import parse_created

    created = datetime.datetime.fromtimestamp(parse_created(inspected.created_at))
    assert dialog.fact("Created") == created.strftime("%Y-%m-%d %H:%M:%S")
    assert dialog.volume_size is not None and dialog.volume_size >= 300_000
    assert dialog.fact("Size").endswith("kB") or dialog.fact("Size").endswith("MB")
    users = {dialog.model.get(cid)["name"]: dialog.model.get(cid) for cid in dialog.model.ids()}
    assert set(users) == {containers.name("writer"), containers.name("reader")}
    assert users[containers.name("writer")]["destination"] == "/data"
    assert users[containers.name("reader")]["destination"] == "/srv"
    assert users[containers.name("reader")]["mode"] == "read-only"
    assert "2 containers" in dialog.summary.text()
    assert reader in dialog.model.ids()

    # Escape closes it and the dialog is gone, not hidden.
    qtbot.keyClick(dialog.table, Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not view.findChildren(VolumeDetailsDialog))


def test_double_click_a_network_shows_subnet_gateway_and_addresses(
    app_ctx: Any, qtbot: Any, containers: Any
) -> None:
    client = app_ctx.client
    name = f"pst-details-{uuid.uuid4().hex[:6]}"
    octet = uuid.uuid4().int % 200 + 20
    subnet, gateway = f"10.{octet}.7.0/24", f"10.{octet}.7.1"
    network_id = run_async(qtbot, client.networks.create(name, subnet=subnet, gateway=gateway))
    try:
        cid = containers.create(
            "member", start=True, extra={"HostConfig": {"NetworkMode": name}}
        )
        view = NetworksView(app_ctx)
        _show(qtbot, view, "networks.refresh")
        wait_for(qtbot, lambda: cid in (view.model.get(network_id) or {}).get("containers", {}))
        where = _row_rect_center(view.table, network_id)
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        dialogs = view.findChildren(NetworkDetailsDialog)
        assert len(dialogs) == 1
        dialog = dialogs[0]
        wait_for(qtbot, lambda: dialog.loaded, timeout=30)
        assert dialog.fact("Subnet") == subnet
        assert dialog.fact("Gateway") == gateway
        assert dialog.fact("Name") == name
        row = dialog.model.get(cid)
        assert row is not None and row["name"] == containers.name("member")
        details = run_async(qtbot, client.containers.inspect(cid))
        ip = details.raw["NetworkSettings"]["Networks"][name]["IPAddress"]
        assert ip and row["ipv4"] == f"{ip}/24"
        assert row["mac"] == details.raw["NetworkSettings"]["Networks"][name]["MacAddress"]
        dialog.reject()
    finally:
        containers.cleanup()
        run_async(qtbot, client.networks.remove(network_id))


@pytest.mark.qt_log_ignore(
    "does not support raise", "does not support grabbing", "does not support propagateSizeHints"
)
def test_images_context_menu_has_every_toolbar_action_and_all_tags_show(
    app_ctx: Any, qtbot: Any, test_image: str
) -> None:
    client = app_ctx.client
    repo = f"pst-tags-{uuid.uuid4().hex[:6]}"
    run_async(qtbot, client.images.tag(test_image, repo, "one"))
    run_async(qtbot, client.images.tag(test_image, repo, "two"))
    try:
        view = ImagesView(app_ctx)
        _show(qtbot, view, "images.refresh")
        image_id = run_async(qtbot, client.images.inspect(test_image)).id
        wait_for(qtbot, lambda: f"{repo}:two" in view.model.tags_of(image_id))
        index = view.proxy.mapFromSource(view.model.index_for(image_id))
        shown = view.proxy.data(index)
        for tag in (f"{repo}:one", f"{repo}:two", test_image):
            assert tag in shown, shown  # every tag in the cell, not only the first
        # The row is tall enough for the wrapped tags (none cut off).
        rect = view.table.visualRect(index)
        needed = view.table.fontMetrics().boundingRect(
            rect.adjusted(4, 0, -4, 0), int(Qt.TextFlag.TextWordWrap), shown
        )
        assert view.table.rowHeight(index.row()) >= needed.height(), (rect, needed)
        tip = view.proxy.data(index, Qt.ItemDataRole.ToolTipRole)
        assert f"{repo}:one" in tip and f"{repo}:two" in tip

        # Right-click on the row: it is selected and the menu offers every toolbar action.
        where = _row_rect_center(view.table, image_id)
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
        QApplication.sendEvent(
            view.table.viewport(),
            QContextMenuEvent(
                QContextMenuEvent.Reason.Mouse, where, view.table.viewport().mapToGlobal(where)
            ),
        )
        menu = view.context_menu
        assert isinstance(menu, QMenu)
        wait_for(qtbot, menu.isVisible)
        toolbar = [a.text() for a in view.toolbar.actions() if a.text()]
        offered = [a.text() for a in menu.actions() if a.text()]
        assert offered == toolbar and {"Run…", "Tag…", "Push…", "History", "Remove"} <= set(offered)
        assert all(a.isEnabled() for a in menu.actions() if a.text())  # a row is selected
        # Choosing History from the menu opens the image's history.
        history = next(a for a in menu.actions() if a.text() == "History")
        menu.hide()
        history.trigger()
        from app.dialogs.history import HistoryDialog

        wait_for(qtbot, lambda: view.findChildren(HistoryDialog))
        dialog = view.findChildren(HistoryDialog)[0]
        wait_for(qtbot, lambda: dialog.model.rowCount() > 0)
        dialog.reject()
    finally:
        for tag in ("one", "two"):
            run_async(qtbot, client.images.remove(f"{repo}:{tag}"))
