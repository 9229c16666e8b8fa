"""The Inspect tab: the container's inspect document as a searchable tree, or as raw JSON.

Data flow: the page calls :meth:`InspectTab.container_changed` with every fresh inspect (after
each engine event for the container); the tab rebuilds its :class:`InspectModel`
(:mod:`.inspect_tree`) keeping what the user expanded, selected and revealed, and re-renders the
raw JSON view from the same masked document. Nothing here talks to the engine or runs a task.

The search field filters the tree to matching keys/values (and the branches leading to them),
tints the matching cells and says how many match; Enter jumps to the next match. In the raw view
it highlights the matches in the text. Copy value (Ctrl+C) and Copy path (Ctrl+Shift+C) work on
the current row, also from its context menu. Environment variables with secret-looking names
show ``NAME=••••`` until clicked (or Space, or "Show value"); copies and the raw view stay
masked unless revealed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QStackedWidget,
    QTextEdit,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.views.container_page.inspect_tree import (
    MATCH_ROLE,
    PATH_ROLE,
    InspectFilter,
    InspectModel,
    copy_text,
    masked_document,
)

if TYPE_CHECKING:
    from engine.models import ContainerDetails


class InspectTree(QTreeView):
    """The tree's own keys: Ctrl+C copies the value, Ctrl+Shift+C the path, Space reveals."""

    def __init__(self, tab: InspectTab) -> None:
        super().__init__()
        self._tab = tab

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        if event.key() == Qt.Key.Key_C and mods == ctrl_shift:
            self._tab.copy_path()
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self._tab.copy_value()
            return
        space = event.key() == Qt.Key.Key_Space and mods == Qt.KeyboardModifier.NoModifier
        if space and self._tab.toggle_secret(self.currentIndex()):
            return
        super().keyPressEvent(event)


class InspectTab(QWidget):
    """Inspect: the document as a tree (search, copy, masked secrets) or raw JSON."""

    title: ClassVar[str] = "Inspect"

    def __init__(self, ctx: Any, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id = container_id
        self.has_document = False
        self.model = InspectModel(self)
        self.proxy = InspectFilter(self)
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search keys and values…")
        self.search.setAccessibleName("Search the inspect document")
        self.search.setClearButtonEnabled(True)
        for clear in self.search.findChildren(QToolButton):  # Qt's clear button has no name
            clear.setAccessibleName("Clear the search")
        self.search.textChanged.connect(self._on_search)
        self.search.returnPressed.connect(self.next_match)
        self.search.installEventFilter(self)  # Escape clears it first, then goes back
        self.count = QLabel()
        self.count.setAccessibleDescription("Matches")
        self.count.setObjectName("muted")
        self.buttons: dict[str, QToolButton] = {}
        for key, text, name, slot in (
            ("expand", "Expand all", "Expand all", self.expand_all),
            ("collapse", "Collapse all", "Collapse all", self.collapse_all),
            ("copy_value", "Copy value", "Copy the value", self.copy_value),
            ("copy_path", "Copy path", "Copy the path", self.copy_path),
            ("raw", "Raw JSON", "Show raw JSON", self._toggle_raw),
        ):
            button = QToolButton()
            button.setText(text)
            button.setAccessibleName(name)
            button.clicked.connect(lambda _c=False, s=slot: s())
            self.buttons[key] = button
        self.buttons["copy_value"].setToolTip("Copy the selected value (Ctrl+C)")
        self.buttons["copy_path"].setToolTip(
            "Copy the selected path, e.g. Config.Env[2] (Ctrl+Shift+C)"
        )
        self.buttons["raw"].setCheckable(True)
        self.buttons["raw"].setToolTip("Switch between the tree and the raw JSON")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        for button in self.buttons.values():
            bar.addWidget(button)

        self.tree = InspectTree(self)
        self.tree.setAccessibleName("Inspect document")
        self.tree.setAccessibleDescription(
            "Keys and values of the container's inspect; Ctrl+C copies a value, Ctrl+Shift+C "
            "its path, Space shows a masked secret"
        )
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.clicked.connect(self._on_clicked)
        self.tree.selectionModel().currentChanged.connect(self._show_path)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 260)
        header.setStretchLastSection(True)
        self.setFocusProxy(self.tree)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setAccessibleName("Inspect as raw JSON")
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.raw)
        self.path_label = QLabel("Reading the container…")
        self.path_label.setObjectName("muted")
        self.path_label.setAccessibleDescription("Selected path")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(9, 6, 9, 0)  # as the other tabs: their content is inset
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.path_label)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape in a search with text clears it (the page's Escape = Back comes next time)."""
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.search.text()
        ):
            self.search.clear()
            return True
        return False

    # -- PageTab --------------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """Nothing streams here: the document comes with every container_changed."""

    def close_tab(self) -> None:
        """No task or stream to end."""

    def container_changed(self, details: ContainerDetails | None) -> None:
        if details is None:
            self.path_label.setText("The container was removed: this is its last inspect.")
            return
        raw = getattr(details, "raw", None) or {}
        expanded = self.expanded_paths()
        current = self.current_path()
        first = not self.has_document
        self.model.set_document(raw)
        self.has_document = True
        self.proxy.refilter()
        if first:
            self.tree.expand(self.proxy.mapFromSource(self.model.index_of_path("State")))
        else:
            self._restore(expanded, current)
        self._on_search(self.search.text())
        self._render_raw()
        if current is None:
            self.path_label.setText("Select a row to see its path")

    # -- expansion ------------------------------------------------------------------------------
    def expanded_paths(self) -> set[str]:
        out: set[str] = set()
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for r in range(self.proxy.rowCount(parent)):
                idx = self.proxy.index(r, 0, parent)
                if self.tree.isExpanded(idx):
                    out.add(str(idx.data(PATH_ROLE)))
                    stack.append(idx)
        return out

    def _restore(self, expanded: set[str], current: str | None) -> None:
        for path in sorted(expanded, key=len):
            self.tree.expand(self.proxy.mapFromSource(self.model.index_of_path(path)))
        if current:
            idx = self.proxy.mapFromSource(self.model.index_of_path(current))
            if idx.isValid():
                self.tree.setCurrentIndex(idx)

    def expand_all(self) -> None:
        self.tree.expandAll()

    def collapse_all(self) -> None:
        self.tree.collapseAll()

    # -- search ---------------------------------------------------------------------------------
    def _on_search(self, text: str) -> None:
        n = self.model.set_query(text)
        self.proxy.refilter()
        if self.model.query:
            self.tree.expandAll()
        if self.stack.currentWidget() is self.raw:
            n = self._highlight_raw()
            first = self.raw.extraSelections()
            if first:  # show the first match (selected, as a find would)
                self.raw.setTextCursor(first[0].cursor)
        if not self.model.query:
            self.count.setText("")
        else:
            self.count.setText(f"{n} match{'es' if n != 1 else ''}" if n else "No match")

    def next_match(self) -> None:
        """Enter in the search field: select the next matching row (wrapping)."""
        if self.stack.currentWidget() is self.raw:
            if not self.raw.find(self.model.query):
                self.raw.moveCursor(QTextCursor.MoveOperation.Start)
                self.raw.find(self.model.query)
            return
        rows: list[QModelIndex] = []
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            kids = [self.proxy.index(r, 0, parent) for r in range(self.proxy.rowCount(parent))]
            for idx in kids:
                if idx.data(MATCH_ROLE):
                    rows.append(idx)
            stack.extend(reversed(kids))
        if not rows:
            return
        order = [str(i.data(PATH_ROLE)) for i in rows]
        current = self.current_path()
        at = order.index(current) + 1 if current in order else 0
        target = rows[at % len(rows)]
        self.tree.setCurrentIndex(target)
        self.tree.scrollTo(target)

    # -- raw ------------------------------------------------------------------------------------
    def _toggle_raw(self) -> None:
        raw = self.buttons["raw"].isChecked()
        self.stack.setCurrentWidget(self.raw if raw else self.tree)
        for key in ("expand", "collapse", "copy_value", "copy_path"):
            self.buttons[key].setEnabled(not raw)
        self._on_search(self.search.text())

    def _render_raw(self) -> None:
        scroll = self.raw.verticalScrollBar().value()
        self.raw.setPlainText(masked_document(self.model.root, self.model.revealed))
        self.raw.verticalScrollBar().setValue(scroll)
        if self.stack.currentWidget() is self.raw:
            self._highlight_raw()

    def _highlight_raw(self) -> int:
        query = self.model.query
        selections: list[QTextEdit.ExtraSelection] = []
        if query:
            fmt = QTextCharFormat()
            colour = QColor(theme.current().accent)
            colour.setAlpha(90)
            fmt.setBackground(colour)
            doc = self.raw.document()
            cursor = doc.find(query)
            while not cursor.isNull():
                sel = QTextEdit.ExtraSelection()
                sel.cursor = cursor
                sel.format = fmt
                selections.append(sel)
                cursor = doc.find(query, cursor)
        self.raw.setExtraSelections(selections)
        return len(selections)

    # -- copy / reveal --------------------------------------------------------------------------
    def current_path(self) -> str | None:
        idx = self.tree.currentIndex()
        return str(idx.data(PATH_ROLE)) if idx.isValid() else None

    def _current_node(self) -> Any:
        return self.model.node(self.proxy.mapToSource(self.tree.currentIndex()))

    def copy_value(self) -> str:
        node = self._current_node()
        if node is None:
            return ""
        text = copy_text(node, self.model.revealed)
        QApplication.clipboard().setText(text)
        self.path_label.setText(f"Copied the value of {node.path}")
        return text

    def copy_path(self) -> str:
        node = self._current_node()
        if node is None:
            return ""
        QApplication.clipboard().setText(node.path)
        self.path_label.setText(f"Copied the path {node.path}")
        return str(node.path)

    def toggle_secret(self, index: QModelIndex) -> bool:
        changed = self.model.toggle_reveal(self.proxy.mapToSource(index))
        if changed:
            self._render_raw()
        return changed

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == 1:
            self.toggle_secret(index)

    def _show_path(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.path_label.setText(str(current.data(PATH_ROLE)))

    def _context_menu(self, pos: Any) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        self.tree.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction("Copy value", self.copy_value)
        menu.addAction("Copy path", self.copy_path)
        node = self._current_node()
        if node is not None and node.secret_name:
            shown = node.path in self.model.revealed
            menu.addAction(
                "Mask value" if shown else "Show value", lambda: self.toggle_secret(index)
            )
        menu.popup(self.tree.viewport().mapToGlobal(pos))
