"""Where a published container port is reached from this computer, per engine (pure).

A local engine (unix socket) publishes on this machine: an any-address binding opens at
``127.0.0.1``. A remote engine (tcp, TLS, ssh) publishes on *its* host: an any-address binding
opens at the engine's host name, and a binding to the remote's loopback is not reachable from
here at all (None: the app shows the port without a link, or the user tunnels it with ``ssh -L``).
"""

from __future__ import annotations

import ipaddress

from engine.endpoint import Endpoint

_ANY = ("", "0.0.0.0", "::")


def is_remote(endpoint: Endpoint) -> bool:
    """True when the engine's ports are on another machine (tcp/TLS/ssh to a non-local host)."""
    if endpoint.scheme == "unix":
        return False
    host = endpoint.host.strip("[]").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def port_url(endpoint: Endpoint, host_ip: str | None, port: int) -> str | None:
    """``http://host:port`` for a binding ``host_ip:port``; None when unreachable from here."""
    ip = (host_ip or "").strip("[]")
    remote = is_remote(endpoint)
    if ip in _ANY:
        host = endpoint.host if remote else "127.0.0.1"
    else:
        try:
            if remote and ipaddress.ip_address(ip).is_loopback:
                return None
        except ValueError:
            pass
        host = ip
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{int(port)}"
