"""What the containers table's cells say: ports, port links, uptimes, exit codes, sizes, dates.

Pure functions of a row (a plain dict, see :mod:`.rows`) or of one value, no Qt: the column
definitions in :mod:`.columns` call them for display and tooltips, the container page header
reuses :func:`human_duration` and :func:`port_url`, and :mod:`app.engines.links` keeps
:data:`LINK_HOST` pointing at the engine in use.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from app.models.keyed import Row


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
