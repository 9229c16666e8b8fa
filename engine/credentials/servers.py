"""The key a registry's credentials are stored under, normalised as the docker CLI does.

The CLI sends Docker Hub as the literal ``https://index.docker.io/v1/`` and every other registry
as ``host[:port]`` (``ConvertToHostname``: scheme and path stripped). Other clients send
``https://host:port`` or ``docker.io``. :func:`server_key` folds all of those onto one key, so a
``get`` with or without a scheme finds what a ``store`` put there.

One deliberate difference from :func:`engine.registry.normalize_server`: paths *under* Docker
Hub's index other than ``/v1/`` (the CLI's device-flow ``…/v1/access-token`` and
``…/v1/refresh-token`` entries) keep their full URL, so they never overwrite the Hub login.

This module imports nothing: it is on the helper's hot path.
"""

from __future__ import annotations

HUB_SERVER = "https://index.docker.io/v1/"
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HUB_PATHS = frozenset({"", "v1", "v2"})
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_IPV6_CHARS = frozenset("0123456789abcdef:.%")


def server_key(url: str) -> str:
    """Normalise a registry URL or ``host[:port]`` to the key credentials are stored under.

    Raises:
        ValueError: empty, a scheme other than http/https, or no host; the message says what
            a valid value looks like.
    """
    text = url.strip()
    if not text:
        raise ValueError("no credentials server URL")
    rest = text
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme.lower() not in ("http", "https"):
            raise ValueError(
                f"unsupported scheme {scheme!r} in registry URL {text!r}: "
                "use host[:port] or https://host[:port]"
            )
    for sep in "?#":
        rest = rest.split(sep, 1)[0]
    netloc, _, path = rest.partition("/")
    if "@" in netloc:
        raise ValueError(
            f"registry URL {text!r} has a user name in it: give the user name separately"
        )
    host, port = netloc.lower(), ""
    if host.startswith("["):
        close = host.find("]")
        tail = host[close + 1 :] if close > 0 else "?"
        if tail and not tail.startswith(":"):
            raise ValueError(f"no valid registry host in {text!r}: use host[:port]")
        host, port = host[: close + 1], tail[1:]
        if not set(host[1:-1]) <= _IPV6_CHARS or len(host) < 3:
            raise ValueError(f"no valid registry host in {text!r}: use host[:port]")
    else:
        host, colon, port = host.partition(":")
        if colon and not port:
            port = "-"
        if not host or not set(host) <= _HOST_CHARS:
            raise ValueError(f"no valid registry host in {text!r}: use host[:port]")
    if port:
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"the port in {text!r} must be a number from 1 to 65535")
        port = str(int(port))
    if host in _HUB_HOSTS:
        clean = path.strip("/")
        if clean in _HUB_PATHS:
            return HUB_SERVER
        return f"https://index.docker.io/{clean}"
    return f"{host}:{port}" if port else host


def is_hub(server: str) -> bool:
    """Whether the key (or any alias of it) is Docker Hub's login."""
    try:
        return server_key(server) == HUB_SERVER
    except ValueError:
        return False
