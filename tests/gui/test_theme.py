"""The theme module and its widgets: state colours, the state pill, the view header, icons.

Offscreen, no engine: these are pure rendering and signal checks; tests/gui/display looks at the
whole window on a real display.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTreeView

from app import theme
from app.resources import icon
from app.widgets.state_delegate import MARGIN, PAD_X, StateDelegate
from app.widgets.view_header import ViewHeader

pytestmark = [pytest.mark.gui]


@pytest.fixture
def themed(qapp: Any) -> Iterator[Any]:
    theme.apply(qapp, "light")
    yield qapp
    theme.reset(qapp)


def test_state_colours_follow_the_state_word_and_the_theme(themed: Any) -> None:
    light_running = theme.state_colour("running")
    assert light_running == QColor(theme.LIGHT.states["running"])
    assert theme.state_colour("Up 3 minutes") == light_running
    assert theme.state_colour("running (2/3)") == light_running
    assert theme.state_colour("exited (137)") == QColor(theme.LIGHT.states["exited"])
    assert theme.state_colour("stopping…") == QColor(theme.LIGHT.states["stopping"])
    assert theme.state_colour("something new") == QColor(theme.LIGHT.muted)
    theme.apply(themed, "dark")
    assert theme.state_colour("running") == QColor(theme.DARK.states["running"])
    assert theme.state_colour("running") != light_running
    # the dark palette is ours on any platform: window and text from DARK
    assert themed.palette().color(themed.palette().ColorRole.Window) == QColor(theme.DARK.window)
    assert theme.normalise_mode("purple") == "system"


def _dot_colour(tree: QTreeView) -> QColor:
    tree.viewport().repaint()
    image = tree.viewport().grab().toImage()
    rect = tree.visualRect(tree.model().index(0, 0))
    x = rect.left() + MARGIN + PAD_X + theme.Sizes.STATE_DOT // 2
    return image.pixelColor(x, rect.center().y())


def _pill_tree(qtbot: Any, state: str) -> tuple[QStandardItemModel, QTreeView, StateDelegate]:
    """A one-row tree whose cell says ``state``, drawn by the state pill, shown."""
    model = QStandardItemModel(1, 1)
    model.setItem(0, 0, QStandardItem(state))
    tree = QTreeView()
    qtbot.addWidget(tree)
    tree.setModel(model)
    tree.setRootIsDecorated(False)
    tree.resize(300, 120)
    delegate = StateDelegate.install(tree, 0)
    tree.show()
    qtbot.waitExposed(tree)
    return model, tree, delegate


def test_state_pill_paints_the_state_colour_and_recolours_live(themed: Any, qtbot: Any) -> None:
    model, tree, delegate = _pill_tree(qtbot, "running")
    assert tree.itemDelegateForColumn(0) is delegate
    dot = _dot_colour(tree)
    want = QColor(theme.LIGHT.states["running"])
    assert abs(dot.red() - want.red()) + abs(dot.green() - want.green()) < 40, dot.name()
    theme.apply(themed, "dark")
    dot = _dot_colour(tree)
    want = QColor(theme.DARK.states["running"])
    assert abs(dot.red() - want.red()) + abs(dot.green() - want.green()) < 40, dot.name()
    # the model's text is what screen readers and sorting see, unchanged
    assert model.index(0, 0).data(Qt.ItemDataRole.DisplayRole) == "running"
    hint = delegate.sizeHint(_opt(tree), model.index(0, 0))
    assert hint.width() > tree.fontMetrics().horizontalAdvance("running")


def test_state_pill_stays_readable_on_a_selected_row(themed: Any, qtbot: Any) -> None:
    """On the selection colour the pill keeps the base under its tint (it read grey on blue)."""
    model, tree, _delegate = _pill_tree(qtbot, "exited (137)")
    rect = tree.visualRect(model.index(0, 0))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tree.selectionModel().isSelected(model.index(0, 0))
    tree.viewport().repaint()
    image = tree.viewport().grab().toImage()
    # a point inside the pill, in the gap between its dot and its text
    x = rect.left() + MARGIN + PAD_X + theme.Sizes.STATE_DOT + 2
    inside = image.pixelColor(x, rect.center().y())
    highlight = tree.palette().color(tree.palette().ColorRole.Highlight)
    base = tree.palette().color(tree.palette().ColorRole.Base)

    def distance(a: QColor, b: QColor) -> int:
        return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())

    tint = theme.state_colour("exited (137)")
    a = 38 / 255  # the pill's tint alpha
    want = QColor(
        round(base.red() * (1 - a) + tint.red() * a),
        round(base.green() * (1 - a) + tint.green() * a),
        round(base.blue() * (1 - a) + tint.blue() * a),
    )
    assert distance(highlight, base) > 20  # the test can tell the two apart
    assert distance(inside, want) <= 6, (inside.name(), want.name(), highlight.name())


def _opt(tree: QTreeView) -> Any:
    from PySide6.QtWidgets import QStyleOptionViewItem

    opt = QStyleOptionViewItem()
    opt.initFrom(tree)
    return opt


def test_view_header_shows_title_count_and_follows_its_primary_action(
    themed: Any, qtbot: Any
) -> None:
    header = ViewHeader("Images")
    qtbot.addWidget(header)
    hits: list[bool] = []
    action = QAction("&Pull…", header)
    action.setToolTip("Pull an image")
    action.triggered.connect(lambda: hits.append(True))
    button = header.set_primary(action)
    header.set_count("3 images")
    header.show()
    assert header.title.text() == "Images" and header.count.text() == "3 images"
    assert button.text() == "Pull…" and button.accessibleName() == "Pull…"
    assert button.objectName() == "primaryButton" and button.toolTip() == "Pull an image"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert hits == [True]
    action.setEnabled(False)
    assert not button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert hits == [True]
    action.setText("Pull again…")
    assert button.text() == "Pull again…"
    action.setVisible(False)
    assert button.isHidden()


def _brightest(qicon: Any) -> int:
    image = qicon.pixmap(20, 20).toImage()
    return max(
        image.pixelColor(x, y).lightness()
        for x in range(20)
        for y in range(20)
        if image.pixelColor(x, y).alpha() > 200
    )


def test_icons_retint_when_the_theme_changes(themed: Any) -> None:
    start = icon("action-start")  # made once, painted in both themes
    on_light = _brightest(start)
    theme.apply(themed, "dark")
    on_dark = _brightest(start)
    assert on_light < 100 < on_dark, (on_light, on_dark)
    with pytest.raises(FileNotFoundError, match="no-such-icon"):
        icon("no-such-icon")
    assert QApplication.instance() is themed


def test_no_style_strings_outside_the_theme_module() -> None:
    from pathlib import Path

    app_dir = Path(theme.__file__).parent
    offenders = [
        f"{path.relative_to(app_dir.parent)}:{n}"
        for path in sorted(app_dir.rglob("*.py"))
        if path.name != "theme.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "setStyleSheet(" in line
    ]
    assert not offenders, "style belongs in app/theme.py: " + ", ".join(offenders)


def test_column_fitter_gives_content_its_width_and_elides_the_chosen_column_first(
    themed: Any, qtbot: Any
) -> None:
    from PySide6.QtWidgets import QHeaderView, QTableView

    from app.widgets.columns import MIN_ELIDED, ColumnFitter

    model = QStandardItemModel(3, 3)
    model.setHorizontalHeaderLabels(["Name", "Image", "Memory"])
    for row in range(3):
        model.setItem(row, 0, QStandardItem(f"container-{row}"))
        model.setItem(row, 1, QStandardItem("registry.example.com/team/app:1.2.3-" + "x" * 20))
        model.setItem(row, 2, QStandardItem("636.0 KiB of 1.9 GiB"))
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    fitter = ColumnFitter.install(table, elide_first=[1])
    table.resize(1200, 300)
    table.show()
    qtbot.waitExposed(table)
    image_width = table.sizeHintForColumn(1)
    qtbot.waitUntil(lambda: header.sectionSize(1) >= image_width)
    assert header.sectionSize(2) >= table.sizeHintForColumn(2)  # the memory text is whole
    # narrow: the image gives way first, the memory column stays whole
    table.resize(420, 300)
    qtbot.waitUntil(lambda: header.sectionSize(1) < image_width)
    assert header.sectionSize(1) >= MIN_ELIDED - 1
    assert header.sectionSize(2) >= table.sizeHintForColumn(2)
    # a longer value grows its column (throttled to once a second)
    model.setItem(0, 2, QStandardItem("1023.9 MiB of 15.6 GiB (limit)"))
    qtbot.waitUntil(lambda: header.sectionSize(2) >= table.sizeHintForColumn(2), timeout=3000)
    assert not fitter.user_resized


def test_system_mode_on_plain_x_reads_gtk_theme(
    themed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.styleHints().colorScheme() != Qt.ColorScheme.Unknown:
        pytest.skip("this platform reports its own colour scheme")
    monkeypatch.setenv("GTK_THEME", "Adwaita:dark")
    assert theme.resolve("system") is theme.DARK
    assert theme.apply(themed, "system") is theme.DARK and theme.current_mode() == "system"
    monkeypatch.setenv("GTK_THEME", "Adwaita")
    assert theme.resolve("system") is theme.LIGHT
    monkeypatch.delenv("GTK_THEME")
    assert theme.resolve("system") is theme.LIGHT


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_disabled_button_looks_off_next_to_an_enabled_one(
    themed: Any, qtbot: Any, mode: str
) -> None:
    """Accounts' "Sign out" with no login looked live: disabled text is clearly fainter."""
    from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

    theme.apply(themed, mode)
    box = QWidget()
    qtbot.addWidget(box)
    lay = QVBoxLayout(box)
    on, off = QPushButton("Sign out"), QPushButton("Sign out")
    off.setEnabled(False)
    lay.addWidget(on)
    lay.addWidget(off)
    box.show()
    qtbot.waitExposed(box)

    def text_contrast(button: QPushButton) -> float:
        image = button.grab().toImage()
        back = image.pixelColor(image.width() // 2, 3).lightnessF()  # inside, above the text
        lightness = [
            image.pixelColor(x, y).lightnessF()
            for x in range(image.width() // 4, image.width() * 3 // 4)
            for y in range(image.height() // 3, image.height() * 2 // 3)
        ]
        return max(abs(v - back) for v in lightness)

    live, dead = text_contrast(on), text_contrast(off)
    assert live > 0.5, live  # the enabled text stands out
    assert dead < live * 0.6, (live, dead)  # the disabled one is visibly fainter
