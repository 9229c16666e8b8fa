"""The async Docker Engine API client.

Shape (after ``httpx``'s ``BaseClient``/``AsyncClient`` split): request building, version
negotiation and response/error parsing are pure functions that tests call synchronously;
:class:`EngineClient` adds the I/O over ONE long-lived ``httpx.AsyncClient``. Foreign exceptions
are translated in exactly two places: ``Connection._send`` / ``Connection._stream`` (transport
errors -> :class:`EngineUnreachable`, error statuses -> :func:`error_from_response`).

Usage::

    async with EngineClient() as docker:          # explicit, then DOCKER_HOST, then default socket
        for c in await docker.containers.list(all=True):
            print(c.name, c.state)
        async for kind, text in docker.containers.logs(cid, follow=True):
            ...

Streams (logs, events, stats, progress of pull/push/build/load/import, save) are async
iterators with no read timeout. They hold an HTTP connection until exhausted, cancelled or
closed; wrap them in ``contextlib.aclosing`` when breaking out of the loop early.

The package, one concern a module (this file only re-exports, so ``from engine.client import
X`` keeps working)::

    negotiation.py  API versions: parse, compare, negotiate              (pure)
    request.py      RequestSpec, build_request, parameter/filter/path encoding  (pure)
    response.py     error statuses -> exception tree, JSON bodies, stat header  (pure)
    connection.py   Connection: the httpx client, send/stream, error translation, /_ping;
                    Resource, the base of the groups below
    system.py       EngineClient(Connection): /version /info /system/df /events /auth,
                    and the groups: .containers .execs .images .volumes .networks
    containers.py   Containers   execs.py  Execs   images.py  Images
    volumes.py      Volumes      networks.py  Networks
"""

from __future__ import annotations

from engine.client.connection import Connection, Resource
from engine.client.containers import Containers
from engine.client.execs import Execs
from engine.client.images import Images
from engine.client.negotiation import (
    API_VERSION,
    MIN_API_VERSION,
    negotiate_version,
    parse_api_version,
    version_at_least,
)
from engine.client.networks import Networks
from engine.client.request import (
    Params,
    RequestSpec,
    build_request,
    encode_filters,
    encode_param,
    quote_path,
    split_reference,
)
from engine.client.response import (
    JSON,
    decode_path_stat,
    engine_message,
    error_from_response,
    parse_json,
)
from engine.client.system import DF_BUSY_RETRY_SECONDS, EngineClient
from engine.client.volumes import Volumes
from engine.errors import EngineError, StreamError

__all__ = [
    "API_VERSION",
    "DF_BUSY_RETRY_SECONDS",
    "JSON",
    "MIN_API_VERSION",
    "Connection",
    "Containers",
    "EngineClient",
    "EngineError",
    "Execs",
    "Images",
    "Networks",
    "Params",
    "RequestSpec",
    "Resource",
    "StreamError",
    "Volumes",
    "build_request",
    "decode_path_stat",
    "encode_filters",
    "encode_param",
    "engine_message",
    "error_from_response",
    "negotiate_version",
    "parse_api_version",
    "parse_json",
    "quote_path",
    "split_reference",
    "version_at_least",
]
