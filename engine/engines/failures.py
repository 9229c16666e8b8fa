"""TLS and ssh failures as :class:`EngineUnreachable` subclasses whose message is the reason.

The generic "Is the engine running? Start it with `portside engine start`" hint is wrong when the
engine answered but TLS or ssh refused us, so these two say only what failed and what to do.
:func:`translate` is called from :meth:`engine.client.EngineClient._unreachable`, the one place
the client translates transport errors; it walks the exception's cause chain.
"""

from __future__ import annotations

from engine.engines import tls_errors
from engine.engines.ssh_transport import SSHFailure
from engine.errors import EngineError, EngineUnreachable


class TLSRefused(EngineUnreachable):
    """The TLS handshake failed; ``reason`` says which side (our CA, their certificate…)."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        self.reason = reason
        EngineError.__init__(self, f"TLS with {endpoint} failed. {reason}")


class SSHRefused(EngineUnreachable):
    """ssh or the remote ``docker system dial-stdio`` failed; ``reason`` says what to do."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        self.reason = reason
        EngineError.__init__(self, f"Cannot reach the Docker engine at {endpoint}: {reason}")


def _ssh_failure(exc: BaseException | None) -> SSHFailure | None:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SSHFailure):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def translate(exc: BaseException, url: str) -> EngineUnreachable | None:
    """A :class:`TLSRefused` / :class:`SSHRefused` for ``exc``, None for other failures."""
    ssh = _ssh_failure(exc)
    if ssh is not None:
        return SSHRefused(url, str(ssh))
    sentence = tls_errors.describe(exc, url)
    if sentence is not None:
        return TLSRefused(url, sentence)
    return None
