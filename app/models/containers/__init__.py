"""The containers table's model: standalone containers and Compose projects, keyed by id.

What is where (data flows down the list):

- :mod:`.text` — what a cell says: ports and port links, uptimes, exit codes, sizes (pure);
- :mod:`.rows` — the row dicts: :func:`container_row` from an ``engine.models.ContainerSummary``,
  :func:`carry_over` of stats across re-lists, :func:`group_row` for a Compose project;
- :mod:`.columns` — :data:`COLUMNS`: each column's text, sort key, tooltip and colour;
- :mod:`.model` — :class:`ContainersModel`, the tree updated by diffs (never a reset);
- :mod:`.filter` — :class:`ContainersFilter`, search words and "running only".

:class:`app.views.containers.store.ContainerStore` feeds the model; the Containers view shows it
through the filter. Every name used elsewhere is importable from this package.
"""

from __future__ import annotations

from app.models.containers.columns import COL, COLUMNS, state_colour
from app.models.containers.filter import ContainersFilter
from app.models.containers.model import IS_GROUP_ROLE, PORTS_ROLE, ContainersModel
from app.models.containers.rows import (
    ACTIVE_STATES,
    COMPOSE_LABEL,
    GROUP_PREFIX,
    carry_over,
    container_row,
    group_row,
)
from app.models.containers.text import (
    LINK_HOST,
    exit_code_of,
    format_bytes,
    format_cpu,
    format_created,
    format_ports,
    human_duration,
    parse_human_duration,
    port_url,
    port_urls,
    ports_tooltip,
    published_ports,
    started_at_from_status,
    state_text,
)
from app.models.keyed import ID_ROLE, ROW_ROLE

__all__ = [
    "ACTIVE_STATES",
    "COL",
    "COLUMNS",
    "COMPOSE_LABEL",
    "GROUP_PREFIX",
    "ID_ROLE",
    "IS_GROUP_ROLE",
    "LINK_HOST",
    "PORTS_ROLE",
    "ROW_ROLE",
    "ContainersFilter",
    "ContainersModel",
    "carry_over",
    "container_row",
    "exit_code_of",
    "format_bytes",
    "format_cpu",
    "format_created",
    "format_ports",
    "group_row",
    "human_duration",
    "parse_human_duration",
    "port_url",
    "port_urls",
    "ports_tooltip",
    "published_ports",
    "started_at_from_status",
    "state_colour",
    "state_text",
]
