"""Driving the real window for the checks: content on the engine, the window, every dialog.

``look`` fills the session engine with :mod:`tests.gui.display.content` (removed afterwards);
``window`` is the main window at 1280x720 with that content listed; :func:`open_dialogs` opens,
one after another, every dialog the views open without a modal loop and yields each (the caller
looks at it, then closes it).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.main_window import MainWindow
from app.settings import Settings
from tests.gui.conftest import run_async, wait_for
from tests.gui.display import content

#: how many dialogs open_dialogs yields
DIALOG_COUNT = 12


@pytest.fixture
def look(app_ctx: Any, qtbot: Any, test_image: str) -> Iterator[content.Content]:
    """Containers in every state, a Compose project, tags, volumes and a network."""
    prefix = f"pa{uuid.uuid4().hex[:6]}"
    made = run_async(qtbot, content.populate(app_ctx.client, prefix, test_image), timeout=90)
    try:
        yield made
    finally:
        with contextlib.suppress(Exception):
            run_async(qtbot, content.clean(app_ctx.client, prefix), timeout=90)


@pytest.fixture
def window(app_ctx: Any, qtbot: Any, tmp_path: Path, look: content.Content) -> MainWindow:
    """The main window at 1280x720, shown, with the content's containers listed."""
    win = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    containers: Any = win.views["containers"]
    wait_for(qtbot, lambda: all(c in containers.model for c in look.containers.values()))
    return win


def settle(qtbot: Any, ctx: Any) -> None:
    """Wait until no engine work is in flight (lists landed, callbacks ran)."""
    wait_for(qtbot, lambda: not ctx.runner.busy, timeout=30)


def open_dialogs(
    window: MainWindow, qtbot: Any, look: content.Content, tmp_path: Path
) -> Iterator[
    tuple[str, QWidget | None]
]:
    images: Any = window.show_view("images")

    def image_id() -> str | None:
        ids = [i for i in images.model.ids() if look.images[0] in images.model.tags_of(i)]
        return ids[0] if ids else None

    wait_for(qtbot, image_id)
    volumes: Any = window.views["volumes"]
    networks: Any = window.views["networks"]
    wait_for(qtbot, lambda: look.volumes[0] in volumes.model)

    def net_id() -> str | None:
        ids = [
            i
            for i in networks.model.ids()
            if (networks.model.get(i) or {}).get("name") == look.networks[0]
        ]
        return ids[0] if ids else None

    wait_for(qtbot, net_id)
    images.select_ids([image_id()])
    # the Containers header's primary button, clicked
    containers: Any = window.show_view("containers")
    before = list(images._dialogs)
    qtbot.mouseClick(containers.header.primary, Qt.MouseButton.LeftButton)
    opened = [d for d in images._dialogs if d not in before]
    yield "run from containers", opened[0] if opened else None
    window.show_view("images")
    yield "pull", images.open_pull()
    yield "build", images.open_build()
    yield "run", images.open_run()
    yield "push", images.open_push()
    yield "history", images.open_history()
    images.choose_save_path = lambda _suggested: tmp_path / "saved.tar"
    yield "save (progress)", images.open_save()
    window.show_view("volumes")
    yield "create volume", volumes.open_create()
    yield "volume details", volumes.open_details(look.volumes[0])
    window.show_view("networks")
    yield "create network", networks.open_create()
    yield "network details", networks.open_details(net_id())
    accounts: Any = window.show_view("accounts")
    yield "sign in", accounts.open_sign_in()




def modal_triggers(window: MainWindow, look: content.Content) -> Iterator[tuple[str, Any]]:
    """(title, a call that opens a modal confirmation or question) for :func:`inspect_modal`."""
    containers: Any = window.views["containers"]
    images: Any = window.views["images"]
    disk: Any = window.views["disk"]

    def in_view(key: str, call: Any) -> Any:
        def go() -> None:
            window.show_view(key)
            call()

        return go

    def remove_container() -> None:
        containers.select([look.containers["migrate"]])
        containers.remove_selected()

    def rename_container() -> None:
        containers.select([look.containers["migrate"]])
        containers.rename_selected()

    yield "confirm remove container", in_view("containers", remove_container)
    yield "rename container", in_view("containers", rename_container)
    yield "confirm prune images", in_view("images", images.prune_dialog)
    yield "confirm prune build cache", in_view(
        "disk", lambda: disk.prune_clicked("build_cache")
    )


def inspect_modal(qtbot: Any, trigger: Any, inspect: Any) -> None:
    """Run ``trigger`` (it opens a modal dialog with its own loop); ``inspect(dialog)`` it once
    shown, then dismiss it with Escape (what a person does to say no)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    seen: list[QWidget] = []

    def look_at_it() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, look_at_it)
            return
        seen.append(dialog)
        try:
            inspect(dialog)
        finally:
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    QTimer.singleShot(0, look_at_it)
    trigger()
    assert seen, "no modal dialog came up"
