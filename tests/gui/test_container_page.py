"""The container page on the real engine, driven by real keys and clicks.

Opened with Enter, with a double-click and from the details pane; back with Escape, Alt+Left and
the Back button. The header says the state with the uptime or the exit code and links the
published port; a restart reaches every tab (a recording tab next to the real ones), a removal
is announced and disables the actions; "Commit to image…" makes an image with the message and
author the user typed.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any, ClassVar

import pytest
import shiboken6
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.views.container_page import page as page_module
from app.views.container_page.commit_dialog import CommitDialog, check_target
from app.views.container_page.header import state_line
from app.views.containers import ContainersView
from engine.errors import NotFound
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]


class RecordingTab(QWidget):
    """A tab that keeps what the page tells it (the page treats it like any other tab)."""

    title: ClassVar[str] = "Recorder"
    made: ClassVar[list[RecordingTab]] = []

    def __init__(self, ctx: Any, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.changes: list[Any] = []
        self.active: list[bool] = []
        self.closed = 0
        RecordingTab.made.append(self)

    def set_active(self, active: bool) -> None:
        self.active.append(active)

    def container_changed(self, details: Any) -> None:
        self.changes.append(details)

    def close_tab(self) -> None:
        self.closed += 1


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[RecordingTab]:
    RecordingTab.made = []
    monkeypatch.setattr(page_module, "TAB_CLASSES", [*page_module.TAB_CLASSES, RecordingTab])
    return RecordingTab


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> ContainersView:
    return shown_containers_view(qtbot, app_ctx)


def _show_row(view: ContainersView, qtbot: Any, cid: str, name: str) -> Any:
    view.search.setText(name)
    wait_for(qtbot, lambda: cid in view.model and view.proxy.rowCount() == 1)
    index = view.proxy.index(0, 0)
    rect = view.tree.visualRect(index)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_ids() == [cid]
    return rect


def _open_with_enter(view: ContainersView, qtbot: Any, cid: str, name: str) -> Any:
    _show_row(view, qtbot, cid, name)
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert view.page is not None and view.stack.currentWidget() is view.page
    page = view.page
    wait_for(qtbot, lambda: page.details is not None)
    return page


def test_enter_opens_the_page_and_escape_alt_left_and_back_return(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    cid = containers.create(
        "web",
        start=True,
        extra={
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "0"}]}},
        },
    )
    name = containers.name("web")
    page = _open_with_enter(view, qtbot, cid, name)
    header = page.header
    assert header.name.text() == name
    assert header.image.full_text() == containers.image == header.image.toolTip()
    assert header.image.text() == containers.image  # wide enough: not elided
    wait_for(qtbot, lambda: header.state.text().startswith("Running · up "))
    # the published port is a link to 127.0.0.1 and a click opens it
    port = page.details.raw["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    url = f"http://127.0.0.1:{port}"
    assert f'href="{url}"' in header.ports.text()
    opened: list[str] = []
    page.open_url = lambda u: opened.append(u) is None
    on_link = QPoint(8, header.ports.height() // 2)  # the text starts with the link
    qtbot.mouseClick(header.ports, Qt.MouseButton.LeftButton, pos=on_link)
    assert opened == [url]
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles == ["Logs", "Terminal", "Stats", "Inspect", "Files"]

    # Escape where the focus is (the current tab) goes back to the list, the row selected
    assert page.isAncestorOf(QApplication.focusWidget())
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert view.page is None and view.stack.currentWidget() is view.table_page
    assert view.selected_ids() == [cid] and QApplication.focusWidget() is view.tree

    page = _open_with_enter(view, qtbot, cid, name)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert view.page is None and view.stack.currentWidget() is view.table_page

    page = _open_with_enter(view, qtbot, cid, name)
    qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)
    assert view.page is None and view.stack.currentWidget() is view.table_page


def test_double_click_and_the_details_button_open_the_page(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    cid = containers.create("dbl", cmd=["sh", "-c", "exit 3"], start=True)
    name = containers.name("dbl")
    wait_for(qtbot, lambda: (view.model.get(cid) or {}).get("state") == "exited")
    rect = _show_row(view, qtbot, cid, name)
    qtbot.mouseDClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.page is not None and view.stack.currentWidget() is view.page
    page = view.page
    wait_for(qtbot, lambda: page.details is not None)
    assert page.header.state.text().startswith("Exited with code 3 · ")
    assert page.header.buttons["start"].isEnabled()
    assert not page.header.buttons["stop"].isEnabled()
    qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)

    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    assert view.details.isVisible() and view.details.container_id == cid
    wait_for(qtbot, lambda: view.details.open_page_button.height() > 0)  # laid out
    qtbot.mouseClick(view.details.open_page_button, Qt.MouseButton.LeftButton)
    assert view.page is not None and view.page.container_id.startswith(cid)
    assert view.stack.currentWidget() is view.page


def test_the_page_follows_a_restart_and_a_stop_on_every_tab(
    view: ContainersView, containers: Any, qtbot: Any, recorder: type[RecordingTab]
) -> None:
    cid = containers.create("follow", start=True)
    page = _open_with_enter(view, qtbot, cid, containers.name("follow"))
    tab = recorder.made[-1]
    inspect = page.tab("Inspect")
    first = page.details.started_at
    assert tab.changes and tab.changes[-1].started_at == first
    assert not tab.active[-1]  # shown, but not the current tab
    page.show_tab("Recorder")
    assert tab.active[-1] is True

    qtbot.mouseClick(page.header.buttons["restart"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.details.started_at != first and page.details.running, timeout=30)
    restarted = page.details.started_at
    # the recording tab AND the real Inspect tab got the new run
    wait_for(qtbot, lambda: tab.changes[-1].started_at == restarted)
    index = inspect.model.index_of_path("State.StartedAt", 1)
    assert index.data() == restarted
    wait_for(qtbot, lambda: page.header.state.text().startswith("Running · up "))

    qtbot.mouseClick(page.header.buttons["stop"], Qt.MouseButton.LeftButton)  # SIGKILL: 137
    wait_for(qtbot, lambda: page.header.state.text().startswith("Exited with code 137"), 30)
    assert tab.changes[-1].exit_code == 137 and not tab.changes[-1].running
    assert page.header.buttons["start"].isEnabled() and not page.header.buttons["kill"].isEnabled()
    # the restart's own kill/die was not taken for "exited right after it started"
    assert view.notice.isHidden(), view.notice.text.text()

    qtbot.mouseClick(page.header.back, Qt.MouseButton.LeftButton)
    assert tab.closed == 1 and tab.active[-1] is False


def test_pause_resume_rename_and_a_reconnect_are_followed(
    view: ContainersView, containers: Any, qtbot: Any, app_ctx: Any
) -> None:
    cid = containers.create("pausy", start=True)
    page = _open_with_enter(view, qtbot, cid, containers.name("pausy"))
    pause = page.header.buttons["pause"]
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.header.state.text() == "Paused")
    assert pause.text() == "Resume" and pause.accessibleName() == "Resume the container"
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.header.state.text().startswith("Running · up "))
    assert pause.text() == "Pause"
    # renamed from outside: the engine's rename event brings the new name
    new_name = containers.name("renamed")
    run_async(qtbot, app_ctx.client.containers.rename(cid, new_name))
    wait_for(qtbot, lambda: page.header.name.text() == new_name)
    # the connection drops (the view shows the engine state) and comes back: the page again
    client = app_ctx.client
    seen = page.inspect_count
    app_ctx.client_changed.emit(None)
    assert view.stack.currentWidget() is view.state_page
    app_ctx.client_changed.emit(client)
    assert view.stack.currentWidget() is page
    wait_for(qtbot, lambda: page.inspect_count > seen)  # looked again: anything may have changed


def test_removal_is_announced_and_the_actions_are_disabled(
    view: ContainersView, containers: Any, qtbot: Any, recorder: type[RecordingTab], app_ctx: Any
) -> None:
    cid = containers.create("gone", start=True)
    page = _open_with_enter(view, qtbot, cid, containers.name("gone"))
    tab = recorder.made[-1]
    asked: list[str] = []
    view.confirm = lambda _t, text: asked.append(text) is None
    qtbot.mouseClick(page.header.buttons["remove"], Qt.MouseButton.LeftButton)
    assert asked and containers.name("gone") in asked[0]
    wait_for(qtbot, lambda: page.removed, timeout=20)
    assert tab.changes[-1] is None
    assert page.notice.isVisible() and "was removed" in page.notice.text.text()
    assert page.header.state.text() == "Removed"
    assert not any(b.isEnabled() for b in page.header.buttons.values())
    assert page.header.back.isEnabled()
    # the notice's button goes back
    qtbot.mouseClick(page.notice.action, Qt.MouseButton.LeftButton)
    assert view.page is None

    # removed from outside (docker rm) while the page is open
    other = containers.create("gone2", start=True)
    page = _open_with_enter(view, qtbot, other, containers.name("gone2"))
    run_async(qtbot, app_ctx.client.containers.remove(other, force=True))
    wait_for(qtbot, lambda: page.removed, timeout=20)
    assert RecordingTab.made[-1].changes[-1] is None
    assert "was removed" in page.notice.text.text()


def test_commit_makes_an_image_with_the_message_and_author(
    view: ContainersView, containers: Any, qtbot: Any, app_ctx: Any
) -> None:
    cid = containers.create("commit", cmd=["sh", "-c", "echo made > /made.txt; sleep 300"])
    run_async(qtbot, app_ctx.client.containers.start(cid))
    page = _open_with_enter(view, qtbot, cid, containers.name("commit"))
    repo = f"portside-test/commit-{uuid.uuid4().hex[:6]}"
    qtbot.mouseClick(page.header.buttons["commit"], Qt.MouseButton.LeftButton)
    dialog = page.findChild(CommitDialog)
    assert dialog is not None and dialog.isVisible()
    wait_for(qtbot, lambda: QApplication.focusWidget() is dialog.repository)
    # a bad name is explained before any request
    qtbot.keyClicks(dialog.repository, "Bad Name")
    qtbot.keyClick(dialog.repository, Qt.Key.Key_Return)
    assert dialog.error.isVisible() and dialog.isVisible()
    dialog.repository.clear()
    qtbot.keyClicks(dialog.repository, repo)
    qtbot.keyClick(dialog.repository, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.tag, "v2")
    qtbot.keyClicks(dialog.message, "added made.txt")
    qtbot.keyClicks(dialog.author, "Jane Doe <jane@example.com>")
    assert dialog.pause.isChecked()
    actions: list[str] = []  # the engine's events for this container while committing
    app_ctx.engine_event.connect(
        lambda e: actions.append(e.action) if e.actor_id == cid else None
    )
    try:
        qtbot.mouseClick(dialog.commit_button, Qt.MouseButton.LeftButton)
        wait_for(qtbot, lambda: dialog.image_id, timeout=60)
        image = run_async(qtbot, app_ctx.client.images.inspect(f"{repo}:v2"))
        assert image.raw["Comment"] == "added made.txt"
        assert image.raw["Author"] == "Jane Doe <jane@example.com>"
        assert image.raw["Id"] == dialog.image_id
        wait_for(qtbot, lambda: page.status.text().startswith("Committed "))
        assert f"{repo}:v2" in page.status.text()
        # paused while committing (the checkbox), running again after
        wait_for(qtbot, lambda: "unpause" in actions)
        assert actions.index("pause") < actions.index("commit") < actions.index("unpause")
        wait_for(qtbot, lambda: not shiboken6.isValid(dialog))  # closed and deleted
        # the image holds the container's change
        probe = containers.create("probe", cmd=["cat", "/made.txt"], extra={"Image": f"{repo}:v2"})
        run_async(qtbot, app_ctx.client.containers.start(probe))
        run_async(qtbot, app_ctx.client.containers.wait(probe))
        out = run_async(qtbot, _text_of_logs(app_ctx.client, probe))
        assert out == "made\n"

        # again without pausing: no pause event before the commit
        actions.clear()
        qtbot.mouseClick(page.header.buttons["commit"], Qt.MouseButton.LeftButton)
        dialog = page.findChild(CommitDialog)
        wait_for(qtbot, lambda: dialog.isVisible())
        qtbot.keyClicks(dialog.repository, repo)
        qtbot.keyClicks(dialog.tag, "v3")
        qtbot.mouseClick(dialog.pause, Qt.MouseButton.LeftButton)
        assert not dialog.pause.isChecked()
        qtbot.keyClick(dialog.author, Qt.Key.Key_Return)  # Return commits
        wait_for(qtbot, lambda: "commit" in actions, timeout=60)
        assert "pause" not in actions
        run_async(qtbot, app_ctx.client.images.inspect(f"{repo}:v3"))
    finally:
        for tag in ("v2", "v3"):
            with contextlib.suppress(NotFound):
                run_async(qtbot, app_ctx.client.images.remove(f"{repo}:{tag}", force=True))


async def _text_of_logs(client: Any, cid: str) -> str:
    return "".join([part async for _kind, part in client.containers.logs(cid)])


def test_commit_target_and_state_line_rules() -> None:
    assert check_target("", "") == (None, None)
    assert check_target(" myapp ", "") == ("myapp", None)
    assert check_target("reg.example:5000/team/app", "1.0") == ("reg.example:5000/team/app", "1.0")
    for repo, tag, says in (
        ("", "v1", "needs a repository"),
        ("myapp:v1", "", "Tag field"),
        ("MyApp", "", "lowercase"),
        ("my app", "", "spaces"),
        ("myapp", "bad tag!", "tag"),
    ):
        with pytest.raises(ValueError, match=says):
            check_target(repo, tag)
    now = 1_000_000.0
    running = {"State": {"Status": "running", "Running": True, "StartedAt": "1970-01-12T13:41:40Z"}}
    assert state_line(running, now) == "Running · up 5 minutes"
    exited = {"State": {"Status": "exited", "ExitCode": 2, "FinishedAt": "1970-01-12T13:26:40Z"}}
    assert state_line(exited, now) == "Exited with code 2 · 20 minutes ago"
    assert state_line(None) == "Removed"
    assert state_line({"State": {"Status": "created"}}) == "Created, never started"
