"""Help ▸ Troubleshoot… driven with real clicks and keys against a private engine of its own.

Each test starts its own :class:`NativeEngine` (own short folder, bridge, subnet, no iptables)
because restarting, pruning everything unused and purging would break the session engine other
tests share. The main window is the real one; the Troubleshoot window is opened from its Help
menu with a mouse click on the menu item.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox

from app.settings import Settings
from engine.lifecycle import EnginePaths, NativeEngine
from tests.gui.conftest import run_async, wait_for
from tests.gui.modals import open_from_help_menu
from tests.gui.pages import open_purge
from tests.support.engine_fixtures import TEST_IMAGE, import_image

pytestmark = [pytest.mark.gui, pytest.mark.engine]
#: on each test (the conftest's own per-item marker would win over a module-level one)
NOISE = pytest.mark.qt_log_ignore(
    # what the offscreen platform says about popup menus (the Help menu is one)
    "does not support raise", "does not support grabbing", "does not support propagateSizeHints",
    # qasync, when the engine's sockets close under it during a restart or purge
    "QSocketNotifier: Invalid socket",
)

SECRET = "TroubleshootPLANTED42"


@pytest.fixture
def own_ctx(qasync_loop: Any, qtbot: Any) -> Iterator[Any]:
    """An AppContext that runs (and at the end stops) its own private engine."""
    from app.context import AppContext
    from app.runner import Runner

    root = Path(tempfile.mkdtemp(prefix="pstt-", dir="/tmp"))
    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    runner = Runner(show_dialogs=False)
    ctx = AppContext(engine, attached=False, runner=runner)
    ctx.reported_errors = []  # type: ignore[attr-defined]
    runner.error_reported.connect(lambda t, m: ctx.reported_errors.append((t, m)))
    ctx.start()
    wait_for(qtbot, lambda: ctx.client is not None, 60)
    try:
        yield ctx
    finally:
        # the views' lists fail while a restart or purge has the engine down; they re-list
        # when it is back (client_changed), so those are not errors of the feature under test
        errors = [e for e in ctx.reported_errors if "Cannot reach the Docker engine" not in e[1]]
        run_async(qtbot, ctx.shutdown(), timeout=60)
        shutil.rmtree(root, ignore_errors=True)
    assert not errors, f"the GUI reported errors: {errors!r}"


@pytest.fixture
def window(own_ctx: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from app.main_window import MainWindow

    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PORTSIDE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    settings = Settings(path=tmp_path / "config" / "settings.json")
    settings.first_run_done = True
    settings.theme = "dark"
    settings.extra["https_proxy"] = f"http://me:{SECRET}@proxy.example:3128"
    settings.save()
    win = MainWindow(own_ctx, settings)
    qtbot.addWidget(win)
    win.show()
    return win


def click_tab(qtbot: Any, dialog: Any, title: str) -> None:
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def type_file_name(qtbot: Any, dialog: QFileDialog, path: Path) -> None:
    """Type a full path into Qt's own Save dialog and press Enter, as a person would."""
    wait_for(qtbot, dialog.isVisible)
    field = dialog.findChild(QLineEdit, "fileNameEdit")
    assert field is not None
    field.selectAll()
    qtbot.keyClicks(field, str(path))
    # the path completer's list may pop up and take the first Return, as it does for a person
    for _ in range(3):
        qtbot.keyClick(field, Qt.Key.Key_Return)
        try:
            wait_for(qtbot, lambda: not dialog.isVisible(), 1)
            return
        except Exception:  # still open: the Return went to the completer
            continue
    raise AssertionError(f"the Save dialog did not take {path}")


@NOISE
def test_restart_live_log_and_save(qtbot: Any, window: Any, own_ctx: Any, tmp_path: Path) -> None:
    dialog = open_from_help_menu(qtbot, window, "troubleshoot")
    page = dialog.engine_page
    assert dialog.tabs.currentWidget() is page
    log_file = own_ctx.engine.paths.log_file
    assert page.path_label.text() == str(log_file)
    first_pid = own_ctx.engine.status.pid
    markers = page.log.toPlainText().count("--- portside")

    steps: list[str] = []
    own_ctx.engine_status_changed.connect(lambda s: steps.append(page.result_label.text()))
    qtbot.mouseClick(page.restart_button, Qt.MouseButton.LeftButton)
    assert not page.restart_button.isEnabled() and page.progress.isVisible()
    assert own_ctx.runner.work_in_flight() == ["Restart the engine"]  # a switch asks first
    wait_for(qtbot, lambda: "runs again" in page.result_label.text(), 60)
    assert "Stopping the engine…" in steps and "Starting the engine…" in steps
    assert page.restart_button.isEnabled() and not page.progress.isVisible()
    assert own_ctx.engine.status.pid != first_pid
    wait_for(qtbot, lambda: own_ctx.client is not None, 30)
    # the new start's lines reached the view live (the restart wrote a new start marker)
    wait_for(qtbot, lambda: page.log.toPlainText().count("--- portside") > markers, 10)

    # a line appended to the log appears without any click
    with open(log_file, "a") as out:
        out.write(f'level=debug msg="login" headers=map[Authorization:[Bearer {SECRET}]]\n')
    wait_for(qtbot, lambda: SECRET in page.log.toPlainText(), 10)
    assert page.log.blockCount() <= page.log.maximumBlockCount()

    # Save log… through the Save dialog, typed
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    target = tmp_path / "saved-engine.log"
    type_file_name(qtbot, page.save_dialog, target)
    wait_for(qtbot, target.exists)
    saved = target.read_text()
    assert 'msg="login" headers=map[Authorization:[Bearer <redacted>]]' in saved
    assert SECRET not in saved
    assert "--- portside" in saved and "Saved the engine log to" in page.result_label.text()


@NOISE
def test_diagnostics_bundle_from_the_window(
    qtbot: Any, window: Any, own_ctx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"me:{SECRET}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": auth}}}))
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)

    dialog = open_from_help_menu(qtbot, window, "troubleshoot")
    click_tab(qtbot, dialog, "Diagnostics")
    page = dialog.bundle_page
    qtbot.mouseClick(page.create_button, Qt.MouseButton.LeftButton)
    out = tmp_path / "out" / "support.zip"
    out.parent.mkdir()
    type_file_name(qtbot, page.file_dialog, out)
    wait_for(qtbot, page.show_button.isVisible, 60)
    assert page.steps[0].startswith("Versions") and page.steps[-1] == "Writing the zip"
    assert f"Saved {out}" in page.status.text()
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        blobs = [zf.read(n) for n in names]
        versions = json.loads(zf.read("versions.json"))
        settings = json.loads(zf.read("settings.json"))
        app_state = json.loads(zf.read("app/state.json"))
    assert {"versions.json", "settings.json", "engine/engine.log", "engine/daemon.json",
            "checks.json", "docker/config.json", "app/portside.log", "app/state.json"} <= names
    assert all(SECRET.encode() not in b and auth[:-2].encode() not in b for b in blobs)
    assert versions["engine"]["ApiVersion"] == own_ctx.api_version
    assert settings["theme"] == "dark"
    assert app_state["state"] == "running" and app_state["connected"] is True
    assert app_state["api_version"] == own_ctx.api_version
    assert "engine/engine.log" in page.contents.toPlainText()
    qtbot.mouseClick(page.show_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(out.parent)]


@NOISE
def test_clean_up_says_what_was_reclaimed(qtbot: Any, window: Any, own_ctx: Any) -> None:
    client = own_ctx.client

    async def fill() -> str:
        await import_image(own_ctx.engine.endpoint, TEST_IMAGE)
        cid = await client.containers.create({"Image": TEST_IMAGE, "Cmd": ["true"]})
        await client.containers.start(cid)
        await client.containers.wait(cid)
        await client.networks.create("pst-troubleshoot-net")
        return str(cid)

    run_async(qtbot, fill(), 90)
    dialog = open_from_help_menu(qtbot, window, "troubleshoot")
    click_tab(qtbot, dialog, "Clean up")
    page = dialog.cleanup_page
    assert not page.boxes["volumes"].isChecked()

    # Enter on the question is Cancel: nothing removed
    qtbot.mouseClick(page.button, Qt.MouseButton.LeftButton)
    box = wait_box(qtbot)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    wait_for(qtbot, lambda: not box.isVisible())
    assert len(run_async(qtbot, client.containers.list(all=True))) == 1

    qtbot.mouseClick(page.button, Qt.MouseButton.LeftButton)
    box = wait_box(qtbot)
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Reclaimed" in page.result_label.text(), 60)
    text = page.result_label.text()
    assert "1 × stopped containers" in text and "1 × unused networks" in text
    assert page.results is not None
    reclaimed = sum(r.space_reclaimed for r in page.results.values())
    assert reclaimed > 1_000_000  # the busybox image
    assert run_async(qtbot, client.containers.list(all=True)) == []
    assert run_async(qtbot, client.images.list()) == []
    names = [n.name for n in run_async(qtbot, client.networks.list())]
    assert "pst-troubleshoot-net" not in names


def wait_box(qtbot: Any) -> QMessageBox:
    found: list[QMessageBox] = []

    def look() -> bool:
        found[:] = [w for w in QApplication.topLevelWidgets()
                    if isinstance(w, QMessageBox) and w.isVisible()]
        return bool(found)

    wait_for(qtbot, look)
    return found[0]


@NOISE
def test_purge_lists_asks_and_deletes_exactly_that(
    qtbot: Any, window: Any, own_ctx: Any, tmp_path: Path
) -> None:
    paths = own_ctx.engine.paths
    run_async(qtbot, import_image(own_ctx.engine.endpoint, TEST_IMAGE), 90)
    run_async(qtbot, own_ctx.client.volumes.create("pst-purge-gui"))
    (paths.root / "mine.txt").write_text("kept")
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    (docker_config / "config.json").write_text("{}")

    page, confirm = open_purge(qtbot, window)
    listed = [Path(confirm.table.topLevelItem(i).text(1))
              for i in range(confirm.table.topLevelItemCount())]
    assert paths.data_root in listed
    assert set(listed) <= {paths.data_root, paths.exec_root}
    assert not confirm.purge_button.isEnabled()
    qtbot.keyClick(confirm, Qt.Key.Key_Return)  # the default is Cancel
    wait_for(qtbot, lambda: not confirm.isVisible())
    assert paths.data_root.exists() and own_ctx.client is not None

    qtbot.mouseClick(page.purge_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.purge_dialog is not confirm and page.purge_dialog is not None
             and page.purge_dialog.isVisible(), 30)
    confirm = page.purge_dialog
    confirm.confirm.setFocus()
    qtbot.keyClick(confirm.confirm, Qt.Key.Key_Space)
    assert confirm.purge_button.isEnabled()
    qtbot.mouseClick(confirm.purge_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.purge_result is not None, 60)
    assert "Purged" in page.result_label.text()
    assert sorted(page.purge_result.removed) == sorted(listed)
    assert page.purge_result.failed == []
    # ... and the engine came back, empty; the user's files are still there
    wait_for(qtbot, lambda: own_ctx.client is not None, 60)
    assert run_async(qtbot, own_ctx.client.images.list()) == []
    assert run_async(qtbot, own_ctx.client.volumes.list()) == []
    assert (paths.root / "mine.txt").read_text() == "kept"
    assert paths.daemon_json.exists()
    assert (docker_config / "config.json").read_text() == "{}"


@NOISE
def test_reset_to_factory_defaults(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from app import autostart

    autostart.enable()
    assert autostart.is_enabled()
    before = window.settings.path.read_text()
    dialog = open_from_help_menu(qtbot, window, "troubleshoot")
    click_tab(qtbot, dialog, "Reset")
    page = dialog.data_page
    qtbot.mouseClick(page.reset_button, Qt.MouseButton.LeftButton)
    box = wait_box(qtbot)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    reset = next(b for b in box.buttons() if b.text() == "Reset")
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    wait_for(qtbot, lambda: page.reset_result is not None)
    result = page.reset_result
    assert result.backup is not None and result.backup.read_text() == before
    data = json.loads(window.settings.path.read_text())
    assert data["first_run_done"] is False and data["theme"] == "system"
    assert "https_proxy" not in data
    assert not autostart.is_enabled()
    assert str(result.backup) in page.result_label.text()
    assert window.theme_actions["system"].isChecked()
    # the window's own later save writes the defaults, not the old values, and the next launch
    # opens the first-run guide (app.gui asks app.wizard.wanted)
    window.save_state()
    from app.wizard import wanted

    assert wanted(Settings.load(window.settings.path), env={})  # (the suite sets it to "0")


@NOISE
def test_a_refused_purge_deletes_nothing_and_the_engine_comes_back(
    qtbot: Any, window: Any, own_ctx: Any
) -> None:
    """Another process runs the VM of this engine folder (``portside engine start --vm``): the
    page has stopped the engine by then, and it must start it again."""
    import fcntl
    import os

    paths = own_ctx.engine.paths
    run_async(qtbot, own_ctx.client.volumes.create("pst-purge-refused"))
    vm = paths.root / "vm"
    vm.mkdir()
    (vm / "data.qcow2").write_bytes(b"d" * 4096)
    fd = os.open(vm / "engine.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what the VM's owner holds while it runs
        page, confirm = open_purge(qtbot, window)
        confirm.confirm.setFocus()
        qtbot.keyClick(confirm.confirm, Qt.Key.Key_Space)
        first_pid = own_ctx.engine.status.pid
        qtbot.mouseClick(confirm.purge_button, Qt.MouseButton.LeftButton)
        wait_for(qtbot, lambda: "Nothing more was deleted" in page.result_label.text(), 60)
        text = page.result_label.text()
        assert "The Portside VM is running" in text and "The engine starts again." in text
        assert page.purge_result is None and page.purge_button.isEnabled()
    finally:
        os.close(fd)
    assert (vm / "data.qcow2").exists() and paths.data_root.exists()
    wait_for(qtbot, lambda: own_ctx.client is not None
             and own_ctx.engine.status.pid not in (None, first_pid), 60)  # fmt: skip
    names = [v.name for v in run_async(qtbot, own_ctx.client.volumes.list())]
    assert "pst-purge-refused" in names
