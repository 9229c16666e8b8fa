"""One look at an engine: is it there, what is it, and if not, why (in words).

``client_for(entry)`` gives an :class:`engine.client.EngineClient` on the entry's transport
(unix socket, TCP, TCP+TLS, or ssh ``dial-stdio`` per connection); ``probe(entry)`` opens one,
asks ``/version`` and ``/info`` (one connection), closes it (for ssh: the ssh processes end
with it) and sorts the outcome into an :class:`EngineProbe` state. TLS failures carry the
sentence from :mod:`engine.engines.tls_errors`, ssh ones the one from
:mod:`engine.engines.ssh_transport`.
"""

from __future__ import annotations

import asyncio

from engine.client import EngineClient
from engine.engines.entry import EngineEntry, EngineProbe
from engine.engines.failures import SSHRefused, TLSRefused
from engine.errors import EngineAPIError, EngineError, EngineUnreachable, InvalidEndpoint

#: Seconds one probe may take (an ssh login, a TLS handshake and one request).
PROBE_TIMEOUT = 15.0


def client_for(entry: EngineEntry, *, timeout: float = 30.0) -> EngineClient:
    """A client on the entry's transport; raises :class:`InvalidEndpoint` for a bad entry."""
    return EngineClient(entry.endpoint(), timeout=timeout)


async def probe(entry: EngineEntry, *, timeout: float = PROBE_TIMEOUT) -> EngineProbe:  # noqa: ASYNC109
    """What ``entry`` is right now (never raises for an engine problem)."""
    try:
        client = client_for(entry, timeout=timeout)
    except InvalidEndpoint as exc:
        return EngineProbe("invalid", str(exc))
    try:
        async with client:
            version = await asyncio.wait_for(client.version(), timeout)
            # same connection (no second ssh login): the engine host's name for the list
            info = await asyncio.wait_for(client.info(), timeout)
    except InvalidEndpoint as exc:
        return EngineProbe("invalid", str(exc))
    except TLSRefused as exc:
        return EngineProbe("tls-error", exc.reason)
    except SSHRefused as exc:
        return EngineProbe("ssh-error", exc.reason)
    except EngineUnreachable as exc:
        return EngineProbe("unreachable", str(exc))
    except TimeoutError:
        return EngineProbe(
            "unreachable", f"{entry.url} did not answer within {timeout:g} s."
        )
    except EngineAPIError as exc:
        return EngineProbe("error", str(exc))
    except EngineError as exc:
        return EngineProbe("error", str(exc))
    return EngineProbe(
        "running",
        version=version.version,
        os=version.os,
        arch=version.arch,
        name=info.name,
        api_version=version.api_version,
    )
