"""The Files tab against the session's real engine, driven with clicks, keys and drops."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.views.container_page.files_tab import FilesTab

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def _tab(app_ctx: Any, qtbot: Any, cid: str) -> FilesTab:
    tab = FilesTab(app_ctx, cid)
    qtbot.addWidget(tab)
    tab.resize(1000, 600)
    tab.show()
    tab.set_active(True)
    _idle(qtbot, tab)
    return tab


def _idle(qtbot: Any, tab: FilesTab, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: tab._task is not None and tab._task.done(), timeout=timeout)
    qtbot.waitUntil(lambda: not tab._busy_row.isVisible(), timeout=timeout)


def _row_text(tab: FilesTab, name: str) -> list[str]:
    row = tab.model.row_of(name)
    assert row >= 0, f"{name} not in {[e.name for e in tab.model.entries]}"
    return [tab.model.index(row, c).data() for c in range(tab.model.columnCount())]


def _row_point(tab: FilesTab, name: str) -> QPoint:
    index = tab.model.index(tab.model.row_of(name), 0)
    return tab.table.visualRect(index).center()


def _go(qtbot: Any, tab: FilesTab, path: str) -> None:
    tab.path_bar.selectAll()
    qtbot.keyClicks(tab.path_bar, path)
    qtbot.keyClick(tab.path_bar, Qt.Key.Key_Return)
    _idle(qtbot, tab)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _drop(tab: FilesTab, paths: list[Path], at: QPoint) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    viewport = tab.table.viewport()
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(at, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(at), action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted()


def test_browse_a_stopped_container(
    app_ctx: Any, qtbot: Any, containers: Any, qtmodeltester: Any
) -> None:
    script = "mkdir -p /srv/a/b && echo hello > /srv/a/x && ln -s a /srv/l && chmod 640 /srv/a/x"
    cid = containers.create("stopped", cmd=["sh", "-c", script], start=True)
    qtbot.waitUntil(lambda: _exited(app_ctx, qtbot, cid), timeout=20000)
    tab = _tab(app_ctx, qtbot, cid)
    assert {"bin/", "etc/", "srv/"} <= {_row_text(tab, n)[0] for n in ("bin", "etc", "srv")}
    assert tab.path_bar.text() == "/"
    _go(qtbot, tab, "/srv")
    assert tab.folder == "/srv"
    qtmodeltester.check(tab.model)
    name, _size, mode, modified, target = _row_text(tab, "l")
    assert (name, mode, target) == ("l", "lrwxrwxrwx", "a")
    assert _row_text(tab, "a")[1] == "6 B" and _row_text(tab, "a")[2] == "drwxr-xr-x"
    assert modified.startswith("20")
    # double-click the folder: into /srv/a
    point = _row_point(tab, "a")
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    _idle(qtbot, tab)
    assert tab.folder == "/srv/a" and tab.path_bar.text() == "/srv/a"
    assert _row_text(tab, "x")[1:3] == ["6 B", "-rw-r-----"]
    assert _row_text(tab, "b")[0] == "b/"
    # Backspace in the table: up again, with the folder we came from selected
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key.Key_Backspace)
    _idle(qtbot, tab)
    assert tab.folder == "/srv" and tab.selected() is not None and tab.selected().name == "a"
    # Enter on the link: follows it to /srv/a
    tab.table.selectRow(tab.model.row_of("l"))
    qtbot.keyClick(tab.table, Qt.Key.Key_Return)
    _idle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.folder == "/srv/a", timeout=10000)
    # the Up button
    qtbot.mouseClick(tab.up_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    assert tab.folder == "/srv"
    # a path that does not exist says so
    _go(qtbot, tab, "/no/such/place")
    assert "no such file or folder" in tab.message.text()
    assert tab.message.objectName() == "fieldError" and tab.folder == "/srv"
    assert tab.path_bar.text() == "/srv"  # the bar says what the table shows


def _exited(app_ctx: Any, qtbot: Any, cid: str) -> bool:
    from tests.gui.conftest import run_async

    return not run_async(qtbot, app_ctx.client.containers.inspect(cid)).running


def test_upload_by_drop_and_button_then_download_round_trips(
    app_ctx: Any, qtbot: Any, containers: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    cid = containers.create(
        "files", cmd=["sh", "-c", "mkdir -p /data/inbox; sleep 300"], start=True
    )
    src = tmp_path / "src"
    (src / "proj" / "sub" / "deeper").mkdir(parents=True)
    (src / "blob.bin").write_bytes(os.urandom(2 * 1024 * 1024 + 3))
    (src / "proj" / "readme.txt").write_text("hello\n")
    (src / "proj" / "sub" / "data.bin").write_bytes(os.urandom(50_000))
    (src / "proj" / "sub" / "deeper" / "empty").write_bytes(b"")
    tab = _tab(app_ctx, qtbot, cid)
    _go(qtbot, tab, "/data")
    # drop the file ON the "inbox" folder row: it goes into /data/inbox
    _drop(tab, [src / "blob.bin"], _row_point(tab, "inbox"))
    _idle(qtbot, tab)
    assert "Uploaded blob.bin into /data/inbox" in tab.message.text()
    # the folder through the button (the folder dialog answered by the test)
    monkeypatch.setattr(tab, "choose_upload_folder", lambda: str(src / "proj"))
    qtbot.mouseClick(tab.upload_dir_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    qtbot.waitUntil(lambda: tab.model.row_of("proj") >= 0, timeout=10000)
    assert "Uploaded proj into /data" in tab.message.text()

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(tab, "choose_download_folder", lambda: str(out))
    tab.table.selectRow(tab.model.row_of("proj"))
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    assert _tree(out / "proj") == _tree(src / "proj") and len(_tree(src / "proj")) == 3
    assert "Downloaded /data/proj" in tab.message.text()
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)  # again: refused
    _idle(qtbot, tab)
    assert "already exists" in tab.message.text() and tab.message.objectName() == "fieldError"

    _go(qtbot, tab, "/data/inbox")
    tab.table.selectRow(tab.model.row_of("blob.bin"))
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    assert _sha(out / "blob.bin") == _sha(src / "blob.bin")
    assert tab.progress.maximum() == 1000  # a file's size is known: real progress


def test_read_only_places_show_why(
    app_ctx: Any, qtbot: Any, containers: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    cid = containers.create("readonly", start=True, extra={"HostConfig": {"ReadonlyRootfs": True}})
    (tmp_path / "note.txt").write_text("x")
    tab = _tab(app_ctx, qtbot, cid)
    _go(qtbot, tab, "/etc")
    monkeypatch.setattr(tab, "choose_upload_files", lambda: [str(tmp_path / "note.txt")])
    qtbot.mouseClick(tab.upload_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    text = tab.message.text()
    assert "read-only" in text and "--read-only" in text and tab.message.isVisible()
    assert tab.message.objectName() == "fieldError"
    # a folder on this computer nobody may write to (sysfs refuses new files, even to root)
    tab.table.selectRow(tab.model.row_of("hostname"))
    monkeypatch.setattr(tab, "choose_download_folder", lambda: "/sys")
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    text = tab.message.text()
    assert "permission denied on this computer" in text and "Choose a folder" in text
    assert not Path("/sys/hostname").exists()
    # a file is not a folder to upload into
    _go(qtbot, tab, "/bin")
    _drop(tab, [tmp_path / "note.txt"], _row_point(tab, "sh"))  # on a file row: into /bin
    _idle(qtbot, tab)
    assert "read-only" in tab.message.text()


def test_cancel_a_big_download(
    app_ctx: Any, qtbot: Any, containers: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    script = "dd if=/dev/zero of=/b bs=1M count=200 2>/dev/null; mv /b /big; sleep 300"
    cid = containers.create("big", cmd=["sh", "-c", script], start=True)
    tab = _tab(app_ctx, qtbot, cid)
    qtbot.waitUntil(lambda: _refreshed_has(qtbot, tab, "big"), timeout=60000)
    tab.table.selectRow(tab.model.row_of("big"))
    monkeypatch.setattr(tab, "choose_download_folder", lambda: str(tmp_path))
    qtbot.mouseClick(tab.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.progress.maximum() == 1000 and tab.progress.value() > 0)
    assert tab._busy_row.isVisible() and "of 200 MiB" in tab.progress.format()
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    assert not tab._busy_row.isVisible() and tab.message.text() == "Cancelled."
    qtbot.waitUntil(lambda: app_ctx.runner.in_flight(f"files.{cid}") is False, timeout=10000)
    assert (tmp_path / "big").stat().st_size < 200 << 20


def _refreshed_has(qtbot: Any, tab: FilesTab, name: str) -> bool:
    qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, tab)
    return tab.model.row_of(name) >= 0
