"""What a screen reader and a pair of eyes would catch, as functions the GUI tests call.

- :func:`a11y_problems` walks the accessible tree (``QAccessible.queryAccessibleInterface`` from
  a window down through ``child(i)``) — the same tree the AT-SPI bridge publishes — and lists
  every visible interactive control without a name, named only by its placeholder or by its
  value, and every pair of controls in one window with the same role and name.
- :func:`clipped_texts` lists every visible label, button, check box, line edit placeholder,
  tab and header section whose text does not fit the rect it is drawn in (elided or cut), and
  every widget that sticks out of its window.
- :func:`undersized` says when a dialog is smaller than its size hint.

Rules worth knowing:
- On Linux, Qt names a combo box by its *value* (``QAccessibleComboBox``) and exposes its label
  through the "labelled by" relation, which is what screen readers read; so a combo box passes
  when it has that relation (a buddy label, a form row) or an explicit accessible name.
- Items inside lists, tables and trees are not walked: they are named by their own text.
- A label with an accessible name is read by that name only: a name that leaves out the label's
  text (a count, a state, a value) hides it, so it counts as a problem.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import QObject, QRect, Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QStyleOptionFrame,
    QTabBar,
    QToolButton,
    QWidget,
)

R = QAccessible.Role
#: roles a person operates: each needs a name that says what it does
INTERACTIVE = {
    R.Button,
    R.ButtonMenu,
    R.ButtonDropDown,
    R.CheckBox,
    R.RadioButton,
    R.ComboBox,
    R.EditableText,
    R.List,
    R.Table,
    R.Tree,
    R.ProgressBar,
    R.Slider,
    R.SpinBox,
    R.PageTabList,
    R.PageTab,
}
#: roles whose children are items named by their own text (not walked)
#: (a combo box is walked: the text part of an editable one needs a name too)
CONTAINERS_OF_ITEMS = {R.List, R.Table, R.Tree, R.PageTabList}
#: Qt-internal parts that are not controls of ours
SKIPPED_CLASSES = {"QToolBarExtension", "QScrollBar"}


def _name(iface: QAccessibleInterface) -> str:
    return (iface.text(QAccessible.Text.Name) or "").strip()


def _describe(iface: QAccessibleInterface) -> str:
    obj = iface.object()
    cls = obj.metaObject().className() if obj is not None else "?"
    oname = obj.objectName() if obj is not None else ""
    return f"{cls}{'#' + oname if oname else ''}"


def _path(chain: list[QAccessibleInterface]) -> str:
    return " > ".join(_describe(i) for i in chain[-4:])


def walk(iface: QAccessibleInterface) -> Iterator[list[QAccessibleInterface]]:
    """Every visible node below ``iface`` as the chain of interfaces leading to it."""

    Chain = list[QAccessibleInterface]

    def _walk(node: QAccessibleInterface, chain: Chain) -> Iterator[Chain]:
        for k in range(node.childCount()):
            child = node.child(k)
            if child is None or not child.isValid() or child.state().invisible:
                continue
            obj = child.object()
            if obj is not None and obj.metaObject().className() in SKIPPED_CLASSES:
                continue
            if isinstance(obj, QWidget) and not obj.isVisible():
                continue
            here = [*chain, child]
            yield here
            if child.role() not in CONTAINERS_OF_ITEMS:
                yield from _walk(child, here)

    yield from _walk(iface, [iface])


def _has_label_relation(iface: QAccessibleInterface) -> bool:
    return any(
        flag & QAccessible.RelationFlag.Label and other is not None and _name(other)
        for other, flag in iface.relations()
    )


def _hidden_text(label: QLabel) -> str | None:
    """A label is read by its accessible name when it has one: its own text must be in it."""
    text = label.text().strip()
    name = label.accessibleName().strip()
    if not text or not name or QtGui.Qt.mightBeRichText(text):
        return None
    if text not in name:
        return f"label text {text[:40]!r} is hidden behind its accessible name {name!r}"
    return None


def a11y_problems(window: QWidget) -> list[str]:
    """Nameless, placeholder-only, value-named and ambiguous controls in ``window``."""
    root = QAccessible.queryAccessibleInterface(window)
    assert root is not None, f"no accessible interface for {window!r}"
    problems: list[str] = []
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for chain in walk(root):
        iface = chain[-1]
        role = iface.role()
        if role not in INTERACTIVE and role not in (R.StaticText, R.Graphic):
            continue
        obj: QObject | None = iface.object()
        name = _name(iface)
        where = _path(chain)
        if isinstance(obj, QLabel) and role in (R.StaticText, R.Graphic):
            hidden = _hidden_text(obj)
            if hidden:
                problems.append(hidden + f": {where}")
            continue
        if isinstance(obj, QComboBox):
            if not obj.accessibleName() and not _has_label_relation(iface):
                problems.append(
                    f"combo box named only by its value {name!r} (no label): {where}"
                )
            name = obj.accessibleName() or name
        elif not name:
            problems.append(f"nameless {role.name}: {where}")
            continue
        elif isinstance(obj, QLineEdit) and not obj.accessibleName() and (
            name == obj.placeholderText().strip()
        ):
            problems.append(f"field named only by its placeholder {name!r}: {where}")
        if role != R.PageTab:  # tabs of one bar are siblings by nature, named apart
            seen[(role.name, name)].append(where)
    for (role_name, name), wheres in seen.items():
        if len(wheres) > 1:
            problems.append(
                f"{len(wheres)} controls ({role_name}) share the name {name!r}: "
                + " | ".join(wheres)
            )
    return problems


def hidden_nameless(root: QWidget) -> list[str]:
    """Progress bars, text areas and icon-only buttons that are hidden *now* (shown later: while
    pulling, building, on error) and would come up without a name."""
    from PySide6.QtWidgets import QPlainTextEdit, QProgressBar, QTextEdit

    out = []
    for widget in root.findChildren(QWidget):
        if widget.isVisible() or widget.accessibleName() or widget.objectName().startswith("qt_"):
            continue  # shown, named, or one of Qt's own parts (a table's corner button)
        kind = ""
        if isinstance(widget, QProgressBar):
            kind = "progress bar"
        elif isinstance(widget, QPlainTextEdit | QTextEdit):
            kind = "text area"
        elif isinstance(widget, QAbstractButton) and not widget.text().strip():
            if type(widget).__name__ in ("QLineEditIconButton", "QToolBarExtension"):
                continue
            kind = "icon-only button"
        if kind:
            name = widget.objectName() or type(widget).__name__
            parent = widget.parentWidget()
            where = type(parent).__name__ if parent is not None else "?"
            out.append(f"hidden {kind} without a name (shown later): {where} > {name}")
    return out


# -- clipping -----------------------------------------------------------------------------------
def _inside_item_view(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and parent.viewport().isAncestorOf(widget):
            return True
        parent = parent.parentWidget()
    return False


def _label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    if label.textFormat() == Qt.TextFormat.RichText or QtGui.Qt.mightBeRichText(text):
        return None  # rich text lays itself out in a QTextDocument; sizes below still apply
    rect = label.contentsRect()
    indent = max(label.indent(), 0) + label.margin()
    rect.adjust(indent, indent, -indent, -indent)
    flags = int(label.alignment())
    if label.wordWrap():
        flags |= int(Qt.TextFlag.TextWordWrap)
    needed = QFontMetrics(label.font()).boundingRect(rect, flags, text)
    if needed.width() > rect.width() + 1 or needed.height() > rect.height() + 1:
        return (
            f"label {text[:60]!r} needs {needed.width()}x{needed.height()} "
            f"but has {rect.width()}x{rect.height()}"
        )
    return None


def _button_problem(button: QAbstractButton) -> str | None:
    text = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    if not text:
        return None
    if isinstance(button, QToolButton) and (
        button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
    ):
        return None
    hint = button.sizeHint()
    # sizeHint is what the style needs for text + icon + padding; anything narrower cuts it
    if button.width() < hint.width() - 1:
        return f"button {text!r} is {button.width()} px wide, needs {hint.width()}"
    if isinstance(button, QCheckBox | QRadioButton):
        opt = QStyleOptionButton()
        button.initStyleOption(opt)
        element = (
            QStyle.SubElement.SE_CheckBoxContents
            if isinstance(button, QCheckBox)
            else QStyle.SubElement.SE_RadioButtonContents
        )
        rect = button.style().subElementRect(element, opt, button)
        needed = QFontMetrics(button.font()).horizontalAdvance(text)
        if needed > rect.width() + 1:
            return f"check box {text!r} needs {needed} px, has {rect.width()}"
    if isinstance(button, QPushButton) and button.height() < hint.height() - 1:
        return f"button {text!r} is {button.height()} px high, needs {hint.height()}"
    return None


def _line_edit_problem(edit: QLineEdit) -> str | None:
    text = edit.placeholderText()
    if not text or edit.text():
        return None
    # where QLineEdit draws the placeholder: its contents rect, minus text margins and the
    # visible icon buttons (a leading search icon; the clear button hides while empty)
    opt = QStyleOptionFrame()
    edit.initStyleOption(opt)
    rect = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, edit)
    margins = edit.textMargins()
    room = rect.width() - margins.left() - margins.right() - 4  # QLineEdit's own 2 px a side
    for button in edit.findChildren(QToolButton):
        if button.isVisible():
            room -= button.width()
    needed = QFontMetrics(edit.font()).horizontalAdvance(text)
    if needed > room:
        return f"placeholder {text!r} needs {needed} px, the field has {room}"
    return None


def _tab_problems(bar: QTabBar) -> list[str]:
    out: list[str] = []
    metrics = QFontMetrics(bar.font())
    for i in range(bar.count()):
        text = bar.tabText(i).replace("&", "")
        rect = bar.tabRect(i)
        if metrics.horizontalAdvance(text) > rect.width() - 8:
            out.append(f"tab {text!r} is cut ({rect.width()} px)")
    return out


def _header_problems(header: QHeaderView) -> list[str]:
    out: list[str] = []
    model = header.model()
    if model is None or not header.isVisible():
        return out
    metrics = QFontMetrics(header.font())
    bold = header.font()
    bold.setBold(True)  # app.theme draws section titles semi-bold
    metrics_bold = QFontMetrics(bold)
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        text = str(model.headerData(section, header.orientation()) or "")
        if not text:
            continue
        width = header.sectionSize(section)
        # text + 16 px padding + the sort arrow where one is shown
        needed = max(metrics.horizontalAdvance(text), metrics_bold.horizontalAdvance(text)) + 16
        if header.isSortIndicatorShown() and header.sortIndicatorSection() == section:
            needed += 12
        if needed > width:
            out.append(f"column header {text!r} needs {needed} px, has {width}")
    return out


def clipped_texts(window: QWidget) -> list[str]:
    """Texts in ``window`` that do not fit where they are drawn, and widgets cut by the window."""
    problems: list[str] = []
    window_rect = QRect(0, 0, window.width(), window.height())
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        if _inside_item_view(widget) and not isinstance(widget, QHeaderView):
            continue
        name = widget.objectName() or type(widget).__name__
        top_left = widget.mapTo(window, widget.rect().topLeft())
        mapped = QRect(top_left, widget.size())
        if widget.width() > 0 and not window_rect.contains(mapped):
            problems.append(f"{name} sticks out of the window: {mapped} vs {window_rect}")
        problem: str | None = None
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button_problem(widget)
        elif isinstance(widget, QLineEdit):
            problem = _line_edit_problem(widget)
        elif isinstance(widget, QTabBar):
            problems.extend(f"{name}: {p}" for p in _tab_problems(widget))
        elif isinstance(widget, QHeaderView):
            problems.extend(f"{name}: {p}" for p in _header_problems(widget))
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def undersized(dialog: QWidget) -> str | None:
    """Why ``dialog`` is smaller than its size hint (None when it is not)."""
    hint = dialog.sizeHint()
    if dialog.width() < hint.width() or dialog.height() < hint.height():
        return (
            f"{type(dialog).__name__} is {dialog.width()}x{dialog.height()}, "
            f"smaller than its size hint {hint.width()}x{hint.height()}"
        )
    return None


def elided_cells(window: QWidget) -> list[str]:
    """Cells of the visible tables and trees whose text is wider than their column.

    At a width where everything should fit (1920 px), a cut name, image or state is a layout
    problem; at 1280 px some elision is by design (a long image reference), so callers choose.
    """
    from PySide6.QtWidgets import QAbstractItemView, QStyleOptionViewItem, QTreeView

    out: list[str] = []
    for view in window.findChildren(QAbstractItemView):
        if not view.isVisible() or view.model() is None or isinstance(view, QComboBox):
            continue
        model = view.model()
        header = view.header() if isinstance(view, QTreeView) else getattr(
            view, "horizontalHeader", lambda: None
        )()
        if header is None:
            continue
        from PySide6.QtCore import QModelIndex

        rows: list[Any] = []
        pending = [QModelIndex()]
        while pending and len(rows) < 50:
            parent = pending.pop(0)
            for r in range(model.rowCount(parent)):
                first = model.index(r, 0, parent)
                rows.append(first)
                if isinstance(view, QTreeView) and view.isExpanded(first):
                    pending.append(first)
        seen: dict[tuple[str, str], tuple[int, int, str]] = {}
        for first in rows[:50]:
            for col in range(model.columnCount(first.parent())):
                if header.isSectionHidden(col):
                    continue
                index = first.siblingAtColumn(col)
                text = str(index.data() or "")
                if not text:
                    continue
                opt = QStyleOptionViewItem()
                opt.initFrom(view)
                opt.font = view.font()
                delegate = view.itemDelegateForIndex(index)
                need = delegate.sizeHint(opt, index).width()
                have = view.visualRect(index).width()
                if isinstance(view, QTreeView) and col == 0:
                    need += view.indentation() * (_depth(index) + 1)
                if need > have + 2:
                    key = (view.accessibleName() or type(view).__name__,
                           str(model.headerData(col, Qt.Orientation.Horizontal)))
                    if key not in seen or seen[key][0] < need:
                        seen[key] = (need, have, text)
        out += [
            f"{name}: column {title} cuts {text[:40]!r} (needs {need} px, has {have})"
            for (name, title), (need, have, text) in seen.items()
        ]
    return out


def _depth(index: Any) -> int:
    depth = 0
    parent = index.parent()
    while parent.isValid():
        depth += 1
        parent = parent.parent()
    return depth
