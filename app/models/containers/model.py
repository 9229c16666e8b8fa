"""The containers tree model: standalone containers at the top, Compose projects as group rows.

Keyed by container id and updated by diffs like :class:`app.models.keyed.KeyedTableModel`: a
container that appears is inserted (under its project's group row, created on demand), one that
changes emits ``dataChanged`` for its changed cells (plus its group row's summary), one that goes
away is removed (and an emptied group with it). Never a reset.

Data flow: :class:`app.views.containers.store.ContainerStore` calls :meth:`ContainersModel.set_rows`
after every re-list and :meth:`ContainersModel.update_stats` once per stats tick, with rows
from :mod:`.rows`; cells are drawn from :data:`.columns.COLUMNS`; the view reads it through
:class:`~.filter.ContainersFilter`. Everything runs on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt

from app.models.containers.columns import COL, COLUMNS
from app.models.containers.rows import GROUP_PREFIX, group_row
from app.models.containers.text import published_ports
from app.models.keyed import SEARCH_ROLE, ColumnHeaders, Row, row_data

AnyIndex = QModelIndex | QPersistentModelIndex

IS_GROUP_ROLE = int(Qt.ItemDataRole.UserRole) + 10
PORTS_ROLE = int(Qt.ItemDataRole.UserRole) + 11


class ContainersModel(ColumnHeaders, QAbstractItemModel):
    """Two levels: top rows are standalone containers or Compose groups; groups hold containers.

    Index internal ids: 0 for top-level rows; a group's serial number (>0) for its children.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = COLUMNS
        self._top: list[str] = []  # container ids and GROUP_PREFIX+project keys
        self._top_pos: dict[str, int] = {}
        self._children: dict[str, list[str]] = {}
        self._child_pos: dict[str, int] = {}
        self._rows: dict[str, Row] = {}
        self._groups: dict[str, Row] = {}
        self._parent: dict[str, str | None] = {}
        self._serial: dict[str, int] = {}
        self._serial_group: dict[int, str] = {}
        self._next_serial = 1
        self._pending: dict[str, str] = {}  # id -> "stopping" etc. until the engine says

    # -- structure ----------------------------------------------------------------------------
    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(self.columns) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row >= len(self._top):
                return QModelIndex()
            return self.createIndex(row, column, 0)
        if parent.internalId() != 0:
            return QModelIndex()
        key = self._top[parent.row()] if parent.row() < len(self._top) else None
        if key is None or key not in self._children or row >= len(self._children[key]):
            return QModelIndex()
        return self.createIndex(row, column, self._serial[key])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        serial = index.internalId()
        if serial == 0:
            return QModelIndex()
        key = self._serial_group.get(serial)
        if key is None or key not in self._top_pos:
            return QModelIndex()
        return self.createIndex(self._top_pos[key], 0, 0)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._top)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        key = self._top[parent.row()] if parent.row() < len(self._top) else None
        return len(self._children.get(key or "", ()))

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(self.columns)

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def _key(self, index: AnyIndex) -> str | None:
        if not index.isValid():
            return None
        serial = index.internalId()
        if serial == 0:
            return self._top[index.row()] if index.row() < len(self._top) else None
        group = self._serial_group.get(serial)
        kids = self._children.get(group or "", [])
        return kids[index.row()] if index.row() < len(kids) else None

    # -- data -----------------------------------------------------------------------------------
    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        key = self._key(index)
        if key is None:
            return None
        row = self._groups.get(key) if key.startswith(GROUP_PREFIX) else self._rows.get(key)
        if row is None:
            return None
        if key in self._pending:
            row = {**row, "pending": self._pending[key]}
        role = int(role)
        if role == IS_GROUP_ROLE:
            return key.startswith(GROUP_PREFIX)
        if role == PORTS_ROLE:
            return published_ports(row)
        if role == SEARCH_ROLE:
            return self.search_text(key)
        if role == Qt.ItemDataRole.FontRole and key.startswith(GROUP_PREFIX):
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return row_data(self.columns[index.column()], row, key, role)

    def search_text(self, key: str) -> str:
        row = self._groups.get(key) if key.startswith(GROUP_PREFIX) else self._rows.get(key)
        if row is None:
            return ""
        parts = [
            key,
            str(row.get("name", "")),
            str(row.get("image", "")),
            str(row.get("_search", "")),
        ]
        return "\n".join(parts).lower()

    # -- lookups --------------------------------------------------------------------------------
    def get(self, key: str) -> Row | None:
        return self._groups.get(key) if key.startswith(GROUP_PREFIX) else self._rows.get(key)

    def ids(self) -> list[str]:
        """All container ids (no group keys)."""
        return list(self._rows)

    def children_of(self, group_key: str) -> list[str]:
        return list(self._children.get(group_key, ()))

    def group_keys(self) -> list[str]:
        return list(self._children)

    def index_for(self, key: str, column: int = 0) -> QModelIndex:
        if key in self._top_pos:
            return self.createIndex(self._top_pos[key], column, 0)
        parent = self._parent.get(key)
        if parent is not None and key in self._child_pos:
            return self.createIndex(self._child_pos[key], column, self._serial[parent])
        return QModelIndex()

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    # -- transient states -------------------------------------------------------------------------
    def set_pending(self, cid: str, what: str | None) -> None:
        """Show ``what`` ("stopping", "starting"…) as the row's state until cleared; None clears."""
        if cid not in self._rows or self._pending.get(cid) == what:
            return
        if what is None:
            del self._pending[cid]
        else:
            self._pending[cid] = what
        self._emit_changed(cid, [COL["state"]])

    def pending(self, cid: str) -> str | None:
        return self._pending.get(cid)

    def state_text(self, cid: str) -> str:
        """The State column's text for a container (what the row shows right now)."""
        idx = self.index_for(cid, COL["state"])
        return str(self.data(idx) or "") if idx.isValid() else ""

    def touch_states(self) -> None:
        """Repaint the State column of every row (uptimes age): one signal per parent."""
        col = COL["state"]
        if self._top:
            self.dataChanged.emit(
                self.createIndex(0, col, 0), self.createIndex(len(self._top) - 1, col, 0)
            )
        for key, kids in self._children.items():
            if kids:
                serial = self._serial[key]
                self.dataChanged.emit(
                    self.createIndex(0, col, serial), self.createIndex(len(kids) - 1, col, serial)
                )

    # -- updates --------------------------------------------------------------------------------
    def set_rows(self, rows: Mapping[str, Row]) -> None:
        """Make the model hold exactly ``rows`` (id -> row) with minimal change signals."""
        for cid in [c for c in self._rows if c not in rows]:
            self.remove(cid)
        fresh = [c for c, r in rows.items() if c not in self._rows and not r.get("project")]
        if fresh:
            first = len(self._top)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for n, cid in enumerate(fresh):
                self._top.append(cid)
                self._top_pos[cid] = first + n
                self._rows[cid] = rows[cid]
                self._parent[cid] = None
            self.endInsertRows()
        for cid, row in rows.items():
            self.upsert(cid, row)

    def upsert(self, cid: str, row: Row) -> None:
        old = self._rows.get(cid)
        project = row.get("project") or None
        if old is not None and (old.get("project") or None) != project:
            self.remove(cid)
            old = None
        if old is None:
            self._insert(cid, row, project)
            return
        if old == row:
            return
        self._rows[cid] = row
        changed = [
            n for n, col in enumerate(self.columns) if old.get(col.key) != row.get(col.key)
        ] or [0]
        self._emit_changed(cid, changed)
        if project:
            self._refresh_group(GROUP_PREFIX + project)

    def update_fields(self, cid: str, **changes: Any) -> None:
        old = self._rows.get(cid)
        if old is None:
            return
        new = dict(old)
        new.update(changes)
        self.upsert(cid, new)

    def update_stats(self, values: Mapping[str, tuple[Any, Any, Any]]) -> int:
        """Set ``cpu``, ``mem`` and ``mem_limit`` of many rows at once; returns signals sent.

        ``values`` maps container id -> ``(cpu, mem, mem_limit)`` (``None`` clears). Rows whose
        values did not change are skipped; the changed ones are announced with ONE
        ``dataChanged`` per parent (top level, or one Compose group) spanning the CPU..Memory
        columns, plus one for each touched group's summary row — not one signal per sample.
        """
        first_col, last_col = COL["cpu"], COL["mem"]
        touched: dict[str | None, list[int]] = {}
        for cid, (cpu, mem, limit) in values.items():
            old = self._rows.get(cid)
            if old is None:
                continue
            if old.get("cpu") == cpu and old.get("mem") == mem and old.get("mem_limit") == limit:
                continue
            new = dict(old)
            new["cpu"], new["mem"], new["mem_limit"] = cpu, mem, limit
            self._rows[cid] = new
            parent = self._parent.get(cid)
            pos = self._top_pos[cid] if parent is None else self._child_pos[cid]
            touched.setdefault(parent, []).append(pos)
        sent = 0
        for parent, rows in touched.items():
            serial = 0 if parent is None else self._serial[parent]
            self.dataChanged.emit(
                self.createIndex(min(rows), first_col, serial),
                self.createIndex(max(rows), last_col, serial),
            )
            sent += 1
            if parent is not None:
                self._refresh_group(parent)
        return sent

    def remove(self, cid: str) -> None:
        if cid not in self._rows:
            return
        self._pending.pop(cid, None)
        parent = self._parent.pop(cid)
        if parent is None:
            pos = self._top_pos[cid]
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._top[pos]
            del self._rows[cid]
            self._reindex_top()
            self.endRemoveRows()
            return
        kids = self._children[parent]
        if len(kids) == 1:
            # The group empties: remove the group row (and its child with it).
            pos = self._top_pos[parent]
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._top[pos]
            del self._children[parent]
            del self._groups[parent]
            del self._rows[cid]
            self._child_pos.pop(cid, None)
            serial = self._serial.pop(parent)
            del self._serial_group[serial]
            self._reindex_top()
            self.endRemoveRows()
            return
        pos = self._child_pos[cid]
        self.beginRemoveRows(self.createIndex(self._top_pos[parent], 0, 0), pos, pos)
        del kids[pos]
        del self._rows[cid]
        del self._child_pos[cid]
        for n, k in enumerate(kids):
            self._child_pos[k] = n
        self.endRemoveRows()
        self._refresh_group(parent)

    def clear(self) -> None:
        for cid in list(self._rows):
            self.remove(cid)

    # -- internals ------------------------------------------------------------------------------
    def _insert(self, cid: str, row: Row, project: str | None) -> None:
        if project is None:
            n = len(self._top)
            self.beginInsertRows(QModelIndex(), n, n)
            self._top.append(cid)
            self._top_pos[cid] = n
            self._rows[cid] = row
            self._parent[cid] = None
            self.endInsertRows()
            return
        key = GROUP_PREFIX + project
        if key not in self._children:
            n = len(self._top)
            self.beginInsertRows(QModelIndex(), n, n)
            self._top.append(key)
            self._top_pos[key] = n
            self._children[key] = []
            self._serial[key] = self._next_serial
            self._serial_group[self._next_serial] = key
            self._next_serial += 1
            self._groups[key] = group_row(project, [])
            self.endInsertRows()
        kids = self._children[key]
        n = len(kids)
        self.beginInsertRows(self.createIndex(self._top_pos[key], 0, 0), n, n)
        kids.append(cid)
        self._child_pos[cid] = n
        self._rows[cid] = row
        self._parent[cid] = key
        self.endInsertRows()
        self._refresh_group(key)

    def _reindex_top(self) -> None:
        self._top_pos = {k: n for n, k in enumerate(self._top)}

    def _refresh_group(self, key: str) -> None:
        kids = self._children.get(key)
        if kids is None:
            return
        old = self._groups.get(key, {})
        new = group_row(key[len(GROUP_PREFIX) :], [self._rows[k] for k in kids])
        if old == new:
            return
        self._groups[key] = new
        changed = [
            n for n, col in enumerate(self.columns) if old.get(col.key) != new.get(col.key)
        ] or [0]
        self._emit_changed(key, changed)

    def _emit_changed(self, key: str, columns: list[int]) -> None:
        first = self.index_for(key, min(columns))
        last = self.index_for(key, max(columns))
        if first.isValid():
            self.dataChanged.emit(first, last)
