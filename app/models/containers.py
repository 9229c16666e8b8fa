"""The containers tree model: standalone containers at the top, Compose projects as group rows.

Keyed by container id and updated by diffs like :class:`app.models.keyed.KeyedTableModel`: a
container that appears is inserted (under its project's group row, created on demand), one that
changes emits ``dataChanged`` for its changed cells (plus its group row's summary), one that goes
away is removed (and an emptied group with it). Never a reset.

Rows are plain dicts built by :func:`container_row` from ``engine.models.ContainerSummary``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from app.models.keyed import (
    ID_ROLE,
    RIGHT,
    ROW_ROLE,
    SEARCH_ROLE,
    SORT_ROLE,
    Column,
    Row,
    header_data,
    item_flags,
    row_data,
)

AnyIndex = QModelIndex | QPersistentModelIndex

GROUP_PREFIX = "compose:"
COMPOSE_LABEL = "com.docker.compose.project"
IS_GROUP_ROLE = int(Qt.ItemDataRole.UserRole) + 10
PORTS_ROLE = int(Qt.ItemDataRole.UserRole) + 11

ACTIVE_STATES = ("running", "paused", "restarting")


# -- pure helpers ---------------------------------------------------------------------------------
def format_ports(ports: Iterable[Mapping[str, Any]]) -> str:
    """``0.0.0.0:8080->80/tcp``-style text, published ports first, duplicates (v4/v6) folded."""
    seen: list[str] = []
    for p in ports:
        proto = p.get("type") or "tcp"
        if p.get("public_port"):
            text = f"{p['public_port']}→{p['private_port']}/{proto}"
        else:
            text = f"{p['private_port']}/{proto}"
        if text not in seen:
            seen.append(text)
    seen.sort(key=lambda t: ("→" not in t, t))
    return ", ".join(seen)


#: Where an any-address port binding is reached: this machine for a local engine, the engine's
#: host for a tcp:// or ssh:// one (app/engines/links.py sets it on every engine switch).
LINK_HOST = {"host": "127.0.0.1"}


def port_url(ip: Any, port: Any) -> str:
    """The URL the app opens for a port bound on host ``ip``: any-address -> the engine's host."""
    host = str(ip or "")
    if host in ("", "0.0.0.0", "::"):
        host = LINK_HOST["host"]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{int(port)}"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(port)}"


def port_urls(row: Row) -> list[str]:
    """One URL per published binding (v4 and v6 any-address bindings fold into one), sorted."""
    urls = {
        port_url(p.get("ip"), p["public_port"])
        for p in row.get("ports") or ()
        if p.get("public_port")
    }
    return sorted(urls, key=lambda u: (int(u.rsplit(":", 1)[1]), u))


def ports_tooltip(row: Row) -> str | None:
    urls = port_urls(row)
    if not urls:
        return None
    lines = [
        f"{p['public_port']}→{p['private_port']}/{p.get('type') or 'tcp'}"
        f" on {p.get('ip') or '0.0.0.0'}"
        for p in row.get("ports") or ()
        if p.get("public_port")
    ]
    head = f"Click to open {urls[0]}" if len(urls) == 1 else "Click to choose: " + ", ".join(urls)
    return "\n".join([head, *dict.fromkeys(lines)])


_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}


def parse_human_duration(text: str) -> int | None:
    """Seconds from docker's ``units.HumanDuration`` text ("3 minutes", "About an hour")."""
    t = text.strip().lower()
    if t.startswith("less than a second"):
        return 0
    if t.startswith("about a minute"):
        return 60
    if t.startswith("about an hour"):
        return 3600
    parts = t.split()
    if len(parts) >= 2 and parts[0].isdigit():
        unit = _UNITS.get(parts[1].rstrip("s").rstrip(","))
        if unit is not None:
            return int(parts[0]) * unit
    return None


def human_duration(seconds: float) -> str:
    """docker's ``units.HumanDuration``: what ``docker ps`` prints after "Up"."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def exit_code_of(status: str) -> int | None:
    """The exit code in a list Status such as ``Exited (137) 2 minutes ago``."""
    m = re.match(r"\s*exited\s*\((-?\d+)\)", status, re.IGNORECASE)
    return int(m.group(1)) if m else None


def started_at_from_status(status: str, now: float) -> float | None:
    """When a running container started, from ``Up 3 minutes (healthy)``; None if not running."""
    if not status.lower().startswith("up "):
        return None
    seconds = parse_human_duration(status[3:])
    return None if seconds is None else now - seconds


def state_text(row: Row, now: float | None = None) -> str:
    """What the State column says: a pending action, ``exited (137)``, ``Up 3 minutes``…"""
    pending = row.get("pending")
    if pending:
        return f"{pending}…"
    state = str(row.get("state") or "")
    if state == "exited":
        code = row.get("exit_code")
        return f"exited ({code})" if code is not None else "exited"
    if state == "running" and row.get("started_at") is not None:
        up = human_duration((now or time.time()) - float(row["started_at"]))
        health = str(row.get("health") or "")
        return f"Up {up}" + (f" ({health})" if health else "")
    return state


def carry_over(prev: Row | None, row: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Keep what a re-list cannot know: stats of a running row, and a sharper start time.

    The list's Status ("Up 3 minutes") only bounds the start time; an earlier estimate that
    still reads the same is kept, so re-listing does not make the uptime jump.
    """
    if prev is None or row.get("state") != "running" or prev.get("state") != "running":
        return row
    row.update(cpu=prev.get("cpu"), mem=prev.get("mem"), mem_limit=prev.get("mem_limit"))
    old = prev.get("started_at")
    if old is not None and row.get("started_at") is not None:
        now = time.time() if now is None else now
        same = str(row.get("status") or "").startswith(f"Up {human_duration(now - float(old))}")
        if same or abs(float(old) - float(row["started_at"])) < 1:
            row["started_at"] = min(float(old), float(row["started_at"]))
    return row


def published_ports(row: Row) -> list[int]:
    """Host ports this row publishes (sorted, unique)."""
    return sorted({int(p["public_port"]) for p in row.get("ports") or () if p.get("public_port")})


def format_created(ts: Any) -> str:
    if not ts:
        return ""
    created = dt.datetime.fromtimestamp(int(ts), tz=dt.UTC)
    delta = dt.datetime.now(tz=dt.UTC) - created
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 86400 * 30:
        return f"{seconds // 86400} days ago"
    return created.astimezone().strftime("%Y-%m-%d")


def format_bytes(n: Any) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def format_cpu(v: Any) -> str:
    return "" if v is None else f"{float(v):.1f} %"


def container_row(summary: Any) -> dict[str, Any]:
    """A model row from an ``engine.models.ContainerSummary``."""
    ports = [
        {
            "private_port": p.private_port,
            "public_port": p.public_port,
            "type": p.type,
            "ip": p.ip,
        }
        for p in summary.ports
    ]
    labels = dict(summary.labels or {})
    status = str(summary.status or "")
    health = re.search(r"\((healthy|unhealthy|health: starting)\)", status)
    return {
        "id": summary.id,
        "name": summary.name,
        "image": summary.image,
        "state": summary.state,
        "status": summary.status,
        "exit_code": exit_code_of(status) if summary.state == "exited" else None,
        "started_at": started_at_from_status(status, time.time())
        if summary.state == "running"
        else None,
        "health": health.group(1) if health else None,
        "ports": ports,
        "ports_text": format_ports(ports),
        "created": summary.created,
        "project": summary.compose_project or labels.get(COMPOSE_LABEL) or None,
        "labels": labels,
        "command": summary.command,
        "cpu": None,
        "mem": None,
        "mem_limit": None,
        "_search": " ".join(f"{k}={v}" for k, v in labels.items()),
    }


def group_row(project: str, children: list[Row]) -> dict[str, Any]:
    """The summary row of a Compose project."""
    running = sum(1 for c in children if c.get("state") in ACTIVE_STATES)
    total = len(children)
    if running == total:
        state = "running"
    elif running == 0:
        state = "exited"
    else:
        state = f"running ({running}/{total})"
    ports: list[Mapping[str, Any]] = [p for c in children for p in c.get("ports") or ()]
    cpus = [c["cpu"] for c in children if c.get("cpu") is not None]
    mems = [c["mem"] for c in children if c.get("mem") is not None]
    return {
        "id": GROUP_PREFIX + project,
        "name": project,
        "image": f"Compose ({total})",  # short: it must fit the narrow image column
        "state": state,
        "status": f"{running} of {total} running",
        "ports": ports,
        "ports_text": format_ports(ports),
        "created": min((c.get("created") or 0 for c in children), default=0),
        "project": project,
        "labels": {},
        "cpu": sum(cpus) if cpus else None,
        "mem": sum(mems) if mems else None,
        "_search": project,
    }


def state_colour(state: str) -> QColor | None:
    """The state's colour from the current theme (``app.theme``: one place for colours)."""
    from app import theme

    return theme.state_colour(state) if state else None


def _state_sort(v: Any) -> str:
    order = {"running": 0, "restarting": 1, "paused": 2, "created": 3, "exited": 4, "dead": 5}
    s = str(v or "")
    return f"{order.get(s.split(' ', 1)[0], 9)}{s}"


def _memory_text(row: Row) -> str | None:
    if row.get("mem") is None:
        return None
    limit = row.get("mem_limit")
    if limit:
        return f"{format_bytes(row['mem'])} of {format_bytes(limit)}"
    return format_bytes(row["mem"])


COLUMNS: list[Column] = [
    Column("name", "Name", tooltip=lambda r: str(r.get("id", ""))[:12] or None),
    Column("image", "Image", tooltip=lambda r: str(r.get("image") or "") or None),  # elided
    Column(
        "state",
        "State",
        sort_key=_state_sort,
        tooltip=lambda r: str(r.get("status") or "") or None,
        foreground=lambda r: state_colour(str(r.get("pending") or r.get("state") or "")),
        display_row=state_text,
    ),
    Column("ports_text", "Ports", tooltip=ports_tooltip, search=True),
    Column(
        "created",
        "Created",
        format=format_created,
        sort_key=lambda v: int(v or 0),
        search=False,
    ),
    Column("cpu", "CPU", align=RIGHT, format=format_cpu, sort_key=lambda v: v or 0.0, search=False),
    Column(
        "mem",
        "Memory",
        align=RIGHT,
        format=format_bytes,
        sort_key=lambda v: v or 0,
        tooltip=_memory_text,
        search=False,
    ),
]
COL = {c.key: n for n, c in enumerate(COLUMNS)}


class ContainersModel(QAbstractItemModel):
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

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return header_data(self.columns, section, orientation, role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return item_flags(index)

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


class ContainersFilter(QSortFilterProxyModel):
    """Search (every word must appear in name/image/id/labels/project) and running-only filter."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._terms: list[str] = []
        self._running_only = False
        self.setRecursiveFilteringEnabled(True)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_search(self, text: str) -> None:
        terms = text.lower().split()
        if terms != self._terms:
            self._refilter(lambda: setattr(self, "_terms", terms))

    def set_running_only(self, on: bool) -> None:
        if on != self._running_only:
            self._refilter(lambda: setattr(self, "_running_only", on))

    def _refilter(self, change: Any) -> None:
        # Qt 6.10 replaced invalidateRowsFilter() with begin/endFilterChange().
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateRowsFilter()

    @property
    def running_only(self) -> bool:
        return self._running_only

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ContainersModel):
            return True
        idx = model.index(source_row, 0, source_parent)
        key = model._key(idx)
        if key is None or key.startswith(GROUP_PREFIX):
            # A group shows when any of its containers does (recursive filtering).
            return False
        row = model.get(key) or {}
        if self._running_only and row.get("state") not in ACTIVE_STATES:
            return False
        if not self._terms:
            return True
        text = model.search_text(key)
        if source_parent.isValid():
            text += "\n" + str(row.get("project") or "").lower()
        return all(t in text for t in self._terms)


__all__ = [
    "COLUMNS",
    "GROUP_PREFIX",
    "ID_ROLE",
    "IS_GROUP_ROLE",
    "PORTS_ROLE",
    "ROW_ROLE",
    "ContainersFilter",
    "ContainersModel",
    "container_row",
    "format_ports",
    "group_row",
]
