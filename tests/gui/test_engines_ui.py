"""The engines list, the add/edit dialog and the switcher, driven by clicks and keys.

Real parts: the session's private engine (A), E's ``dockerd --tlsverify`` with certificates made
by the test (``tls_engine``) and the ``sshd`` serving ``docker system dial-stdio`` for engine A
(``sshd_server``), the docker CLI for the exported context. ``PORTSIDE_CONFIG_DIR`` and
``DOCKER_CONFIG`` point into the test's folder, so engines.json and contexts are the test's own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox, QToolButton

from app.engines.dialog import EnginesDialog
from app.engines.edit_dialog import EngineEditDialog
from app.engines.targets import EntryEngine, remembered_target
from app.main_window import MainWindow
from tests.gui.conftest import wait_for
from tests.gui.pages import main_window_shown, own_config_dirs
from tests.support.engine_fixtures import DOCKER_CLI

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return own_config_dirs(monkeypatch, tmp_path)


@pytest.fixture
def window(app_ctx: Any, qtbot: Any, homes: Path) -> Iterator[MainWindow]:
    with main_window_shown(qtbot, app_ctx, homes, (1280, 720)) as win:
        yield win


def later(qtbot: Any, action: Callable[[], None], ms: int = 150) -> None:
    """Run ``action`` once a modal loop (a menu, a file or message box) is up."""
    QTimer.singleShot(ms, action)


def menu_pick(qtbot: Any, qtlog: Any, button: QToolButton, text: str) -> None:
    """Open ``button``'s menu with a click and choose ``text`` with the keyboard.

    The offscreen platform warns that it cannot grab the keyboard or raise a popup whenever a
    menu opens: Qt's log is not captured while the menu is up.
    """
    with qtlog.disabled():
        _menu_pick(qtbot, button, text)


def _menu_pick(qtbot: Any, button: QToolButton, text: str) -> None:
    def choose() -> None:
        menu = button.menu()
        action = next(a for a in menu.actions() if a.text() == text)
        menu.setActiveAction(action)
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    later(qtbot, choose)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def modal_answer(qtbot: Any, key: Qt.Key = Qt.Key.Key_Y) -> None:
    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        box.button(QMessageBox.StandardButton.Yes).click() if key == Qt.Key.Key_Y else box.reject()

    later(qtbot, answer)


def open_manager(qtbot: Any, qtlog: Any, window: MainWindow) -> EnginesDialog:
    menu_pick(qtbot, qtlog, window.engine_button, "Manage engines…")  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: getattr(window, "engines_dialog", None) is not None)
    dialog: EnginesDialog = window.engines_dialog  # type: ignore[attr-defined]
    wait_for(qtbot, dialog.isVisible)
    return dialog


def fill(qtbot: Any, dialog: EngineEditDialog, name: str, kind_steps: int, address: str) -> None:
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, name)
    dialog.kind.setFocus()
    qtbot.keyClick(dialog.kind, Qt.Key.Key_Home)
    for _ in range(kind_steps):
        qtbot.keyClick(dialog.kind, Qt.Key.Key_Down)
    dialog.address.clear()
    qtbot.keyClicks(dialog.address, address)


def click_box(qtbot: Any, box: Any) -> None:
    """Click a check box on its indicator (a form row makes the widget wider than its text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def row_of(dialog: EnginesDialog, name: str) -> dict[str, Any]:
    for entry_id in dialog.model.ids():
        row = dialog.model.get(entry_id) or {}
        if row.get("name") == name:
            return {"id": entry_id, **row}
    raise AssertionError(f"no row {name!r} in {[dialog.model.get(i) for i in dialog.model.ids()]}")


def click_row(qtbot: Any, dialog: EnginesDialog, entry_id: str) -> None:
    index = dialog.model.index(dialog.model.row_for(entry_id), 0)
    rect = dialog.table.visualRect(index)
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_add_a_tls_engine_switch_to_it_export_edit_and_remove(
    app_ctx: Any, qtbot: Any, window: MainWindow, homes: Path, tls_engine: Any,
    engine_endpoint: str, qtlog: Any,
) -> None:
    ctx = app_ctx
    view: Any = window.views["containers"]
    manager = open_manager(qtbot, qtlog, window)
    # Portside's own engines and the docker CLI's default context are listed
    names = [manager.model.get(i)["name"] for i in manager.model.ids()]  # type: ignore[index]
    assert "default" in names and "Portside engine" in names

    qtbot.mouseClick(manager.buttons["add"], Qt.MouseButton.LeftButton)
    editor = manager.edit_dialog
    assert editor is not None and editor.isVisible()
    fill(qtbot, editor, "TLS box", 1, f"127.0.0.1:{tls_engine.port}")
    assert not editor.files["ca"].isVisible()  # TLS fields only once TLS is on
    click_box(qtbot, editor.tls)
    assert editor.verify.isChecked() and editor.files["ca"].isVisible()
    # --tlsverify without a CA: the form says what to pick
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert "CA certificate" in editor.error.text() and editor.isVisible()
    # the wrong CA, chosen in the file picker: Test connection says "unknown CA" in words
    qtbot.mouseClick(editor.browse["ca"], Qt.MouseButton.LeftButton)
    picker = editor.file_dialog
    assert picker is not None and picker.isVisible()
    picker.selectFile(str(tls_engine.pki.p("other-ca.pem")))
    picker.accept()
    wait_for(qtbot, lambda: editor.files["ca"].text().endswith("other-ca.pem"))
    qtbot.keyClicks(editor.files["cert"], str(tls_engine.pki.p("cert.pem")))
    qtbot.keyClicks(editor.files["key"], str(tls_engine.pki.p("key.pem")))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Not connected" in editor.outcome.text(), timeout=30)
    assert "unknown CA" in editor.outcome.text()
    editor.files["ca"].clear()
    qtbot.keyClicks(editor.files["ca"], str(tls_engine.pki.p("ca.pem")))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Connected: Docker" in editor.outcome.text(), timeout=30)
    qtbot.keyClick(editor.address, Qt.Key.Key_Return)  # Enter = Add
    wait_for(qtbot, lambda: not editor.isVisible())

    tls_row = row_of(manager, "TLS box")
    wait_for(qtbot, lambda: row_of(manager, "TLS box")["state"] == "running", timeout=30)
    tls_row = row_of(manager, "TLS box")
    assert tls_row["version"] and tls_row["os"] == "linux" and tls_row["arch"]
    stored = json.loads((homes / "config" / "engines.json").read_text())
    assert "PRIVATE KEY" not in json.dumps(stored)  # paths only; the key stays a 0600 file

    # Use it: the whole app moves; the choice is remembered
    click_row(qtbot, manager, tls_row["id"])
    qtbot.mouseClick(manager.buttons["use"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: ctx.client is not None and ctx.engine.endpoint == tls_engine.url,
             timeout=30)
    wait_for(qtbot, lambda: view.store.synced_once)
    assert window.engine_button.text() == "Engine: TLS box"  # type: ignore[attr-defined]
    saved = json.loads((homes / "config" / "settings.json").read_text())
    assert saved["engine_id"] == tls_row["id"]
    again = remembered_target(tls_row["id"])
    assert again is not None and isinstance(again.engine, EntryEngine)
    assert again.engine.endpoint == tls_engine.url

    # an engine that is not there: listed as Unreachable with the reason; using it shows why
    qtbot.mouseClick(manager.buttons["add"], Qt.MouseButton.LeftButton)
    editor = manager.edit_dialog
    assert editor is not None
    fill(qtbot, editor, "Gone", 0, str(homes / "nothing.sock"))
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: row_of(manager, "Gone")["state"] == "unreachable", timeout=30)
    gone = row_of(manager, "Gone")
    assert "nothing.sock" in gone["reason"]
    click_row(qtbot, manager, gone["id"])
    qtbot.keyClick(manager.table, Qt.Key.Key_Return)  # Enter = Use
    wait_for(qtbot, lambda: view.stack.currentWidget() is view.state_page, timeout=30)
    wait_for(qtbot, lambda: "nothing.sock" in ctx.engine.status.detail)
    assert view.model.rowCount() == 0  # nothing of the TLS engine is left behind

    # back to A (the engine the app was started with) from the footer's menu
    menu_pick(qtbot, qtlog, window.engine_button, "Attached at launch")  # type: ignore[attr-defined]
    wait_for(qtbot, lambda: ctx.client is not None and ctx.engine.endpoint == engine_endpoint,
             timeout=30)
    wait_for(qtbot, lambda: view.model.rowCount() >= 0 and view.store.synced_once)

    # export as a docker context: the docker CLI reaches the TLS engine through it
    click_row(qtbot, manager, tls_row["id"])

    def name_it() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QInputDialog), box
        assert box.textValue() == "tls-box"  # made from the engine's name
        box.setTextValue("")
        qtbot.keyClicks(box.findChild(QLineEdit), "pst-tls-ctx")
        qtbot.keyClick(box.findChild(QLineEdit), Qt.Key.Key_Return)

    later(qtbot, name_it)
    qtbot.mouseClick(manager.buttons["export"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Wrote docker context pst-tls-ctx" in manager.status.text())
    out = subprocess.run(
        [DOCKER_CLI, "--context", "pst-tls-ctx", "version", "--format", "{{.Server.Os}}"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DOCKER_CONFIG": str(homes / "docker")},
    )
    assert out.stdout.strip() == "linux", out.stderr

    # edit: a new name shows in the list and the menus
    click_row(qtbot, manager, tls_row["id"])
    qtbot.mouseClick(manager.buttons["edit"], Qt.MouseButton.LeftButton)
    editor = manager.edit_dialog
    assert editor is not None and editor.tls.isChecked()
    assert editor.files["ca"].text()  # the stored copy of ca.pem
    editor.name.selectAll()
    qtbot.keyClicks(editor.name, "TLS renamed")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: any(e.name == "TLS renamed"
                                for e in window.engine_switcher.entries))  # type: ignore[attr-defined]
    row_of(manager, "TLS renamed")

    # remove: Delete asks first; the engine in use cannot be removed
    click_row(qtbot, manager, gone["id"])
    modal_answer(qtbot)
    qtbot.keyClick(manager.table, Qt.Key.Key_Delete)
    wait_for(qtbot, lambda: all(manager.model.get(i)["name"] != "Gone"  # type: ignore[index]
                                for i in manager.model.ids()))
    assert "Removed Gone" in manager.status.text()



def test_an_ssh_engine_from_the_dialog_and_the_tray_menu(
    app_ctx: Any, qtbot: Any, window: MainWindow, homes: Path, sshd_server: Any,
    monkeypatch: pytest.MonkeyPatch, engine_endpoint: str,
) -> None:
    from app.engines.install import install_tray
    from app.tray import Tray

    ctx = app_ctx
    view: Any = window.views["containers"]
    window.open_engines()  # type: ignore[attr-defined]
    manager: EnginesDialog = window.engines_dialog  # type: ignore[attr-defined]
    qtbot.mouseClick(manager.buttons["add"], Qt.MouseButton.LeftButton)
    editor = manager.edit_dialog
    assert editor is not None
    address = f"{sshd_server.user}@127.0.0.1:{sshd_server.port}"
    fill(qtbot, editor, "Over ssh", 2, address)
    assert not editor.tls.isVisible()  # TLS is for tcp:// only
    # a host key Portside does not know is refused, with the step that trusts it
    monkeypatch.setenv("PORTSIDE_SSH_CONFIG", str(sshd_server.unknown_config))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Not connected" in editor.outcome.text(), timeout=30)
    assert "ssh-error" in editor.outcome.text() and "host key" in editor.outcome.text()
    assert "ssh-keyscan" in editor.outcome.text()
    monkeypatch.setenv("PORTSIDE_SSH_CONFIG", str(sshd_server.config))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "Connected: Docker" in editor.outcome.text(), timeout=30)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: row_of(manager, "Over ssh")["state"] == "running", timeout=30)
    assert row_of(manager, "Over ssh")["url"] == f"ssh://{address}"

    # the tray's Engine submenu lists it; choosing it moves the app
    tray = Tray(ctx, window.show, lambda: None)
    submenu = install_tray(tray, window)
    assert submenu.title() == "Engine: Attached at launch"
    names = [a.text() for a in submenu.actions() if not a.isSeparator()]
    assert "Over ssh" in names and names[-1] == "Manage engines…"
    next(a for a in submenu.actions() if a.text() == "Over ssh").trigger()
    wait_for(qtbot, lambda: ctx.client is not None and ctx.engine.endpoint.startswith("ssh://"),
             timeout=30)
    assert ctx.client.endpoint.scheme == "ssh"
    wait_for(qtbot, lambda: view.store.synced_once, timeout=30)
    assert submenu.title() == "Engine: Over ssh"
    checked = [a.text() for a in submenu.actions() if a.isChecked()]
    assert checked == ["Over ssh"]
    # port links of an ssh engine point at its host (127.0.0.1 here, as the sshd listens there)
    from app.models.containers import port_url

    assert port_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"


def test_port_links_point_at_a_remote_engines_host(
    app_ctx: Any, qtbot: Any, window: MainWindow, containers: Any,
) -> None:
    from app.engines import links
    from app.models.containers import port_urls, ports_tooltip
    from app.views.container_page.header import port_links

    view: Any = window.views["containers"]
    cid = containers.create("web", start=True, extra={
        "ExposedPorts": {"80/tcp": {}},
        "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "0"}]}},
    })
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("ports"))
    row = view.model.get(cid)
    local = port_urls(row)
    assert local and all(u.startswith("http://127.0.0.1:") for u in local)

    class Remote:
        endpoint = "tcp://docker-host.example:2376"

    try:
        assert links.set_for(Remote()) == "docker-host.example"
        remote = port_urls(row)
        assert [u.rsplit(":", 1)[1] for u in remote] == [u.rsplit(":", 1)[1] for u in local]
        assert all(u.startswith("http://docker-host.example:") for u in remote)
        assert "http://docker-host.example:" in (ports_tooltip(row) or "")
        inspected = run_inspect(app_ctx, qtbot, cid)
        assert port_links(inspected)[0][0].startswith("http://docker-host.example:")
        Remote.endpoint = "ssh://me@build-box:2222"
        assert links.set_for(Remote()) == "build-box"
    finally:
        links.set_for(app_ctx.engine)
    assert port_urls(row) == local


def run_inspect(ctx: Any, qtbot: Any, cid: str) -> dict[str, Any]:
    from tests.gui.conftest import run_async

    async def _go() -> dict[str, Any]:
        details = await ctx.client.containers.inspect(cid)
        return dict(details.raw)

    return run_async(qtbot, _go())


# qasync, when the stopped engine's sockets close under it (as in test_troubleshoot.py)
@pytest.mark.qt_log_ignore("does not support propagateSizeHints", "QSocketNotifier: Invalid socket")
def test_moving_to_portsides_own_engine_starts_it_and_it_stays_until_quit(
    app_ctx: Any, qtbot: Any, window: MainWindow, tmp_path: Path,
) -> None:
    """Portside's own engine is started by the switch (not only attached), keeps running when
    the app moves away (switching back is instant) and is stopped by the app's shutdown."""
    from engine.lifecycle import EnginePaths, NativeEngine
    from engine.lifecycle.base import EngineState
    from tests.gui.conftest import run_async

    ctx = app_ctx
    view: Any = window.views["containers"]
    switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
    root = Path(tempfile.mkdtemp(prefix="pso-", dir="/tmp"))
    own = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    switcher._engines["portside-native"] = own  # a private one instead of ~/.local/share
    home = switcher.current_id
    try:
        task = switcher.switch_to("portside-native")
        wait_for(qtbot, task.done, timeout=90)
        task.result()
        wait_for(qtbot, lambda: ctx.client is not None and view.store.synced_once, timeout=60)
        assert ctx.engine is own and not ctx.attached
        assert window.engine_button.text() == "Engine: Portside engine"  # type: ignore[attr-defined]
        task = switcher.switch_to(home)
        wait_for(qtbot, task.done, timeout=60)
        wait_for(qtbot, lambda: ctx.client is not None, timeout=30)
        assert own.status.state == EngineState.RUNNING  # parked, not stopped
        run_async(qtbot, ctx.shutdown(), timeout=60)
        assert own.status.state == EngineState.STOPPED  # quitting stops it
    finally:
        if own.status.state != EngineState.STOPPED:
            run_async(qtbot, own.stop(timeout=20), timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def test_the_switcher_follows_an_engine_chosen_elsewhere(
    app_ctx: Any, qtbot: Any, window: MainWindow, tls_engine: Any,
) -> None:
    """The first-run guide moves the app with AppContext.use_engine: the footer follows."""
    from engine.engines import add_engine
    from engine.lifecycle import ExternalEngine
    from tests.gui.conftest import run_async

    url = f"unix://{tls_engine.socket}"
    add_engine("TLS engine's socket", url)
    switcher: Any = window.engine_switcher  # type: ignore[attr-defined]
    switcher.reload()
    run_async(qtbot, app_ctx.use_engine(ExternalEngine(url), attached=True))
    wait_for(qtbot, lambda: window.engine_button.text()  # type: ignore[attr-defined]
             == "Engine: TLS engine's socket")
    assert switcher.current is not None and switcher.current.url == url


def test_a_context_made_with_the_docker_cli_shows_up_probed(
    app_ctx: Any, qtbot: Any, window: MainWindow, homes: Path, engine_endpoint: str,
    qtlog: Any,
) -> None:
    """docker context create while the app runs: the next look at the footer menu lists it,
    and the Engines window probes it as it lands (no Refresh needed)."""
    manager = open_manager(qtbot, qtlog, window)
    subprocess.run(
        [DOCKER_CLI, "context", "create", "pst-made-by-cli", "--docker",
         f"host={engine_endpoint}"],
        check=True, capture_output=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DOCKER_CONFIG": str(homes / "docker")},
    )
    shown: list[str] = []

    def look() -> None:
        menu = window.engine_button.menu()  # type: ignore[attr-defined]
        shown.extend(a.text() for a in menu.actions())
        menu.close()

    with qtlog.disabled():
        later(qtbot, look)
        qtbot.mouseClick(window.engine_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert "pst-made-by-cli" in shown
    wait_for(qtbot, lambda: row_of(manager, "pst-made-by-cli")["state"] == "running", timeout=30)
    assert row_of(manager, "pst-made-by-cli")["kind"] == "context"
