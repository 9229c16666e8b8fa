"""A table model whose rows are keyed by id and updated by diffs.

Rows are plain mappings (``dict``) of column key -> value. :meth:`KeyedTableModel.set_rows` compares
the new mapping with what the model holds and emits the smallest change: ``beginRemoveRows`` for
ids that went away, ``dataChanged`` for the changed cells of rows that stayed, ``beginInsertRows``
for new ids. There is no model reset, so selection and scroll position survive a resync.

Sorting and filtering belong in a ``QSortFilterProxyModel`` on top; :data:`SORT_ROLE` gives it the
raw value (numbers sort as numbers) and :data:`SEARCH_ROLE` the text to search in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

Row = Mapping[str, Any]
AnyIndex = QModelIndex | QPersistentModelIndex

ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 2
ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 3
SEARCH_ROLE = int(Qt.ItemDataRole.UserRole) + 4

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True)
class Column:
    """One column: which row key it shows and how.

    Attributes:
        key: the row mapping key this column displays.
        title: header text.
        align: text alignment.
        format: value -> display text (default ``str``, ``None`` -> "").
        sort_key: value -> sort value (default: the value itself; ``None`` sorts first).
        tooltip: row -> tooltip text.
        foreground: row -> a QColor/QBrush or None (use palette-derived colours: dark mode).
        decoration: row -> a QIcon or None.
        search: include this column's display text in :data:`SEARCH_ROLE`.
        display_row: row -> display text, for cells that need more than their own value
            (overrides ``format``).
    """

    key: str
    title: str
    align: Qt.AlignmentFlag = LEFT
    format: Callable[[Any], str] | None = None
    sort_key: Callable[[Any], Any] | None = None
    tooltip: Callable[[Row], str | None] | None = None
    foreground: Callable[[Row], Any] | None = None
    decoration: Callable[[Row], Any] | None = None
    search: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)
    display_row: Callable[[Row], str] | None = None

    def display(self, row: Row) -> str:
        if self.display_row is not None:
            return self.display_row(row)
        value = row.get(self.key)
        if self.format is not None:
            return self.format(value)
        return "" if value is None else str(value)

    def sort_value(self, row: Row) -> Any:
        value = row.get(self.key)
        if self.sort_key is not None:
            return self.sort_key(value)
        if value is None:
            return ""
        if isinstance(value, (int, float, str)):
            return value
        return str(value)


def row_data(column: Column, row: Row, row_id: str, role: int) -> Any:
    """``data()`` for one cell; shared by the table model and the containers tree model."""
    if role == Qt.ItemDataRole.DisplayRole:
        return column.display(row)
    if role == Qt.ItemDataRole.TextAlignmentRole:
        return int(column.align.value)
    if role == Qt.ItemDataRole.ToolTipRole:
        return column.tooltip(row) if column.tooltip is not None else None
    if role == Qt.ItemDataRole.ForegroundRole:
        return column.foreground(row) if column.foreground is not None else None
    if role == Qt.ItemDataRole.DecorationRole:
        return column.decoration(row) if column.decoration is not None else None
    if role == SORT_ROLE:
        return column.sort_value(row)
    if role == ID_ROLE:
        return row_id
    if role == ROW_ROLE:
        return dict(row)
    return None


def header_data(
    columns: list[Column] | tuple[Column, ...], section: int, orientation: Qt.Orientation, role: int
) -> Any:
    """``headerData`` for a model whose columns are :class:`Column` s."""
    if orientation == Qt.Orientation.Horizontal and 0 <= section < len(columns):
        if role == Qt.ItemDataRole.DisplayRole:
            return columns[section].title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(columns[section].align.value)
    return None


def item_flags(index: AnyIndex) -> Qt.ItemFlag:
    """Every valid cell is enabled and selectable, nothing else (cheap: called per cell)."""
    if not index.isValid():
        return Qt.ItemFlag.NoItemFlags
    return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ColumnHeaders:
    """``headerData()`` and ``flags()`` of a model whose ``columns`` are :class:`Column` s.

    Put it before the Qt model class (``class M(ColumnHeaders, QAbstractTableModel)``): the
    table model here and the containers tree model answer both the same way.
    """

    columns: list[Column]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return header_data(self.columns, section, orientation, role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return item_flags(index)


class KeyedTableModel(ColumnHeaders, QAbstractTableModel):
    """Rows keyed by id, in insertion order; updated by diffs, never reset."""

    def __init__(self, columns: Iterable[Column], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns: list[Column] = list(columns)
        self._ids: list[str] = []
        self._rows: dict[str, Row] = {}
        self._pos: dict[str, int] = {}

    # -- reading ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if r >= len(self._ids) or c >= len(self.columns):
            return None
        row_id = self._ids[r]
        row = self._rows[row_id]
        if role == SEARCH_ROLE:
            return self.search_text(row_id)
        return row_data(self.columns[c], row, row_id, int(role))

    def search_text(self, row_id: str) -> str:
        """Lower-cased text the filter searches: searchable columns plus the id."""
        row = self._rows[row_id]
        parts = [row_id]
        parts.extend(c.display(row) for c in self.columns if c.search)
        extra = row.get("_search")
        if extra:
            parts.append(str(extra))
        return "\n".join(parts).lower()

    def ids(self) -> list[str]:
        return list(self._ids)

    def get(self, row_id: str) -> Row | None:
        """The row mapping for ``row_id``, or None."""
        return self._rows.get(row_id)

    def row_for(self, row_id: str) -> int:
        """Row number of ``row_id``, or -1."""
        return self._pos.get(row_id, -1)

    def id_at(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def index_for(self, row_id: str, column: int = 0) -> QModelIndex:
        r = self.row_for(row_id)
        return self.index(r, column) if r >= 0 else QModelIndex()

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._rows

    def __len__(self) -> int:
        return len(self._ids)

    # -- writing ------------------------------------------------------------------------------
    def set_rows(self, rows: Mapping[str, Row]) -> None:
        """Make the model hold exactly ``rows`` with the smallest set of change signals."""
        gone = [i for i in self._ids if i not in rows]
        if gone:
            self._remove_ids(gone)
        for row_id in self._ids:
            new = rows[row_id]
            if new is not self._rows[row_id]:
                self._update(row_id, new)
        added = [i for i in rows if i not in self._rows]
        if added:
            first = len(self._ids)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            for n, row_id in enumerate(added):
                self._ids.append(row_id)
                self._rows[row_id] = rows[row_id]
                self._pos[row_id] = first + n
            self.endInsertRows()

    def upsert(self, row_id: str, row: Row) -> None:
        """Insert ``row`` (at the end) or update the changed cells of an existing one."""
        if row_id in self._rows:
            self._update(row_id, row)
            return
        n = len(self._ids)
        self.beginInsertRows(QModelIndex(), n, n)
        self._ids.append(row_id)
        self._rows[row_id] = row
        self._pos[row_id] = n
        self.endInsertRows()

    def update_fields(self, row_id: str, **changes: Any) -> None:
        """Change some keys of an existing row (no-op for unknown ids)."""
        old = self._rows.get(row_id)
        if old is None:
            return
        new = dict(old)
        new.update(changes)
        self._update(row_id, new)

    def remove(self, row_id: str) -> None:
        if row_id in self._rows:
            self._remove_ids([row_id])

    def clear(self) -> None:
        if self._ids:
            self._remove_ids(list(self._ids))

    # -- internals ----------------------------------------------------------------------------
    def _update(self, row_id: str, new: Row) -> None:
        old = self._rows[row_id]
        self._rows[row_id] = new
        r = self._pos[row_id]
        changed = [
            c
            for c, col in enumerate(self.columns)
            if old.get(col.key) != new.get(col.key) or col.foreground or col.tooltip
        ]
        if old == new:
            return
        if not changed:
            # Only keys no column shows changed (e.g. raw data): tell views about the row.
            changed = [0]
        start = prev = changed[0]
        for c in [*changed[1:], None]:
            if c is not None and c == prev + 1:
                prev = c
                continue
            self.dataChanged.emit(self.index(r, start), self.index(r, prev))
            if c is not None:
                start = prev = c

    def _remove_ids(self, ids: list[str]) -> None:
        positions = sorted((self._pos[i] for i in ids), reverse=True)
        # Remove contiguous runs, last first, so earlier positions stay valid.
        run_end = run_start = positions[0]
        for p in [*positions[1:], None]:
            if p is not None and p == run_start - 1:
                run_start = p
                continue
            self.beginRemoveRows(QModelIndex(), run_start, run_end)
            for row_id in self._ids[run_start : run_end + 1]:
                del self._rows[row_id]
            del self._ids[run_start : run_end + 1]
            self._pos = {row_id: n for n, row_id in enumerate(self._ids)}
            self.endRemoveRows()
            if p is not None:
                run_end = run_start = p


def watch_row_count(model: QAbstractItemModel, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever ``model`` may have changed its number of rows.

    Every signal that can change the count, not only ``rowsInserted``: a view that listens to
    inserts alone never notices that the last row went away (or that a first, empty, list
    arrived), which is how an empty-state hint stays hidden.
    """
    model.rowsInserted.connect(lambda *_: callback())
    model.rowsRemoved.connect(lambda *_: callback())
    model.modelReset.connect(lambda *_: callback())
    model.layoutChanged.connect(lambda *_: callback())
