"""The app as a screen reader sees it: every control named, none ambiguous (real engine, content).

The main window is walked with each view shown (and the container details open), then every
dialog the views open without a modal loop (pull, build, run, push, history, save, volume and
network create/details, sign-in). ``tests/gui/display/checks.py`` has the rules. The sidebar is
also driven through its accessible action, as an assistive tool does.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QWidget

from app.main_window import MainWindow
from app.settings import Settings
from tests.gui.conftest import run_async, wait_for
from tests.gui.display import content
from tests.gui.display.checks import a11y_problems

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    # Showing a top-level dialog on the offscreen platform logs this harmless warning.
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


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
    win = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    containers = win.views["containers"]
    wait_for(qtbot, lambda: all(c in containers.model for c in look.containers.values()))
    return win


def _settle(qtbot: Any, ctx: Any) -> None:
    wait_for(qtbot, lambda: not ctx.runner.busy, timeout=30)


def test_every_view_and_the_details_pane_name_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content
) -> None:
    problems: dict[str, list[str]] = {}
    for key in window.views:
        window.show_view(key)
        _settle(qtbot, app_ctx)
        problems[key] = a11y_problems(window)
    containers: Any = window.show_view("containers")
    containers.select([look.containers["web"]])
    containers.open_selected()
    wait_for(qtbot, lambda: containers.details.isVisible())
    _settle(qtbot, app_ctx)
    problems["containers with details"] = a11y_problems(window)
    containers.details.close_panel()  # ends the log stream before the engine client closes
    _settle(qtbot, app_ctx)
    found = {k: v for k, v in problems.items() if v}
    assert not found, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in found.items())


def _dialogs(
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


def test_every_dialog_names_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content, tmp_path: Path
) -> None:
    problems: dict[str, list[str]] = {}
    opened = 0
    for title, dialog in _dialogs(window, qtbot, look, tmp_path):
        assert dialog is not None, f"{title}: the view opened no dialog"
        qtbot.waitExposed(dialog)
        opened += 1
        found = a11y_problems(dialog)
        if found:
            problems[title] = found
        if title == "save (progress)":
            wait_for(qtbot, lambda: not app_ctx.runner.busy, timeout=60)
        dialog.close()
    _settle(qtbot, app_ctx)
    assert opened == 11
    assert not problems, "\n".join(f"[{k}]\n  " + "\n  ".join(v) for k, v in problems.items())


def test_sidebar_accessible_action_switches_the_view(window: MainWindow, qtbot: Any) -> None:
    sidebar = QAccessible.queryAccessibleInterface(window.sidebar)
    assert sidebar is not None and sidebar.text(QAccessible.Text.Name) == "Views"
    keys = list(window.views)
    row = keys.index("volumes")
    item = sidebar.child(row)
    assert item.text(QAccessible.Text.Name) == "Volumes"
    actions = item.actionInterface()
    assert actions is not None
    # what a screen reader's "select"/"toggle" does: the selection changes, not (yet) current
    name = next(n for n in actions.actionNames() if n in ("Toggle", "Select", "Press"))
    actions.doAction(name)
    wait_for(qtbot, lambda: window.stack.currentWidget() is window.views["volumes"])
    assert window.sidebar.currentRow() == row


def test_footer_state_icon_and_names_follow_the_engine(window: MainWindow) -> None:
    icon_iface = QAccessible.queryAccessibleInterface(window.footer.state_icon)
    assert icon_iface is not None
    assert icon_iface.text(QAccessible.Text.Name) == "Engine running"
    disk: Any = window.views["disk"]
    names = {b.accessibleName() or b.text() for b in disk.prune_buttons.values()}
    assert len(names) == 4 and all(n.startswith("Prune ") for n in names)


def test_the_checker_catches_nameless_placeholder_only_value_named_and_ambiguous(
    qtbot: Any,
) -> None:
    from PySide6.QtWidgets import (
        QComboBox,
        QFormLayout,
        QLineEdit,
        QProgressBar,
        QPushButton,
        QVBoxLayout,
    )

    from app.resources import icon

    bad = QWidget()
    qtbot.addWidget(bad)
    lay = QVBoxLayout(bad)
    lay.addWidget(QPushButton(icon("action-refresh"), ""))  # icon only, no name
    search = QLineEdit()
    search.setPlaceholderText("Search…")
    lay.addWidget(search)
    combo = QComboBox()
    combo.addItems(["no", "always"])
    lay.addWidget(combo)
    lay.addWidget(QProgressBar())
    lay.addWidget(QPushButton("Prune…"))
    lay.addWidget(QPushButton("Prune…"))
    bad.show()
    problems = "\n".join(a11y_problems(bad))
    assert "nameless Button" in problems
    assert "nameless ProgressBar" in problems
    assert "named only by its value 'no'" in problems
    assert "share the name 'Prune…'" in problems

    good = QWidget()
    qtbot.addWidget(good)
    form = QFormLayout(good)
    refresh = QPushButton(icon("action-refresh"), "")
    refresh.setAccessibleName("Refresh")
    form.addRow(refresh)
    named = QLineEdit()
    named.setPlaceholderText("Search…")
    named.setAccessibleName("Search images")
    form.addRow(named)
    restart = QComboBox()
    restart.addItems(["no", "always"])
    form.addRow("Restart policy:", restart)
    bar = QProgressBar()
    bar.setAccessibleName("Pull progress")
    form.addRow(bar)
    form.addRow(QPushButton("Prune build cache…"))
    form.addRow(QPushButton("Prune unused images…"))
    good.show()
    assert a11y_problems(good) == []
