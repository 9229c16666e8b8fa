"""An engine switch names long work beyond the transfer dialogs: a bulk stop, a prune, a shell.

Real parts, as in ``test_engines_switch_busy`` (its fixtures and helpers): the session's private
engine, a second engine entry that is a socket symlink to the same ``dockerd``, the footer's
engine menu chosen with the keyboard, the question answered with Escape. A bulk stop stays in
flight on its own: its containers ignore SIGTERM (``trap "" TERM``) and have a stop timeout, so
the engine waits it out, then kills. A prune is held in flight by pausing the session's
``dockerd`` (SIGSTOP; SIGCONT always follows) after the user said Prune.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.engines.busy import SwitchQuestion
from app.main_window import MainWindow
from engine.errors import NotFound
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import exit_codes, start_bulk_stop
from tests.gui.test_engines_switch_busy import (  # noqa: F401 - homes, window: fixtures
    HOME,
    OTHER,
    checked_in_menu,
    homes,
    menu_pick,
    on_question,
    window,
)

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def ask_and_escape(qtbot: Any, qtlog: Any, ctx: Any, win: MainWindow) -> str:
    """Choose the other engine in the footer's menu, read the question, press Escape; the app
    stays on the launch engine. Returns the question's text."""
    home_engine, home_client = ctx.engine, ctx.client
    looked: dict[str, str] = {}

    def escape(box: SwitchQuestion) -> None:
        looked["text"] = box.text()
        qtbot.keyClick(box, Qt.Key.Key_Escape)

    asked = on_question(escape)
    menu_pick(qtbot, qtlog, win.engine_button, OTHER)  # type: ignore[attr-defined]
    assert len(asked) == 1, ("no question came", ctx.runner.work_in_flight())
    qtbot.wait(200)
    assert ctx.engine is home_engine and ctx.client is home_client
    assert checked_in_menu(win.engine_button) == [HOME]  # type: ignore[attr-defined]
    return looked["text"]


def test_a_bulk_stop_in_flight_is_named_and_escape_lets_it_finish(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, containers: Any  # noqa: F811
) -> None:
    # three SIGTERM-deaf containers: the user selects them with Ctrl+A and clicks Stop
    ids, task = start_bulk_stop(qtbot, app_ctx, window, containers, 3, stop_timeout=6)
    text = ask_and_escape(qtbot, qtlog, app_ctx, window)
    assert f"1 operation is running on {HOME}" in text
    assert "• Stop 3 containers" in text
    assert not task.done()  # kept: the engine still waits out the stop timeout
    # ...and it runs to its end on the old engine: each container exits, killed after 6 s
    wait_for(qtbot, task.done, timeout=30)
    assert not task.cancelled() and task.exception() is None
    assert app_ctx.runner.work_in_flight() == []

    assert exit_codes(qtbot, app_ctx, ids) == [("exited", 137)] * 3
    view: Any = window.views["containers"]
    wait_for(qtbot, lambda: view.status.text().startswith("Stopped "))


@contextlib.contextmanager
def engine_paused(native_engine: Any) -> Iterator[None]:
    """SIGSTOP the session's dockerd (requests wait on it); SIGCONT on the way out, always."""
    pid = int(native_engine.paths.pidfile.read_text().strip())
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_prune_in_flight_is_named(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, native_engine: Any,  # noqa: F811
) -> None:
    """Images ▸ Prune… ▸ Prune (dangling only: the session's other images stay): the question
    names "Remove dangling images"; after Escape the prune ends and says what it removed."""
    view: Any = window.show_view("images")
    wait_for(qtbot, lambda: view.model.rowCount() > 0)
    prune = next(a for a in view.toolbar.actions() if a.text() == "Prune…")
    answered: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not (isinstance(box, QMessageBox) and box.windowTitle() == "Prune images"):
            QTimer.singleShot(20, answer)
            return
        assert box.checkBox() is not None and not box.checkBox().isChecked()
        button = next(b for b in box.buttons() if b.text() == "Prune")
        answered.append(box.text())
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    with engine_paused(native_engine):
        QTimer.singleShot(20, answer)
        qtbot.mouseClick(view.toolbar.widgetForAction(prune), Qt.MouseButton.LeftButton)
        assert answered, "the Prune question did not come"
        assert app_ctx.runner.work_in_flight() == ["Remove dangling images"]
        text = ask_and_escape(qtbot, qtlog, app_ctx, window)
        assert f"1 operation is running on {HOME}" in text
        assert "• Remove dangling images" in text
        assert app_ctx.runner.work_in_flight() == ["Remove dangling images"]
    # the engine answers again: the prune ends where it started
    wait_for(qtbot, lambda: view.status.text().startswith("Pruned "), timeout=30)
    assert app_ctx.runner.work_in_flight() == []


def test_removing_several_images_and_volumes_is_named(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, native_engine: Any,  # noqa: F811
    test_image: str,
) -> None:
    """Two tags removed in the Images view and two volumes in the Volumes view (the methods
    their confirmed Remove calls) while ``dockerd`` is held: the question names "Remove 2
    images" and "Remove 2 volumes"; after Escape both run to their end."""
    repo = f"portside-names-{uuid.uuid4().hex[:8]}"
    tags, vols = [f"{repo}:a", f"{repo}:b"], [f"{repo}-0", f"{repo}-1"]

    async def make() -> None:
        for ref in tags:
            await app_ctx.client.images.tag(test_image, *ref.split(":"))
        for name in vols:
            await app_ctx.client.volumes.create(name)

    async def left() -> list[str]:
        found = []
        for ref, get in [(t, app_ctx.client.images.inspect) for t in tags] + [
            (v, app_ctx.client.volumes.inspect) for v in vols
        ]:
            with contextlib.suppress(NotFound):
                await get(ref)
                found.append(ref)
        return found

    run_async(qtbot, make())
    images: Any = window.show_view("images")
    volumes: Any = window.views["volumes"]
    with engine_paused(native_engine):
        images.remove_images(tags, force=False)
        volumes.remove_volumes(vols)
        assert app_ctx.runner.work_in_flight() == ["Remove 2 images", "Remove 2 volumes"]
        text = ask_and_escape(qtbot, qtlog, app_ctx, window)
        assert f"2 operations are running on {HOME}" in text
        assert "• Remove 2 images" in text and "• Remove 2 volumes" in text
    wait_for(qtbot, lambda: app_ctx.runner.work_in_flight() == [], timeout=30)
    wait_for(qtbot, lambda: volumes.status.text() == "Removed 2 volume(s).")
    assert run_async(qtbot, left()) == []


def test_stop_and_switch_cancels_a_bulk_stop_quietly(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, containers: Any,  # noqa: F811
    engine_endpoint: str,
) -> None:
    """"Stop it and switch" during a bulk stop: the task is cancelled, the app moves, and no
    error comes from the views the switch rebuilt (the fixture fails on a reported error)."""
    _ids, task = start_bulk_stop(qtbot, app_ctx, window, containers, 2, stop_timeout=6)
    asked = on_question(lambda box: qtbot.mouseClick(box.stop_button, Qt.MouseButton.LeftButton))
    menu_pick(qtbot, qtlog, window.engine_button, OTHER)  # type: ignore[attr-defined]
    assert len(asked) == 1
    wait_for(qtbot, lambda: str(app_ctx.engine.endpoint) != engine_endpoint
             and app_ctx.client is not None, timeout=30)
    wait_for(qtbot, task.done)
    assert task.cancelled()
    assert app_ctx.runner.work_in_flight() == []
    qtbot.wait(7000)  # past the stop timeout: the engine ends the stop it was asked for


def test_a_terminal_is_named_by_its_container(
    app_ctx: Any, qtbot: Any, qtlog: Any, window: MainWindow, containers: Any,  # noqa: F811
) -> None:
    """A shell opened in the container page's Terminal tab is "Terminal (sh) in <name>", not
    the container's id, once the page has inspected the container."""
    cid = containers.create("named", start=True)
    view: Any = window.show_view("containers")
    view.search.setText(containers.name("named"))
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("state") == "running")
    page = view.open_page(cid)
    page.show_tab("Terminal")
    terminal = page.tab("Terminal")
    wait_for(qtbot, lambda: page.inspect_count > 0 and not terminal._state_message)
    terminal.shell.setCurrentText("sh")
    qtbot.mouseClick(terminal.open_button, Qt.MouseButton.LeftButton)
    pane = terminal.current_pane()
    try:
        wait_for(qtbot, lambda: pane is not None and pane.running, timeout=20)
        name = f"Terminal (sh) in {containers.name('named')}"
        assert app_ctx.runner.work_in_flight() == [name]
        assert f"• {name}" in ask_and_escape(qtbot, qtlog, app_ctx, window)
        assert pane.running
    finally:
        terminal.close_tab()
