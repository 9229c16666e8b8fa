"""The app as a screen reader sees it: every control named, none ambiguous (real engine, content).

The main window is walked with each view shown (and the container details open), then every
dialog the views open without a modal loop (pull, build, run, push, history, save, volume and
network create/details, sign-in), and the modal questions (remove and rename a container, prune
images, prune the build cache), each opened by a real key press or click and dismissed with
Escape. ``tests/gui/display/checks.py`` has the rules. The sidebar is also driven through its
accessible action, as an assistive tool does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QWidget

from app.main_window import MainWindow
from tests.gui.conftest import wait_for
from tests.gui.display import content, drive
from tests.gui.display.checks import a11y_problems, hidden_nameless
from tests.gui.display.drive import DIALOG_COUNT, inspect_modal, open_dialogs, settle
from tests.gui.display.looks import assert_no_problems
from tests.gui.pages import open_details_pane

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    # Showing a top-level dialog on the offscreen platform logs this harmless warning.
    pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)"),
]


look = drive.look
window = drive.window


def test_every_view_and_the_details_pane_name_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content
) -> None:
    problems: dict[str, list[str]] = {}
    for key in window.views:
        window.show_view(key)
        settle(qtbot, app_ctx)
        problems[key] = a11y_problems(window)
    containers = open_details_pane(qtbot, app_ctx, window, look.containers["web"])
    problems["containers with details"] = a11y_problems(window)
    containers.details.close_panel()  # ends the log stream before the engine client closes
    settle(qtbot, app_ctx)
    assert_no_problems(problems)


def test_every_dialog_names_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content, tmp_path: Path
) -> None:
    problems: dict[str, list[str]] = {}
    opened = 0
    closed: list[QWidget] = []
    for title, dialog in open_dialogs(window, qtbot, look, tmp_path):
        assert dialog is not None, f"{title}: the view opened no dialog"
        qtbot.waitExposed(dialog)
        opened += 1
        found = a11y_problems(dialog) + hidden_nameless(dialog)
        if found:
            problems[title] = found
        if title == "save (progress)":
            wait_for(qtbot, lambda: not app_ctx.runner.busy, timeout=60)
        dialog.close()
        closed.append(dialog)
    settle(qtbot, app_ctx)
    assert opened == DIALOG_COUNT
    # closed dialogs are gone, not hidden windows a screen reader still lists
    import shiboken6

    wait_for(qtbot, lambda: not [d for d in closed if shiboken6.isValid(d)])
    assert_no_problems(problems)


def test_every_modal_question_names_every_control(
    window: MainWindow, app_ctx: Any, qtbot: Any, look: content.Content
) -> None:
    """Remove, rename, prune images, prune build cache: opened by keys and clicks as a person
    does, walked as a screen reader sees them, dismissed with Escape (nothing happens)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (
        QInputDialog,
        QLineEdit,
        QMessageBox,
        QPushButton,
        QToolButton,
    )

    containers: Any = window.views["containers"]
    images: Any = window.views["images"]
    disk: Any = window.views["disk"]
    migrate = look.containers["migrate"]

    def click_row() -> None:
        window.show_view("containers")
        index = containers.proxy.mapFromSource(containers.model.index_for(migrate))
        containers.tree.scrollTo(index)
        rect = containers.tree.visualRect(index)
        qtbot.mouseClick(containers.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert containers.selected_ids() == [migrate]

    def remove_by_delete_key() -> None:
        click_row()
        qtbot.keyClick(containers.tree, Qt.Key.Key_Delete)

    def rename_by_toolbar() -> None:
        click_row()
        button = containers.toolbar.widgetForAction(containers.actions_by_name["rename"])
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def prune_images_by_toolbar() -> None:
        window.show_view("images")
        prune = next(a for a in images.toolbar.actions() if a.text() == "Prune…")
        button = images.toolbar.widgetForAction(prune)
        assert isinstance(button, QToolButton) and button.isVisible()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def prune_build_cache_by_button() -> None:
        window.show_view("disk")
        qtbot.mouseClick(disk.prune_buttons["build_cache"], Qt.MouseButton.LeftButton)

    triggers = {
        "remove container": (remove_by_delete_key, QMessageBox),
        "rename container": (rename_by_toolbar, QInputDialog),
        "prune images": (prune_images_by_toolbar, QMessageBox),
        "prune build cache": (prune_build_cache_by_button, QMessageBox),
    }
    problems: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for title, (trigger, kind) in triggers.items():

        def walk(dialog: QWidget, title: str = title, kind: type = kind) -> None:
            kinds[title] = type(dialog).__name__ if isinstance(dialog, kind) else "?"
            found = a11y_problems(dialog) + hidden_nameless(dialog)
            if isinstance(dialog, QMessageBox):
                # buttons say what they do, and Enter alone destroys nothing
                default = dialog.defaultButton()
                if default is None or default.text() != "Cancel":
                    found.append(f"default button {default and default.text()!r}, not Cancel")
                found += [
                    f"vague button {b.text()!r}"
                    for b in dialog.buttons()
                    if b.text().replace("&", "") in ("Yes", "No", "OK")
                ]
            if isinstance(dialog, QInputDialog):
                found += [
                    f"vague button {b.text()!r}"
                    for b in dialog.findChildren(QPushButton)
                    if b.text().replace("&", "") in ("Yes", "No", "OK")
                ]
                field = dialog.findChild(QLineEdit)
                assert field is not None
                room = field.width() - field.fontMetrics().horizontalAdvance(field.text())
                if field.width() < 300 or room < 20:
                    found.append(f"name field {field.width()} px for {field.text()!r}")
            if found:
                problems[title] = found

        inspect_modal(qtbot, trigger, walk)
        settle(qtbot, app_ctx)
    assert kinds == {t: k.__name__ for t, (_, k) in triggers.items()}
    # Escape said no: the container is still there, under its own name
    assert migrate in containers.model
    assert containers.model.get(migrate)["name"] == f"{look.prefix}-migrate"
    assert_no_problems(problems)


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
        QLabel,
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
    network = QComboBox()
    network.setEditable(True)
    network.addItems(["bridge", "host"])
    network.setAccessibleName("Network")  # the combo is named, its text part is not
    lay.addWidget(network)
    count = QLabel("4 running · 8 total")
    count.setAccessibleName("Container count")
    lay.addWidget(count)
    bad.show()
    problems = "\n".join(a11y_problems(bad))
    assert "nameless Button" in problems
    assert "nameless ProgressBar" in problems
    assert "nameless EditableText: QWidget > QComboBox > QLineEdit" in problems
    assert "named only by its value 'no'" in problems
    assert "share the name 'Prune…'" in problems
    assert "label text '4 running · 8 total' is hidden" in problems

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
