"""The inspect document as a tree: nodes with paths, secret masking, search, and its Qt model.

Pure part (no Qt objects, unit-tested synchronously): :func:`build_tree` turns the engine's
inspect JSON into :class:`Node` objects, each with the path a user would write
(``Config.Env[2]``, ``Config.Labels["com.docker.compose.project"]``,
``NetworkSettings.Ports["80/tcp"][0].HostPort``). Environment variables whose NAME looks like a
secret (:func:`is_secret_name`) are masked — ``DB_PASSWORD=••••`` — in the tree, in copied text
and in :func:`masked_document` (the raw view), unless their path was revealed.

:class:`InspectModel` is the QAbstractItemModel over those nodes (Key, Value). It is rebuilt
(``beginResetModel``) only when a new inspect document arrives — every engine event for the
container, a handful per restart — and keeps the set of revealed paths and the search query
across rebuilds; the tab restores the expanded paths. The query marks matching cells
(``MATCH_ROLE`` / a tinted background); :class:`InspectFilter` hides what neither matches nor
leads to a match.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from app import theme

MASK = "••••"
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
MATCH_ROLE = Qt.ItemDataRole.UserRole + 2
SECRET_ROLE = Qt.ItemDataRole.UserRole + 3  # "masked", "revealed" or None
# Words that make an environment variable's name look secret.
SECRET_WORDS = (
    "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "KEY", "AUTH", "CREDENTIAL",
    "PRIVATE", "SIGNATURE", "SALT", "COOKIE", "SESSION", "DSN",
)  # fmt: skip
_SECRET = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)
_NOT_SECRET = {"PWD", "OLDPWD"}  # the shell's working directories
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
Index = QModelIndex | QPersistentModelIndex


def is_secret_name(name: str) -> bool:
    """``DB_PASSWORD``, ``API_KEY``, ``GITHUB_TOKEN``, ``AWS_SECRET_ACCESS_KEY`` → True."""
    return name.upper() not in _NOT_SECRET and bool(_SECRET.search(name))


def child_path(parent: str, key: str | int) -> str:
    """``Config``+``Env`` → ``Config.Env``; +2 → ``Config.Env[2]``; odd keys as ``["80/tcp"]``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENT.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key)}]"


def scalar_text(value: Any) -> str:
    """A leaf as the user reads it: strings plain, the rest as JSON (``null``, ``true``, 3)."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(eq=False)
class Node:
    """One key (or list item) of the document."""

    key: str
    value: Any  # the JSON value under this key (dict/list for inner nodes)
    path: str
    parent: Node | None = None
    row: int = 0
    children: list[Node] = field(default_factory=list)
    secret_name: str = ""  # NAME of a secret-looking "NAME=value" environment entry

    @property
    def is_leaf(self) -> bool:
        return not isinstance(self.value, dict | list)

    def summary(self) -> str:
        if isinstance(self.value, dict):
            n = len(self.value)
            return f"{{{n} key{'s' if n != 1 else ''}}}"
        if isinstance(self.value, list):
            n = len(self.value)
            return f"[{n} item{'s' if n != 1 else ''}]"
        return scalar_text(self.value)

    def text(self, revealed: set[str]) -> str:
        """The Value column: masked for a secret not revealed."""
        if self.secret_name and self.path not in revealed:
            return f"{self.secret_name}={MASK}"
        return self.summary()


def _is_env(path: str) -> bool:
    return path.endswith(".Env") or path == "Env"


def build_tree(doc: Any) -> Node:
    """The root node (path "") of ``doc``; env entries with secret-looking names are marked."""
    root = Node(key="", value=doc, path="")
    stack = [root]
    while stack:
        node = stack.pop()
        value = node.value
        items: list[tuple[str | int, Any]]
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        else:
            continue
        env = _is_env(node.path)
        for row, (key, child) in enumerate(items):
            kid = Node(
                key=f"[{key}]" if isinstance(key, int) else str(key),
                value=child,
                path=child_path(node.path, key),
                parent=node,
                row=row,
            )
            if env and isinstance(child, str) and "=" in child:
                name = child.split("=", 1)[0]
                if is_secret_name(name):
                    kid.secret_name = name
            node.children.append(kid)
            stack.append(kid)
    return root


def walk(node: Node) -> list[Node]:
    """Every node under ``node`` (not itself), depth first in document order."""
    out: list[Node] = []
    stack = list(reversed(node.children))
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def secret_paths(root: Node) -> list[str]:
    return [n.path for n in walk(root) if n.secret_name]


def masked_value(node: Node, revealed: set[str]) -> Any:
    """``node``'s JSON value with every secret under it masked unless revealed."""
    if node.secret_name and node.path not in revealed:
        return f"{node.secret_name}={MASK}"
    if isinstance(node.value, dict):
        return {c.key: masked_value(c, revealed) for c in node.children}
    if isinstance(node.value, list):
        return [masked_value(c, revealed) for c in node.children]
    return node.value


def masked_document(root: Node, revealed: set[str]) -> str:
    """The raw JSON view: indented, secrets masked unless revealed."""
    return json.dumps(masked_value(root, revealed), indent=2, ensure_ascii=False)


def copy_text(node: Node, revealed: set[str]) -> str:
    """What "Copy value" puts on the clipboard: a leaf's text, an inner node's JSON."""
    if node.is_leaf or (node.secret_name and node.path not in revealed):
        return node.text(revealed)
    return json.dumps(masked_value(node, revealed), indent=2, ensure_ascii=False)


def matches(node: Node, query: str, revealed: set[str]) -> tuple[bool, bool]:
    """(key matches, value matches) for a lower-cased ``query``; a masked value never does."""
    key_hit = query in node.key.lower()
    value_hit = node.is_leaf and query in node.text(revealed).lower()
    return key_hit, value_hit


class InspectModel(QAbstractItemModel):
    """Key / Value over :func:`build_tree`; holds the revealed paths and the search query."""

    COLUMNS = ("Key", "Value")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.root = build_tree({})
        self.revealed: set[str] = set()
        self.query = ""
        self.matched: dict[Node, tuple[bool, bool]] = {}

    # -- content ----------------------------------------------------------------------------------
    def set_document(self, doc: Any) -> None:
        self.beginResetModel()
        self.root = build_tree(doc)
        self.revealed &= set(secret_paths(self.root))
        self._match()
        self.endResetModel()

    def set_query(self, text: str) -> int:
        """Mark matching keys/values; returns how many cells match."""
        self.query = text.strip().lower()
        self._match()
        self._touch_all()
        return self.match_count()

    def match_count(self) -> int:
        return sum(int(k) + int(v) for k, v in self.matched.values())

    def _match(self) -> None:
        self.matched = {}
        if not self.query:
            return
        for node in walk(self.root):
            hit = matches(node, self.query, self.revealed)
            if hit[0] or hit[1]:
                self.matched[node] = hit

    def toggle_reveal(self, index: Index) -> bool:
        """Show (or mask again) a secret value; True when ``index`` is a secret."""
        node = self.node(index)
        if node is None or not node.secret_name:
            return False
        self.revealed ^= {node.path}
        self._match()
        cell = self.index(node.row, 1, self.parent(index))
        self.dataChanged.emit(cell, cell)
        return True

    def _touch_all(self) -> None:
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            rows = self.rowCount(parent)
            if rows:
                self.dataChanged.emit(self.index(0, 0, parent), self.index(rows - 1, 1, parent))
                stack.extend(self.index(r, 0, parent) for r in range(rows))

    def node(self, index: Index) -> Node | None:
        if not index.isValid():
            return None
        ptr: Node = index.internalPointer()
        return ptr

    def index_of_path(self, path: str, column: int = 0) -> QModelIndex:
        for n in walk(self.root):
            if n.path == path:
                return self.createIndex(n.row, column, n)
        return QModelIndex()

    # -- QAbstractItemModel -----------------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        owner = self.node(parent) if parent.isValid() else self.root
        if owner is None or not 0 <= row < len(owner.children) or not 0 <= column < 2:
            return QModelIndex()
        return self.createIndex(row, column, owner.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        node = self.node(index)
        if node is None or node.parent is None or node.parent is self.root:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        owner = self.node(parent) if parent.isValid() else self.root
        return len(owner.children) if owner is not None else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 2

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return node.key if col == 0 else node.text(self.revealed)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 1 and node.secret_name:
                if node.path in self.revealed:
                    return "A secret: click to mask it again"
                return "Looks like a secret: click to show the value"
            return node.path
        if role == PATH_ROLE:
            return node.path
        if role == SECRET_ROLE:
            if not node.secret_name:
                return None
            return "revealed" if node.path in self.revealed else "masked"
        hit = self.matched.get(node)
        if role == MATCH_ROLE:
            return bool(hit)
        if role == Qt.ItemDataRole.BackgroundRole and hit and hit[col]:
            colour = QColor(theme.current().accent)
            colour.setAlpha(70)
            return colour
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class InspectFilter(QSortFilterProxyModel):
    """Shows matches, the branches that lead to them, and everything under a matching key."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, InspectModel) or not model.query:
            return True
        return bool(model.index(source_row, 0, source_parent).data(MATCH_ROLE))

    def refilter(self) -> None:
        self.beginFilterChange()
        self.endFilterChange()
