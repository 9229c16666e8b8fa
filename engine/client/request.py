"""Building requests without I/O: parameters, filters, paths and bodies the engine expects.

Data flow: every resource method (:mod:`engine.client.containers`, ``images``, ...) calls
:func:`build_request` to get a :class:`RequestSpec` — method, path, encoded query pairs,
headers, body — and hands it to :class:`engine.client.connection.Connection`, which adds the
negotiated version prefix (:meth:`RequestSpec.url`) and sends it. Tests call these functions
synchronously.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from engine.registry import parse_reference

Params = Mapping[str, Any]


def encode_param(value: Any) -> str:
    """Encode one query parameter the way the engine parses it."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, datetime):
        return f"{value.timestamp():.9f}"
    return str(value)


def encode_filters(filters: Mapping[str, Any] | None) -> str | None:
    """``{"label": ["a=b"], "dangling": True}`` -> the engine's JSON ``map[string][]string``."""
    if not filters:
        return None
    out: dict[str, list[str]] = {}
    for key, value in filters.items():
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        out[key] = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return json.dumps(out, separators=(",", ":"))


@dataclass(frozen=True)
class RequestSpec:
    """Everything needed to send one request, built without I/O.

    ``path`` is relative to the API version prefix unless ``versioned`` is False.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    content: bytes | AsyncIterable[bytes] | None = None
    versioned: bool = True

    def url(self, api_version: str | None) -> str:
        if self.versioned and api_version:
            return f"/v{api_version}{self.path}"
        return self.path


def build_request(
    method: str,
    path: str,
    *,
    params: Params | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    content: bytes | AsyncIterable[bytes] | None = None,
    versioned: bool = True,
) -> RequestSpec:
    """Drop ``None`` parameters, encode the rest; lists become repeated parameters."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, encode_param(v)) for v in value)
        else:
            pairs.append((key, encode_param(value)))
    return RequestSpec(
        method=method,
        path=path,
        params=tuple(pairs),
        headers=dict(headers or {}),
        json_body=json_body,
        content=content,
        versioned=versioned,
    )


def quote_path(segment: str) -> str:
    """Percent-encode an id or name for use as one path segment (image refs contain ``/``)."""
    return quote(segment, safe=":@")


def split_reference(ref: str) -> tuple[str, str]:
    """Split an image reference into the engine's ``(name, tag-or-digest)``.

    ``"busybox"`` -> ``("docker.io/library/busybox", "latest")``; raises ValueError for
    malformed references (from :func:`engine.registry.parse_reference`).
    """
    parsed = parse_reference(ref)
    name = f"{parsed.registry}/{parsed.repository}"
    return name, parsed.digest or parsed.tag or "latest"
