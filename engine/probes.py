"""Probes of engines already on this machine: ``/_ping`` over a socket, who owns a socket file,
and the list :func:`existing_engines` (the default socket, ``DOCKER_HOST``, docker contexts).

Short blocking calls with a timeout each (:data:`PROBE_TIMEOUT_S`); used by
:mod:`engine.doctor` (the "existing-engines" check, re-exported there) and
:mod:`engine.cli_integration` (the socket report). Nothing here ever connects to an engine for
more than a ``GET /_ping``, and nothing takes over a socket.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

PROBE_TIMEOUT_S = 0.4
DEFAULT_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class ExistingEngine:
    """An engine this machine already points at.

    Attributes:
        source: ``socket`` (the default socket), ``DOCKER_HOST`` or ``context``.
        name: the context's name, or the variable / socket path.
        endpoint: ``unix://…``, ``tcp://…``, ``ssh://…``.
        reachable: it answered ``/_ping``; None when not probed (ssh, remote tcp contexts).
        detail: what was found, for people (owner of a socket, the probe's error).
        current: it is what the docker CLI uses now.
    """

    source: str
    name: str
    endpoint: str
    reachable: bool | None
    detail: str
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- probing endpoints ---------------------------------------------------------------------------


def ping(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool | None, str]:
    """``GET /_ping`` on a ``unix://`` or ``tcp://`` endpoint: (answered OK, what happened).

    Other schemes (``ssh://``, ``npipe://``) are not probed: (None, why).
    """
    if endpoint.startswith("unix://"):
        family, address = socket.AF_UNIX, endpoint.removeprefix("unix://")
        target: Any = address
    elif endpoint.startswith("tcp://"):
        hostport = endpoint.removeprefix("tcp://").split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        if not host or not port.isdigit():
            return False, f"{endpoint} is not host:port"
        family, target = socket.AF_INET6 if ":" in host else socket.AF_INET, (host.strip("[]"),
                                                                                int(port))
    else:
        return None, "not probed (only local sockets and tcp:// are)"
    try:
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(target)
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            head = conn.recv(256).decode("latin-1", "replace")
    except OSError as exc:
        return False, f"does not answer ({exc.strerror or exc})"
    status = head.split("\r\n", 1)[0]
    if status.split(" ")[1:2] == ["200"]:
        return True, "answers"
    return False, f"answered {status or 'nothing'}"


def socket_owner(path: str) -> str:
    """Who owns a socket file: ``root:docker 0660``, for reports (never to take it over)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot stat it ({exc.strerror})"
    try:
        user = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        user = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return f"{user}:{group} {info.st_mode & 0o777:04o}"


def existing_engines(env: Mapping[str, str] | None = None) -> list[ExistingEngine]:
    """Engines already on this machine: the default socket, ``DOCKER_HOST``, docker contexts."""
    from engine import docker_contexts

    env = os.environ if env is None else env
    found: list[ExistingEngine] = []
    try:
        current = docker_contexts.current_context(env=env)
    except Exception as exc:  # a corrupt config.json is reported, not raised
        current = docker_contexts.DEFAULT_CONTEXT
        found.append(ExistingEngine("context", "config.json", "", None,
                                    f"cannot read the current context: {exc}"))
    docker_host = env.get("DOCKER_HOST", "").strip()
    default_current = current == docker_contexts.DEFAULT_CONTEXT
    if os.path.exists(DEFAULT_SOCKET):
        ok, what = ping(f"unix://{DEFAULT_SOCKET}")
        found.append(ExistingEngine(
            "socket", DEFAULT_SOCKET, f"unix://{DEFAULT_SOCKET}", ok,
            f"{what}; owned by {socket_owner(DEFAULT_SOCKET)}",
            current=default_current and not docker_host,
        ))
    if docker_host:
        ok, what = ping(docker_host)
        found.append(ExistingEngine("DOCKER_HOST", "DOCKER_HOST", docker_host, ok, what,
                                    current=default_current))
    for ctx in docker_contexts.list_contexts():
        if ctx.name == "portside":  # Portside's own (engine.cli_integration), not another engine
            continue
        if ctx.host.startswith("unix://"):
            ok, what = ping(ctx.host)
        else:
            ok, what = None, "not probed (remote)"
        found.append(ExistingEngine("context", ctx.name, ctx.host, ok, what,
                                    current=ctx.name == current))
    return found
