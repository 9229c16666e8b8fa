"""Work a view or dialog started outlives the window that is destroyed while the engine answers.

The bug class: a coroutine (or its runner callback) awaits engine I/O; meanwhile the window is
closed and destroyed; on resuming it touches the deleted widgets and raises ``RuntimeError:
Internal C++ object (...) already deleted``, which the runner reported to the user as the
failure of work that in fact went well (or which silently aborted the work). The Containers
view's actions were fixed first (``test_bulk_stop_window_gone``); these tests cover the others:
the container page's Commit, the Disk usage view's prune, a sign-in from the Accounts view, the
Images view's Pull, Troubleshoot's purge (the engine it stopped must start again), Settings ▸
Engine's Apply, the first-run guide closed mid-run (its run stops with it) and, as regressions
of views that are safe by construction, the Images and Volumes views' removes.

Real parts: the session's private engine, held in flight by pausing its ``dockerd`` (SIGSTOP;
SIGCONT always follows) or, for a pull, by pausing the htpasswd registry; an engine of the
test's own where the work restarts it; the throw-away keyring; the main window driven by clicks
and keys. Each test then destroys the window (``close`` + ``deleteLater``), lets the engine
answer and checks: the work was done on the engine, nothing was reported
(``ctx.reported_errors``) and nothing was logged as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.main_window import MainWindow
from app.settings import Settings
from app.views.container_page.commit_dialog import CommitDialog
from engine.errors import NotFound
from tests.gui.conftest import run_async, wait_for
from tests.gui.modals import when_modal
from tests.gui.pages import open_purge, own_config_dirs
from tests.gui.test_engines_switch_busy import (  # noqa: F401 - homes, login, remote: fixtures
    homes,
    login,
    registry_paused,
    remote,
)
from tests.gui.test_engines_switch_names import engine_paused
from tests.gui.test_troubleshoot import NOISE, click_tab, own_ctx  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def window(app_ctx: Any, qtbot: Any, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    """The main window with its own settings; not handed to qtbot (the test deletes it)."""
    own_config_dirs(monkeypatch, tmp_path)
    win = MainWindow(app_ctx, Settings(path=tmp_path / "config" / "settings.json"))
    win.resize(1280, 800)
    win.show()
    try:
        yield win
    finally:
        if shiboken6.isValid(win):
            win.close()
            win.deleteLater()
            wait_for(qtbot, lambda: not shiboken6.isValid(win))


def destroy(qtbot: Any, win: MainWindow) -> None:
    """Close the window and delete it (with its views, pages and dialogs), as at a quit."""
    win.close()
    win.deleteLater()
    wait_for(qtbot, lambda: not shiboken6.isValid(win))


def finish_quietly(qtbot: Any, ctx: Any, task: Any, caplog: Any, timeout: float = 60) -> None:
    """Wait for ``task`` to end well; nothing reported to the user, nothing logged as a warning."""
    wait_for(qtbot, task.done, timeout=timeout)
    qtbot.wait(100)  # the runner's done callback runs a loop turn after the task ends
    assert not task.cancelled(), "the work was cancelled"
    assert task.exception() is None, repr(task.exception())
    assert ctx.reported_errors == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert ctx.runner.work_in_flight() == []


def click_when_asked(qtbot: Any, button_text: str) -> list[Any]:
    """Answer the next modal question by clicking its ``button_text`` button."""

    def click(box: Any) -> None:
        assert isinstance(box, QMessageBox)
        button = next(b for b in box.findChildren(QPushButton) if b.text() == button_text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    return when_modal(click)


def remove_image(qtbot: Any, ctx: Any, ref: str) -> None:
    async def _rm() -> None:
        with contextlib.suppress(NotFound):
            await ctx.client.images.remove(ref, force=True)

    run_async(qtbot, _rm(), timeout=60)


def test_a_commit_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, containers: Any, native_engine: Any,
    caplog: Any,
) -> None:
    """Container page ▸ Commit to image… ▸ Commit, then the window is destroyed while the
    engine writes the image: the image is made; no "Commit …: RuntimeError" is reported."""
    cid = containers.create("commit", cmd=["sh", "-c", "sleep 300"], start=True)
    name = containers.name("commit")
    view: Any = window.show_view("containers")
    view.search.setText(name)
    wait_for(qtbot, lambda: cid in view.model and view.proxy.rowCount() == 1)
    rect = view.tree.visualRect(view.proxy.index(0, 0))
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    page = view.page
    assert page is not None
    wait_for(qtbot, lambda: page.details is not None)
    qtbot.mouseClick(page.header.buttons["commit"], Qt.MouseButton.LeftButton)
    dialog = page.findChild(CommitDialog)
    assert dialog is not None and dialog.isVisible()
    repo = f"portside-test/gone-{uuid.uuid4().hex[:6]}"
    qtbot.keyClicks(dialog.repository, repo)
    try:
        with caplog.at_level(logging.WARNING):
            with engine_paused(native_engine):
                qtbot.keyClick(dialog.repository, Qt.Key.Key_Return)  # Return commits
                assert app_ctx.runner.work_in_flight() == [f"Commit {name}"]
                task = dialog._task
                destroy(qtbot, window)
                assert not task.done()  # the engine is paused: the commit waits for it
            finish_quietly(qtbot, app_ctx, task, caplog)
        assert run_async(qtbot, app_ctx.client.images.inspect(f"{repo}:latest")).id
    finally:
        remove_image(qtbot, app_ctx, f"{repo}:latest")


def test_a_disk_prune_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, native_engine: Any, caplog: Any
) -> None:
    """Disk usage ▸ Prune dangling images… ▸ Prune, then the window is destroyed while the
    engine prunes: no "Prune dangling images: RuntimeError" is reported."""
    view: Any = window.show_view("disk")
    wait_for(qtbot, lambda: view.usage is not None, timeout=30)
    with caplog.at_level(logging.WARNING):
        with engine_paused(native_engine):
            asked = click_when_asked(qtbot, "Prune")
            qtbot.mouseClick(view.prune_buttons["images"], Qt.MouseButton.LeftButton)
            assert asked, "the Prune question did not come"
            task = app_ctx.runner._keyed["disk.prune.images"]
            destroy(qtbot, window)
            assert not task.done()
        finish_quietly(qtbot, app_ctx, task, caplog)
    assert hasattr(task.result(), "deleted")


@pytest.mark.registry
@pytest.mark.keyring
def test_a_sign_in_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, native_engine: Any, registry: Any,
    keyring_backend: Any, caplog: Any,
) -> None:
    """Accounts ▸ Sign in…, the registry's login typed, Sign in clicked; the window (with the
    dialog) is destroyed while the engine checks the password: the login is stored, nothing is
    reported."""
    from engine.credentials.store import CredentialStore

    view: Any = window.show_view("accounts")
    qtbot.mouseClick(view.sign_in_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: getattr(view, "dialog", None) is not None)
    dialog = view.dialog
    wait_for(qtbot, dialog.isVisible)
    qtbot.mouseClick(dialog.other_radio, Qt.MouseButton.LeftButton)
    dialog.server_edit.clear()
    qtbot.keyClicks(dialog.server_edit, registry.host)
    qtbot.keyClicks(dialog.username_edit, registry.username)
    qtbot.keyClicks(dialog.password_edit, registry.password)
    store = CredentialStore()
    try:
        with caplog.at_level(logging.WARNING):
            with engine_paused(native_engine):
                qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
                task = dialog.task
                assert task is not None
                destroy(qtbot, window)
                assert not task.done()
            finish_quietly(qtbot, app_ctx, task, caplog)
        login = store.get(registry.host)
        assert login is not None and login.secret == registry.password
    finally:
        with contextlib.suppress(Exception):
            store.erase(registry.host)


@pytest.mark.registry
@pytest.mark.keyring
def test_a_pull_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, registry: Any, login: None,  # noqa: F811
    remote: str,  # noqa: F811
    caplog: Any,
) -> None:
    """Images ▸ Pull… ▸ Pull, the registry paused; the window (with the Pull dialog) is
    destroyed, the registry goes on: the pull runs to its end — the image is in the engine —
    and nothing is reported (it used to die of the dialog's deleted progress bar)."""
    view: Any = window.show_view("images")
    assert view.header.primary.text() == "Pull…"
    qtbot.mouseClick(view.header.primary, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: any(d.isVisible() for d in view._dialogs))
    dialog = next(d for d in view._dialogs if d.isVisible())
    qtbot.keyClicks(dialog.reference, remote)
    with caplog.at_level(logging.WARNING):
        with registry_paused(registry):
            qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
            wait_for(qtbot, lambda: dialog.running)
            task = dialog.task
            qtbot.wait(500)  # the engine starts the pull and waits on the registry
            destroy(qtbot, window)
            assert not task.done()
        finish_quietly(qtbot, app_ctx, task, caplog)
    assert task.result() == remote
    assert run_async(qtbot, app_ctx.client.images.inspect(remote)).id


def test_removing_volumes_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, native_engine: Any, caplog: Any
) -> None:
    """Volumes: two selected with Ctrl+A, Remove, the question answered; the window is destroyed
    while the engine removes them: both are gone, nothing is reported. (Safe by construction:
    the view's runner callbacks are guarded; this keeps it so.)"""
    uid = uuid.uuid4().hex[:8]
    names = [f"gone-{uid}-{i}" for i in range(2)]
    for n in names:
        run_async(qtbot, app_ctx.client.volumes.create(name=n))
    view: Any = window.show_view("volumes")
    view.search.setText(uid)
    wait_for(qtbot, lambda: view.proxy.rowCount() == 2)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(view.selected_ids()) == names
    try:
        with caplog.at_level(logging.WARNING):
            with engine_paused(native_engine):
                asked = click_when_asked(qtbot, "Remove")
                qtbot.keyClick(view.table, Qt.Key.Key_Delete)
                assert asked, "the Remove question did not come"
                assert app_ctx.runner.work_in_flight() == ["Remove 2 volumes"]
                task = next(t for t, n in app_ctx.runner._work.items() if n == "Remove 2 volumes")
                destroy(qtbot, window)
                assert not task.done()
            finish_quietly(qtbot, app_ctx, task, caplog)
        listed = run_async(qtbot, app_ctx.client.volumes.list())
        assert not {v.name for v in listed} & set(names)
    finally:
        for n in names:
            with contextlib.suppress(NotFound):
                run_async(qtbot, app_ctx.client.volumes.remove(n))


def test_removing_images_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, native_engine: Any, containers: Any,
    caplog: Any,
) -> None:
    """Images: two images of the test's own selected with Ctrl+A, Delete, Remove clicked; the
    window is destroyed while the engine removes them: both are gone, nothing is reported
    (safe by construction: the view's runner callbacks are guarded; this keeps it so)."""
    repo = f"portside-test/gone-{uuid.uuid4().hex[:6]}"
    cid = containers.create("img")
    refs = [f"{repo}-{i}:v1" for i in range(2)]
    for ref in refs:
        name, tag = ref.split(":")
        run_async(qtbot, app_ctx.client.containers.commit(cid, name, tag))
    view: Any = window.show_view("images")
    view.search.setText(repo)
    wait_for(qtbot, lambda: view.proxy.rowCount() == 2)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.selected_ids()) == 2
    try:
        with caplog.at_level(logging.WARNING):
            with engine_paused(native_engine):
                asked = click_when_asked(qtbot, "Remove")
                qtbot.keyClick(view.table, Qt.Key.Key_Delete)
                assert asked, "the Remove question did not come"
                assert app_ctx.runner.work_in_flight() == ["Remove 2 images"]
                task = next(t for t, n in app_ctx.runner._work.items() if n == "Remove 2 images")
                destroy(qtbot, window)
                assert not task.done()
            finish_quietly(qtbot, app_ctx, task, caplog)
        for ref in refs:
            with pytest.raises(NotFound):
                run_async(qtbot, app_ctx.client.images.inspect(ref))
    finally:
        for ref in refs:
            remove_image(qtbot, app_ctx, ref)
    assert QApplication.activeModalWidget() is None


@NOISE
def test_a_purge_outlives_the_destroyed_window_and_the_engine_comes_back(
    qtbot: Any, own_ctx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Help ▸ Troubleshoot… ▸ Reset ▸ Purge data…, confirmed; the window (with the
    Troubleshoot window and its page) is destroyed while the page's purge stops the engine:
    the data is purged and the engine it stopped starts again (the page's guarded callback
    used to drop that start with the page, leaving the engine stopped). Own private engine, as
    in ``test_troubleshoot`` (a purge would break the session engine)."""
    own_config_dirs(monkeypatch, tmp_path)
    monkeypatch.setenv("PORTSIDE_LOG_DIR", str(tmp_path / "logs"))
    settings = Settings(path=tmp_path / "config" / "settings.json")
    settings.first_run_done = True
    settings.save()
    run_async(qtbot, own_ctx.client.volumes.create("pst-purge-gone"))
    win = MainWindow(own_ctx, settings)
    win.show()
    try:
        _page, confirm = open_purge(qtbot, win)
        confirm.confirm.setFocus()
        qtbot.keyClick(confirm.confirm, Qt.Key.Key_Space)
        first_pid = own_ctx.engine.status.pid
        qtbot.mouseClick(confirm.purge_button, Qt.MouseButton.LeftButton)
        task = own_ctx.runner._keyed["troubleshoot.purge"]
    finally:
        destroy(qtbot, win)
    assert not task.done()  # still stopping the engine
    wait_for(qtbot, task.done, timeout=60)
    assert not task.cancelled() and task.exception() is None
    assert task.result().removed
    wait_for(qtbot, lambda: own_ctx.client is not None
             and own_ctx.engine.status.pid not in (None, first_pid), 60)  # fmt: skip
    assert run_async(qtbot, own_ctx.client.volumes.list()) == []


def test_closing_the_guide_mid_run_stops_its_first_container_quietly(
    app_ctx: Any, qtbot: Any, native_engine: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: Any,
) -> None:
    """First-run guide on "Run your first container": Enter starts the run, the engine is
    paused (the run waits on it), Escape closes the guide, which deletes itself. The run stops
    with the guide (its step is kept for the next launch) instead of dying later of the
    deleted progress box; nothing is reported, no first container is made."""
    from app.wizard import open_first_run
    from app.wizard.first_image import LABEL
    from tests.gui.wizard_support import activate, on_page, press

    own_config_dirs(monkeypatch, tmp_path)
    monkeypatch.setenv("PORTSIDE_FIRST_IMAGE", "127.0.0.1:9/portside-test/hello:latest")
    settings = Settings(path=tmp_path / "config" / "settings.json")
    settings.wizard_step = "first"
    settings.save()
    win = MainWindow(app_ctx, settings)
    win.show()
    try:
        wizard = open_first_run(win)
        activate(qtbot, wizard)
        on_page(qtbot, wizard, "first")
        page = wizard.pages["first"]
        with caplog.at_level(logging.WARNING):
            with engine_paused(native_engine):
                press(qtbot, wizard, Qt.Key.Key_Return)  # "Run and show logs"
                assert app_ctx.runner.work_in_flight() == ["Run the first container"]
                task = next(t for t, n in app_ctx.runner._work.items()
                            if n == "Run the first container")
                wait_for(qtbot, lambda: "sample image" in page.steps.toPlainText())
                press(qtbot, wizard, Qt.Key.Key_Escape)
                wait_for(qtbot, lambda: not shiboken6.isValid(wizard))
            wait_for(qtbot, task.done, timeout=30)
            qtbot.wait(100)
        assert task.cancelled(), repr(task.exception())
        assert app_ctx.reported_errors == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        made = run_async(qtbot, app_ctx.client.containers.list(
            all=True, filters={"label": [LABEL]}))
        assert made == []
        assert Settings.load(tmp_path / "config" / "settings.json").wizard_step == "first"
    finally:
        destroy(qtbot, win)


@contextlib.contextmanager
def own_engine_app(
    qtbot: Any, root: Path, settings: Path
) -> Iterator[tuple[Any, Any, Any, list[Any]]]:
    """(engine, ctx, main window, errors) on an engine of the test's own, started; as
    tests/gui/own_engine.py makes them, but the window is not qtbot's (the test deletes it).
    On the way out the context shuts down, which stops the engine."""
    from app.context import AppContext
    from app.runner import Runner
    from engine.lifecycle import EnginePaths, NativeEngine

    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    runner = Runner(show_dialogs=False)
    errors: list[tuple[str, str]] = []
    runner.error_reported.connect(lambda t, m: errors.append((t, m)))
    ctx = AppContext(engine, attached=False, runner=runner)
    win = MainWindow(ctx, Settings(path=settings))
    win.show()
    try:
        ctx.start()
        wait_for(qtbot, lambda: ctx.client is not None, timeout=60)
        wait_for(qtbot, lambda: not ctx.runner.busy, timeout=30)  # the views' first lists
        yield engine, ctx, win, errors
    finally:
        if shiboken6.isValid(win):
            destroy(qtbot, win)
        run_async(qtbot, ctx.shutdown(), timeout=60)


def restart_outlives_the_window(qtbot: Any, engine: Any, ctx: Any, win: Any, errors: list[Any],
                                press: Any, work: str) -> Any:
    """``press()`` starts an engine restart named ``work``; the window is destroyed at once;
    the restart ends well, the engine runs again, nothing but the views' "cannot reach" (the
    engine is down for a moment) is reported. Returns the task's result."""
    from engine.lifecycle import EngineState

    old_pid = engine.status.pid
    press()
    assert ctx.runner.work_in_flight() == [work]
    task = next(t for t, n in ctx.runner._work.items() if n == work)
    destroy(qtbot, win)
    assert not task.done()
    wait_for(qtbot, task.done, timeout=90)
    qtbot.wait(100)
    assert not task.cancelled() and task.exception() is None
    assert engine.status.state is EngineState.RUNNING and engine.status.pid != old_pid
    assert [e for e in errors if "Cannot reach the Docker engine" not in e[1]] == []
    return task.result()


def test_a_daemon_json_apply_outlives_the_destroyed_window(
    qasync_loop: Any, qtbot: Any, own_engine_root: Path, tmp_path: Path
) -> None:
    """Settings ▸ Engine ▸ Apply restarts the engine (seconds); the main window, with the
    Settings window, is destroyed meanwhile: the engine comes back with the file in force and
    no "Apply daemon.json: RuntimeError" is reported. An engine of its own (a restart would
    break the session engine)."""
    with own_engine_app(qtbot, own_engine_root, tmp_path / "settings.json") as (
        engine, ctx, win, errors
    ):
        tab = win.open_settings("engine").pages["engine"]
        assert tab.apply_button.isEnabled()

        def press() -> None:
            tab.apply_button.setFocus()
            qtbot.keyClick(tab.apply_button, Qt.Key.Key_Space)

        result = restart_outlives_the_window(qtbot, engine, ctx, win, errors, press,
                                             "Apply engine settings and restart")
        assert result.ok


def test_a_proxies_apply_outlives_the_destroyed_window(
    qasync_loop: Any, qtbot: Any, own_engine_root: Path, tmp_path: Path
) -> None:
    """Settings ▸ Proxies: an HTTP proxy typed, Apply; the window is destroyed during the
    restart: the engine comes back, the proxies file holds it, nothing is reported."""
    with own_engine_app(qtbot, own_engine_root, tmp_path / "settings.json") as (
        engine, ctx, win, errors
    ):
        tab = win.open_settings("proxies").pages["proxies"]
        tab.http.setFocus()
        qtbot.keyClicks(tab.http, "http://proxy.invalid:3128")
        assert tab.apply_button.isEnabled(), tab.problems.text()

        def press() -> None:
            tab.apply_button.setFocus()
            qtbot.keyClick(tab.apply_button, Qt.Key.Key_Space)

        restart_outlives_the_window(qtbot, engine, ctx, win, errors, press,
                                    "Apply proxies and restart the engine")
        assert "proxy.invalid:3128" in (own_engine_root / "proxies.json").read_text()


def test_the_merged_logs_window_outlives_the_destroyed_window(
    app_ctx: Any, qtbot: Any, window: MainWindow, containers: Any, native_engine: Any,
    caplog: Any,
) -> None:
    """Containers: two selected with Ctrl+A, "View logs together"; one is killed, and the
    engine is paused as its "die" event arrives (the merged window's inspect of it is then in
    flight); the main window, with the merged logs window, is destroyed: nothing fails. (This
    passed before the window's still_alive guard too: here the follower's own stream meets the
    deleted view first and closes it; the guard covers the inspect answering first.)"""
    import os
    import signal

    from app.views.merged_logs.window import MergedLogsWindow

    ids = [containers.create(f"merged{i}", cmd=["sh", "-c", "sleep 300"], start=True)
           for i in range(2)]
    view: Any = window.show_view("containers")
    view.search.setText(containers.prefix)
    wait_for(qtbot, lambda: all((view.model.get(c) or {}).get("state") == "running" for c in ids))
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(view.selected_ids()) == sorted(ids)
    together = view.actions_by_name["logs_together"]
    assert together.isEnabled()
    together.trigger()
    merged = view.findChild(MergedLogsWindow)
    assert merged is not None
    wait_for(qtbot, merged.isVisible)
    pid = int(native_engine.paths.pidfile.read_text().strip())
    paused: list[bool] = []

    def pause_on_die(event: Any) -> None:
        if not paused and event.action == "die" and event.actor_id == ids[0]:
            os.kill(pid, signal.SIGSTOP)  # after the merged window asked for its inspect
            paused.append(True)

    app_ctx.engine_event.connect(pause_on_die)
    try:
        with caplog.at_level(logging.WARNING):
            # the die event may come before the kill's own answer: not awaited here
            kill = asyncio.ensure_future(app_ctx.client.containers.kill(ids[0]))
            wait_for(qtbot, lambda: paused)
            tasks = set(merged._tasks)
            assert tasks and not any(t.done() for t in tasks)
            destroy(qtbot, window)
            os.kill(pid, signal.SIGCONT)
            wait_for(qtbot, lambda: kill.done() and all(t.done() for t in tasks), timeout=30)
            qtbot.wait(100)
        assert [t.exception() for t in tasks if not t.cancelled()] == [None] * len(tasks)
        assert app_ctx.reported_errors == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    finally:
        os.kill(pid, signal.SIGCONT)
        app_ctx.engine_event.disconnect(pause_on_die)
