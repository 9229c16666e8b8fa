"""The Inspect tab on a real container: search with a count, copy of a path and a value, secrets
masked until clicked (in the tree, in copies and in the raw JSON), kept across a restart.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QMenu

from app.views.container_page.inspect_tree import (
    MASK,
    PATH_ROLE,
    build_tree,
    child_path,
    copy_text,
    is_secret_name,
    masked_document,
    walk,
)
from tests.gui.conftest import wait_for
from tests.gui.pages import click_tab, open_container_page, shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]

SECRET = "hunter2-s3cret"
ENV = ["PLAIN_NEEDLE=needle-in-env", f"DB_PASSWORD={SECRET}", "API_TOKEN=tok-123"]
LABELS = {"needle.label": "x", "other": "y"}


@pytest.fixture
def inspect_page(app_ctx: Any, qtbot: Any, containers: Any) -> Any:
    cid = containers.create(
        "insp",
        cmd=["sh", "-c", "echo needle; sleep 300"],
        labels=LABELS,
        start=True,
        extra={"Env": ENV},
    )
    view = shown_containers_view(qtbot, app_ctx)
    page = open_container_page(qtbot, view, cid)
    tab = page.tab("Inspect")
    assert click_tab(qtbot, page, "Inspect") is tab  # the user clicks the Inspect tab
    wait_for(qtbot, lambda: tab.has_document)
    return page, tab


def _select_path(qtbot: Any, tab: Any, path: str, column: int = 0) -> Any:
    src = tab.model.index_of_path(path, column)
    idx = tab.proxy.mapFromSource(src)
    assert idx.isValid(), path
    tab.tree.scrollTo(idx)
    tab.tree.expand(idx.parent())
    rect = tab.tree.visualRect(idx)
    qtbot.mouseClick(tab.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.tree.currentIndex().data(PATH_ROLE) == path
    return idx


def _visible_paths(tab: Any) -> set[str]:
    out: set[str] = set()
    stack = [QModelIndex()]
    while stack:
        parent = stack.pop()
        for r in range(tab.proxy.rowCount(parent)):
            idx = tab.proxy.index(r, 0, parent)
            out.add(str(idx.data(PATH_ROLE)))
            stack.append(idx)
    return out


def test_search_filters_counts_and_enter_walks_the_matches(inspect_page: Any, qtbot: Any) -> None:
    page, tab = inspect_page
    raw = page.details.raw
    env_at = raw["Config"]["Env"].index("PLAIN_NEEDLE=needle-in-env")
    cmd_at = raw["Config"]["Cmd"].index("echo needle; sleep 300")
    tab.search.setFocus()
    qtbot.keyClicks(tab.search, "NEEDLE")  # case does not matter
    # a key (the label) and three values: the env entry, the command, its Args
    expected = {
        'Config.Labels["needle.label"]',
        f"Config.Env[{env_at}]",
        f"Config.Cmd[{cmd_at}]",
        "Args[1]",
    }
    assert tab.count.text() == "4 matches"
    shown = _visible_paths(tab)
    assert expected <= shown
    assert "State" not in shown and "HostConfig" not in shown  # no match under them
    assert "Config" in shown  # the branch that leads to matches
    # Enter goes from match to match, in document order, and wraps
    seen = []
    for _ in range(5):
        qtbot.keyClick(tab.search, Qt.Key.Key_Return)
        seen.append(tab.current_path())
    assert set(seen[:4]) == expected and seen[4] == seen[0]
    # a masked secret's value never matches
    tab.search.clear()
    qtbot.keyClicks(tab.search, SECRET)
    assert tab.count.text() == "No match"
    # Escape in a search with text clears it; the next Escape goes back to the list
    qtbot.keyClick(tab.search, Qt.Key.Key_Escape)
    assert tab.search.text() == "" and page.isVisible()
    assert tab.count.text() == "" and "State" in _visible_paths(tab)
    back: list[bool] = []
    page.back_requested.connect(lambda: back.append(True))
    qtbot.keyClick(tab.search, Qt.Key.Key_Escape)
    assert back == [True]


@pytest.mark.qt_log_ignore(  # what the offscreen platform says about popup menus
    "does not support raise", "does not support grabbing", "does not support propagateSizeHints"
)
def test_copy_path_and_value_by_keys_and_context_menu(inspect_page: Any, qtbot: Any) -> None:
    page, tab = inspect_page
    raw = page.details.raw
    env_at = raw["Config"]["Env"].index("PLAIN_NEEDLE=needle-in-env")
    clipboard = QApplication.clipboard()
    tab.expand_all()
    _select_path(qtbot, tab, f"Config.Env[{env_at}]")
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == "PLAIN_NEEDLE=needle-in-env"
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, ctrl_shift)
    assert clipboard.text() == f"Config.Env[{env_at}]"
    assert tab.path_label.text() == f"Copied the path Config.Env[{env_at}]"

    # the context menu on a label with a dotted key copies a path you can paste into jq
    idx = _select_path(qtbot, tab, 'Config.Labels["needle.label"]')
    tab.tree.customContextMenuRequested.emit(tab.tree.visualRect(idx).center())
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    wait_for(qtbot, menu.isVisible)
    path_action = next(a for a in menu.actions() if a.text() == "Copy path")
    where = menu.actionGeometry(path_action).center()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=where)
    assert clipboard.text() == 'Config.Labels["needle.label"]'
    # Ctrl+C on an inner node copies its JSON
    _select_path(qtbot, tab, "Config.Labels")
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert '"needle.label": "x"' in clipboard.text()


def test_secrets_are_masked_until_clicked_also_in_raw_and_copies(
    inspect_page: Any, qtbot: Any
) -> None:
    page, tab = inspect_page
    raw = page.details.raw
    at = raw["Config"]["Env"].index(f"DB_PASSWORD={SECRET}")
    path = f"Config.Env[{at}]"
    clipboard = QApplication.clipboard()
    tab.expand_all()
    idx = _select_path(qtbot, tab, path)
    value = idx.siblingAtColumn(1)
    assert value.data() == f"DB_PASSWORD={MASK}"
    token_at = raw["Config"]["Env"].index("API_TOKEN=tok-123")
    token = tab.model.index_of_path(f"Config.Env[{token_at}]", 1)
    assert token.data() == f"API_TOKEN={MASK}"
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert SECRET not in clipboard.text() and MASK in clipboard.text()
    _select_path(qtbot, tab, "Config")
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert SECRET not in clipboard.text() and "tok-123" not in clipboard.text()
    qtbot.mouseClick(tab.buttons["raw"], Qt.MouseButton.LeftButton)
    assert tab.stack.currentWidget() is tab.raw
    assert SECRET not in tab.raw.toPlainText() and f"DB_PASSWORD={MASK}" in tab.raw.toPlainText()
    qtbot.mouseClick(tab.buttons["raw"], Qt.MouseButton.LeftButton)
    assert tab.stack.currentWidget() is tab.tree

    # a click on the masked value shows it, in the tree, copies and the raw view
    rect = tab.tree.visualRect(value)
    qtbot.mouseClick(tab.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert value.data() == f"DB_PASSWORD={SECRET}"
    qtbot.keyClick(tab.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == f"DB_PASSWORD={SECRET}"
    assert SECRET in tab.raw.toPlainText() and "tok-123" not in tab.raw.toPlainText()
    # revealed stays revealed when a restart brings a new inspect; Space masks it again
    first = page.details.started_at
    qtbot.mouseClick(page.header.buttons["restart"], Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: page.details.started_at != first, timeout=30)
    wait_for(qtbot, lambda: tab.model.index_of_path("State.StartedAt", 1).data() != first)
    value = tab.model.index_of_path(path, 1)
    assert value.data() == f"DB_PASSWORD={SECRET}"
    assert tab.current_path() == path  # the selection survived the new document
    qtbot.keyClick(tab.tree, Qt.Key.Key_Space)
    assert tab.model.index_of_path(path, 1).data() == f"DB_PASSWORD={MASK}"
    assert SECRET not in tab.raw.toPlainText()


def test_paths_secret_names_and_masking_rules() -> None:
    assert child_path("", "Config") == "Config"
    assert child_path("Config", "Env") == "Config.Env"
    assert child_path("Config.Env", 2) == "Config.Env[2]"
    assert child_path("NetworkSettings.Ports", "80/tcp") == 'NetworkSettings.Ports["80/tcp"]'
    for name in (
        "DB_PASSWORD", "api_key", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "BASIC_AUTH",
        "GOOGLE_APPLICATION_CREDENTIALS", "MYSQL_ROOT_PWD", "SSH_PRIVATE",
    ):  # fmt: skip
        assert is_secret_name(name), name
    for name in ("PATH", "HOME", "HOSTNAME", "PWD", "LANG", "TZ", "NGINX_VERSION"):
        assert not is_secret_name(name), name
    doc = {"Config": {"Env": ["A=1", "MY_TOKEN=zzz"], "Labels": {"TOKEN": "label-not-env"}}}
    root = build_tree(doc)
    secret = [n for n in walk(root) if n.secret_name]
    assert [n.path for n in secret] == ["Config.Env[1]"]  # only env entries are masked
    assert "zzz" not in masked_document(root, set())
    assert "zzz" in masked_document(root, {"Config.Env[1]"})
    assert copy_text(secret[0], set()) == f"MY_TOKEN={MASK}"
    assert copy_text(root.children[0], set()).count(MASK) == 1


def test_inspect_model_and_filter_pass_the_model_tester(qtmodeltester: Any) -> None:
    from app.views.container_page.inspect_tree import InspectFilter, InspectModel

    model = InspectModel()
    doc = {
        "Id": "abc",
        "Config": {"Env": ["A=1", "DB_PASSWORD=x"], "Labels": {"a.b": "c"}, "Cmd": None},
        "NetworkSettings": {"Ports": {"80/tcp": [{"HostPort": "8080"}]}},
        "Mounts": [],
    }
    model.set_document(doc)
    qtmodeltester.check(model)
    proxy = InspectFilter()
    proxy.setSourceModel(model)
    assert model.set_query("8080") == 1
    proxy.refilter()
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1  # only NetworkSettings leads to the match
    model.set_document({**doc, "Id": "def"})  # a new inspect keeps the query
    assert model.match_count() == 1


def test_the_details_pane_masks_secrets_too(app_ctx: Any, qtbot: Any, containers: Any) -> None:
    cid = containers.create("pane", start=True, extra={"Env": ENV})
    view = shown_containers_view(qtbot, app_ctx, active_within=None)
    view.search.setText(containers.name("pane"))
    wait_for(qtbot, lambda: cid in view.model and view.proxy.rowCount() == 1)
    rect = view.tree.visualRect(view.proxy.index(0, 0))
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    details_button = view.toolbar.widgetForAction(view.actions_by_name["details"])
    qtbot.mouseClick(details_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, lambda: "DB_PASSWORD" in view.details.raw.toPlainText())
    text = view.details.raw.toPlainText()
    assert f"DB_PASSWORD={MASK}" in text and f"API_TOKEN={MASK}" in text
    assert SECRET not in text and "tok-123" not in text
    assert "PLAIN_NEEDLE=needle-in-env" in text
    view.details.close_panel()  # ends its log stream before the client closes
