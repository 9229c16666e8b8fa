"""Model rows of the containers table: one per container, one summary per Compose project.

Data flow: :class:`app.views.containers.store.ContainerStore` lists containers
(``engine.models.ContainerSummary``), turns each into a plain dict with :func:`container_row`,
keeps what a re-list cannot know with :func:`carry_over`, and hands the dicts to
:class:`~.model.ContainersModel`, which builds each project's summary row with :func:`group_row`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from app.models.containers.text import (
    exit_code_of,
    format_ports,
    human_duration,
    started_at_from_status,
)
from app.models.keyed import Row

GROUP_PREFIX = "compose:"
COMPOSE_LABEL = "com.docker.compose.project"

ACTIVE_STATES = ("running", "paused", "restarting")


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
