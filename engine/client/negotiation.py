"""API version numbers and their negotiation (pure, no I/O).

Data flow: :meth:`engine.client.connection.Connection.connect` reads the engine's
``Api-Version`` header from ``/_ping`` and hands it to :func:`negotiate_version`, which picks
the version every later request carries in its path (``/v1.47/...``). :func:`version_at_least`
lets callers switch behaviour on the negotiated version (exec stream types, volume prune).
"""

from __future__ import annotations

from typing import Final

from engine.errors import ApiVersionTooOld

#: The newest API version this client speaks; we negotiate min(this, engine's).
API_VERSION: Final = "1.47"
#: The oldest engine API we accept (Docker Engine 20.10).
MIN_API_VERSION: Final = "1.41"


def parse_api_version(text: str) -> tuple[int, int]:
    """``"1.41"`` -> ``(1, 41)``; raises ValueError for anything else."""
    major, _, minor = text.strip().partition(".")
    if not major.isdigit() or not minor.isdigit():
        raise ValueError(f"not an API version: {text!r}")
    return int(major), int(minor)


def version_at_least(version: str, minimum: str) -> bool:
    """Numeric comparison (``"1.100" > "1.41"``, unlike string comparison)."""
    return parse_api_version(version) >= parse_api_version(minimum)


def negotiate_version(
    server: str | None, ours: str = API_VERSION, minimum: str = MIN_API_VERSION
) -> str:
    """Pick ``min(ours, server)``; raise :class:`ApiVersionTooOld` below ``minimum``.

    A missing or unparseable header means an engine too old to send it.
    """
    if not server:
        raise ApiVersionTooOld("unknown (no Api-Version header)", minimum)
    try:
        server_v = parse_api_version(server)
    except ValueError:
        raise ApiVersionTooOld(f"unknown ({server!r})", minimum) from None
    if server_v < parse_api_version(minimum):
        raise ApiVersionTooOld(server.strip(), minimum)
    return ours if parse_api_version(ours) <= server_v else server.strip()
