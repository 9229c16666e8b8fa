"""Port links point at the engine's machine: 127.0.0.1 locally, the remote host otherwise.

The Containers view, its tooltips and the container page build ``http://HOST:PORT`` links with
:func:`app.models.containers.port_url`; for a port published on every address, HOST is
``LINK_HOST`` there. :func:`follow` keeps it in step with the engine in use: the engine the app
starts with, then each switch (``AppContext.engine_switching`` carries the new engine). A
``unix://`` engine (Portside's own, the VM's forwarded socket, a local dockerd) publishes on this
machine; ``tcp://host:port`` and ``ssh://user@host[:port]`` publish on ``host``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.models.containers import LINK_HOST

LOCAL = "127.0.0.1"


def link_host(url: str) -> str:
    """The host that published ports of the engine at ``url`` are reached on."""
    scheme, _, _rest = url.partition("://")
    if scheme.lower() not in ("tcp", "ssh", "http", "https"):
        return LOCAL
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return LOCAL
    return host or LOCAL


def set_for(engine: Any) -> str:
    """Point port links at ``engine``'s machine; returns the host used."""
    LINK_HOST["host"] = link_host(str(getattr(engine, "endpoint", "") or ""))
    return LINK_HOST["host"]


def follow(ctx: Any) -> None:
    """Point port links at the current engine now and after every switch."""
    set_for(ctx.engine)
    ctx.engine_switching.connect(set_for)
