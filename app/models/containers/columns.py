"""The columns of the containers table: what each shows, how it sorts, tooltips and colours.

:data:`COLUMNS` is read by :class:`~.model.ContainersModel` (through
:func:`app.models.keyed.row_data`) for every cell; :data:`COL` maps a row key to its column
number for the views and tests. Colours come from :mod:`app.theme` at paint time (dark mode).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from app.models.containers.text import (
    format_bytes,
    format_cpu,
    format_created,
    ports_tooltip,
    state_text,
)
from app.models.keyed import RIGHT, Column, Row


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
