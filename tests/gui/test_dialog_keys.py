"""Keys in the dialogs, pressed for real (qtbot.keyClick) against the real engine and registry.

Return in the Pull dialog used to start the pull and cancel it at once: the same key press
reached the Cancel button, which had become the default when the disabled reference field gave
it the focus. Each dialog's first field has the focus when it opens (the Build dialog's log used
to take it).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.dialogs.build import BuildDialog
from app.dialogs.create import CreateNetworkDialog, CreateVolumeDialog
from app.dialogs.operation import PullDialog, PushDialog
from app.dialogs.run import RunDialog
from app.dialogs.signin import SignInDialog
from app.views.images import ImagesView
from engine.registry import AuthConfig
from tests.gui.conftest import run_async, wait_for
from tests.gui.registry_image import publish_remote_image

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> Iterator[ImagesView]:
    v = ImagesView(app_ctx)
    qtbot.addWidget(v)
    wait_for(qtbot, lambda: not app_ctx.runner.in_flight("images.refresh"))
    yield v
    wait_for(qtbot, lambda: not app_ctx.runner.busy, timeout=30)


@pytest.fixture
def remote(app_ctx: Any, qtbot: Any, test_image: str, registry: Any, tmp_path: Path) -> Iterator[
    tuple[str, AuthConfig]
]:
    """An image with a layer of its own in the registry, not in the engine."""
    client = app_ctx.client
    ref, auth = publish_remote_image(
        qtbot, client, registry, test_image, tmp_path / "ctx", "keys", 2_000_000
    )
    yield ref, auth

    async def drop() -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            await client.images.remove(ref)

    run_async(qtbot, drop())


@pytest.mark.registry
def test_return_in_the_pull_dialog_pulls_and_does_not_cancel(
    view: ImagesView, qtbot: Any, remote: tuple[str, AuthConfig]
) -> None:
    ref, auth = remote

    async def with_auth(_ref: str) -> AuthConfig:
        return auth

    dialog = view.open_pull(ref)
    dialog.auth_provider = with_auth
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.reference  # the first field has the focus

    qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)
    # The same press did not also reach Cancel (which now holds the focus).
    assert dialog.running, dialog.status_label.text()
    assert dialog.status_label.text() != "Cancelled."
    assert dialog.focusWidget() is dialog.cancel_button
    assert dialog.start_button.isDefault() and not dialog.cancel_button.isDefault()
    # Return again, now on the focused Cancel button: still not a cancel (Escape/Space are).
    qtbot.keyClick(dialog.cancel_button, Qt.Key.Key_Return)
    assert dialog.running and dialog.status_label.text() != "Cancelled."

    with qtbot.waitSignal(dialog.succeeded, timeout=60000) as done:
        pass
    assert done.args == [ref]
    assert dialog.task is not None and not dialog.task.cancelled()
    assert dialog.status_label.text().startswith(f"Pulled {ref}")
    assert run_async(qtbot, view.ctx.client.images.inspect(ref)).id
    # Finished: the focus is back on the reference, where Return pulls again.
    assert dialog.focusWidget() is dialog.reference

    # Escape closes the dialog, and the closed dialog is deleted (not kept as a hidden window).
    qtbot.keyClick(dialog.reference, Qt.Key.Key_Escape)
    wait_for(qtbot, lambda: not view.findChildren(PullDialog))


def test_escape_cancels_a_running_operation_and_space_on_cancel_cancels(
    app_ctx: Any, qtbot: Any
) -> None:
    dialog = PullDialog(app_ctx, reference="127.0.0.1:9/nothing/here:1")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)

    async def slow(_ref: str) -> None:
        import asyncio

        await asyncio.sleep(30)

    dialog.auth_provider = slow  # type: ignore[assignment]
    qtbot.keyClick(dialog.reference, Qt.Key.Key_Enter)  # the keypad's Enter works as Return
    assert dialog.running
    qtbot.keyClick(dialog.cancel_button, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: not dialog.running)
    assert dialog.status_label.text() == "Cancelled."


def _first_focus(qtbot: Any, dialog: QWidget) -> QWidget | None:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    return dialog.focusWidget()


def test_every_dialog_opens_with_its_first_field_focused(
    app_ctx: Any, qtbot: Any, tmp_path: Path
) -> None:
    from app.dialogs.network_details import NetworkDetailsDialog
    from app.dialogs.volume_details import VolumeDetailsDialog

    pull = PullDialog(app_ctx)
    assert _first_focus(qtbot, pull) is pull.reference
    push = PushDialog(app_ctx, ["localhost:5000/a:1"])
    assert _first_focus(qtbot, push) in (push.reference, push.reference.lineEdit())
    build = BuildDialog(app_ctx)
    assert _first_focus(qtbot, build) is build.folder  # not the log
    # The log comes after the fields in the Tab order.
    assert build.tag.nextInFocusChain() is build.log
    run = RunDialog(app_ctx, "busybox")
    assert _first_focus(qtbot, run) is run.image
    volume = CreateVolumeDialog(app_ctx)
    assert _first_focus(qtbot, volume) is volume.name
    network = CreateNetworkDialog(app_ctx)
    assert _first_focus(qtbot, network) is network.name
    hub = SignInDialog(app_ctx, store=object())  # type: ignore[arg-type]
    assert _first_focus(qtbot, hub) is hub.username_edit
    other = SignInDialog(app_ctx, server="localhost:5000", store=object())  # type: ignore[arg-type]
    assert _first_focus(qtbot, other) is other.username_edit  # the server is filled in already
    vol = VolumeDetailsDialog(app_ctx, "no-such-volume-" + uuid.uuid4().hex[:6])
    assert _first_focus(qtbot, vol) is vol.table
    wait_for(qtbot, lambda: vol.error.text())  # the engine said it does not exist
    assert "no-such-volume" in vol.error.text()
    net = NetworkDetailsDialog(app_ctx, "bridge", "bridge")
    assert _first_focus(qtbot, net) is net.table
    wait_for(qtbot, lambda: net.loaded)


def test_return_in_a_create_dialog_creates(app_ctx: Any, qtbot: Any) -> None:
    name = f"pst-keys-{uuid.uuid4().hex[:6]}"
    dialog = CreateVolumeDialog(app_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name, name)
    with qtbot.waitSignal(dialog.created, timeout=15000) as created:
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert created.args == [name]
    assert run_async(qtbot, app_ctx.client.volumes.inspect(name)).name == name
    run_async(qtbot, app_ctx.client.volumes.remove(name))
