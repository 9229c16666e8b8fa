"""Every view and dialog on a real X display (xcb), light and dark, at 1280x720 and 1920x1080.

With real content (containers running, paused, created, exited 0 and 137, a Compose project,
tags, volumes, a network), each view, the container details and every non-modal dialog is shown
and must have no text that does not fit where it is drawn, no widget sticking out of its window,
no dialog smaller than its size hint, and no window bigger than asked for (the layouts stay whole
from 1280x720 up). Screenshots go to ``$PORTSIDE_SCREENSHOTS/<theme>-<w>x<h>/`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from app import theme
from app.main_window import MainWindow
from tests.gui.conftest import wait_for
from tests.gui.display import content, drive
from tests.gui.display.checks import a11y_problems, clipped_texts, elided_cells, undersized
from tests.gui.display.drive import (
    DIALOG_COUNT,
    inspect_modal,
    modal_triggers,
    open_dialogs,
    settle,
)
from tests.gui.display.looks import (
    WINDOW_SIZES,
    _mode,  # noqa: F401 - the mode fixture
    assert_no_problems,
    distinct_colours,
)
from tests.gui.pages import open_details_pane

pytestmark = [pytest.mark.gui, pytest.mark.engine]

look = drive.look
window = drive.window

#: columns that may elide at 1280 px (long references); names, states, CPU, memory may not
ELIDE_OK = ("Image", "Reference", "Mountpoint", "Ports")


def _save(image: QImage, folder: Path | None, name: str) -> None:
    assert not image.isNull(), name
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        assert image.save(str(folder / f"{name}.png")), name


def _texts(widget: Any) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in widget.findChildren(QLabel) if label.isVisible())


@WINDOW_SIZES
def test_views_and_dialogs_fit(
    window: MainWindow,
    app_ctx: Any,
    qtbot: Any,
    look: content.Content,
    tmp_path: Path,
    mode: str,
    size: tuple[int, int],
) -> None:
    out = os.environ.get("PORTSIDE_SCREENSHOTS")
    folder = Path(out) / f"{mode}-{size[0]}x{size[1]}" if out else None
    window.resize(*size)
    qtbot.waitExposed(window)
    wait_for(qtbot, lambda: (window.width(), window.height()) == size)
    problems: dict[str, list[str]] = {}
    for key in window.views:
        window.show_view(key)
        settle(qtbot, app_ctx)
        QApplication.processEvents()
        problems[key] = clipped_texts(window)
        cut = elided_cells(window)
        if size[0] < 1920:  # at 1280 long references may elide by design, nothing else may
            cut = [c for c in cut if not any(f"column {t} " in c for t in ELIDE_OK)]
        problems[key] += cut
        image = window.grab().toImage()
        assert distinct_colours(image, step=9) > 5, f"{key} rendered blank"
        _save(image, folder, key)
    assert (window.width(), window.height()) == size, "a view pushed the window bigger"

    # the engine state page every view shows without a connection
    client = app_ctx.client
    app_ctx.client_changed.emit(None)
    for key in ("containers", "images"):
        window.show_view(key)
        QApplication.processEvents()
        problems[f"{key} state page"] = clipped_texts(window)
        _save(window.grab().toImage(), folder, f"{key}-state-page")
    app_ctx.client_changed.emit(client)
    settle(qtbot, app_ctx)

    containers = open_details_pane(qtbot, app_ctx, window, look.containers["crashy"])
    problems["containers-details"] = clipped_texts(window)
    _save(window.grab().toImage(), folder, "containers-details")
    containers.details.close_panel()

    opened = 0
    for title, dialog in open_dialogs(window, qtbot, look, tmp_path):
        assert dialog is not None, f"{title}: the view opened no dialog"
        qtbot.waitExposed(dialog)
        if "details" in title or title == "history":
            settle(qtbot, app_ctx)  # look at it with its content, not at "Loading…"
            wait_for(qtbot, lambda d=dialog: "Loading…" not in _texts(d))
        QApplication.processEvents()
        opened += 1
        found = clipped_texts(dialog)
        small = undersized(dialog)
        if small:
            found.append(small)
        found += a11y_problems(dialog)
        if found:
            problems[f"dialog {title}"] = found
        _save(dialog.grab().toImage(), folder, "dialog-" + title.split(" (")[0].replace(" ", "-"))
        if title.startswith("save"):
            wait_for(qtbot, lambda: not app_ctx.runner.busy, timeout=60)
        dialog.close()
    assert opened == DIALOG_COUNT

    # the modal questions (their own event loop): looked at, then dismissed with Escape
    for title, trigger in modal_triggers(window, look):

        def inspect(dialog: Any, title: str = title) -> None:
            QApplication.processEvents()
            found = clipped_texts(dialog) + a11y_problems(dialog)
            small = undersized(dialog)
            if small:
                found.append(small)
            if found:
                problems[f"modal {title}"] = found
            _save(dialog.grab().toImage(), folder, "modal-" + title.replace(" ", "-"))

        inspect_modal(qtbot, trigger, inspect)
    settle(qtbot, app_ctx)
    assert look.containers["migrate"] in window.views["containers"].model  # Escape kept it
    assert_no_problems(problems)


def test_theme_switches_live_from_the_appearance_menu(
    window: MainWindow, qtbot: Any, qapp: Any
) -> None:
    theme.apply(qapp, "light")
    window.show_view("images")
    light = window.grab().toImage()
    light_bg = QImage(light).pixelColor(light.width() - 40, light.height() // 2)
    window.theme_actions["dark"].trigger()
    assert window.settings.theme == "dark" and theme.current().name == "dark"
    dark = window.grab().toImage()
    dark_bg = dark.pixelColor(dark.width() - 40, dark.height() // 2)
    assert dark_bg.lightness() < 80 < light_bg.lightness(), (light_bg.name(), dark_bg.name())
    # icons re-tint without being rebuilt: the same QIcon renders light on dark
    side_icon = window.sidebar.item(0).icon().pixmap(18, 18).toImage()
    lightest = max(
        side_icon.pixelColor(x, y).lightness()
        for x in range(18)
        for y in range(18)
        if side_icon.pixelColor(x, y).alpha() > 200
    )
    assert lightest > 150
    window.theme_actions["light"].trigger()
    assert theme.current().name == "light"
    window.theme_actions["system"].trigger()
    assert window.settings.theme == "system"
    assert window.theme_button.text() == "Appearance: system"
    # Ctrl+Shift+L, pressed for real, cycles system -> light -> dark
    window.activateWindow()
    wait_for(qtbot, window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.theme == "light"
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.settings.theme == "dark" and theme.current().name == "dark"
    theme.apply(qapp, "light")


def test_the_checks_catch_cut_text_and_small_dialogs(qtbot: Any) -> None:
    from PySide6.QtWidgets import (
        QCheckBox,
        QDialog,
        QHBoxLayout,
        QLabel,
        QLayout,
        QLineEdit,
        QPushButton,
        QVBoxLayout,
        QWidget,
    )

    top = QWidget()
    qtbot.addWidget(top)
    top.resize(400, 200)
    lay = QVBoxLayout(top)
    narrow = QLabel("Start Portside's engine to see your containers")
    narrow.setFixedWidth(80)
    lay.addWidget(narrow)
    wrapped = QLabel("A long message that wraps over several lines " * 4)
    wrapped.setWordWrap(True)
    wrapped.setFixedSize(200, 20)  # one line high: the rest is cut
    lay.addWidget(wrapped)
    row = QHBoxLayout()
    squeezed = QPushButton("Prune build cache…")
    squeezed.setFixedWidth(50)
    row.addWidget(squeezed)
    check = QCheckBox("Remove the container when it exits")
    check.setFixedWidth(60)
    row.addWidget(check)
    field = QLineEdit()
    field.setPlaceholderText("registry.example.com or localhost:5000")
    field.setFixedWidth(90)
    row.addWidget(field)
    lay.addLayout(row)
    outside = QLabel("off the edge", top)
    outside.move(380, 190)
    outside.resize(100, 30)
    top.show()
    qtbot.waitExposed(top)
    found = "\n".join(clipped_texts(top))
    assert "Start Portside's engine to see your containers\" needs" in found
    assert "label 'A long message" in found
    assert "button 'Prune build cache…'" in found
    assert "check box 'Remove the container" in found or "button 'Remove the container" in found
    assert "placeholder 'registry.example.com" in found
    assert "sticks out of the window" in found

    dialog = QDialog()
    qtbot.addWidget(dialog)
    dialog_layout = QVBoxLayout(dialog)
    dialog_layout.addWidget(QLabel("A dialog whose text needs room " * 3))
    dialog_layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(60, 20)
    wait_for(qtbot, lambda: dialog.width() < dialog.sizeHint().width())
    assert undersized(dialog) is not None
    dialog.resize(dialog.sizeHint())
    wait_for(qtbot, lambda: dialog.size() == dialog.sizeHint())
    assert undersized(dialog) is None
