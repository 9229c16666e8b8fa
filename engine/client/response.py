"""Reading the engine's answers without I/O: error statuses to exceptions, JSON bodies, headers.

Data flow: :class:`engine.client.connection.Connection` hands every error status (and its body)
to :func:`error_from_response`, the one place statuses become the exception tree of
:mod:`engine.errors`; the raw readers (:mod:`engine.rawget`, :mod:`engine.log_stream`,
:mod:`engine.stats_monitor`) call it too, so every reader reports an engine error the same way.
:func:`parse_json` decodes bodies; :func:`decode_path_stat` the archive stat header.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from engine.errors import AuthDenied, AuthRequired, Conflict, EngineAPIError, NotFound

JSON = Any

_AUTH_HINTS = ("unauthorized", "authentication required", "denied: requested access")


def engine_message(body: bytes) -> str:
    """The engine's error text: the ``message`` field of its JSON body, else the body."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text


def error_from_response(status: int, body: bytes, method: str, path: str) -> EngineAPIError:
    """Map an error status to the exception tree, keeping the engine's message verbatim."""
    message = engine_message(body)
    cls: type[EngineAPIError]
    lowered = message.lower()
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status == 401 or any(h in lowered for h in _AUTH_HINTS):
        cls = AuthRequired
    elif status == 403:
        cls = AuthDenied
    else:
        cls = EngineAPIError
    return cls(status, message, method=method, path=path)


def parse_json(body: bytes) -> JSON:
    """Decode a JSON body; an engine that sends garbage is reported as an API error."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise EngineAPIError(200, f"The engine sent invalid JSON: {body[:200]!r}") from exc


def decode_path_stat(header: str | None) -> dict[str, Any]:
    """Decode ``X-Docker-Container-Path-Stat`` (base64 JSON: name, size, mode, mtime, ...)."""
    if not header:
        return {}
    data = json.loads(base64.b64decode(header + "=" * (-len(header) % 4)))
    return data if isinstance(data, dict) else {}
