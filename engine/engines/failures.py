"""TLS and ssh failures as :class:`EngineUnreachable` subclasses whose message is the reason.

The generic "Is the engine running? Start it with `portside engine start`" hint is wrong when the
engine answered but TLS or ssh refused us, so these two say only what failed and what to do.
:func:`translate` is called from :meth:`engine.client.EngineClient._unreachable`, the one place
the client translates transport errors; it walks the exception's cause chain.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.endpoint import Endpoint
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


def cert_expiry(path: Path) -> dt.datetime | None:
    """When the PEM certificate at ``path`` expires (None when it cannot tell)."""
    try:
        from cryptography import x509  # present with keyring on Linux; optional elsewhere

        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except Exception:  # any failure only means "cannot tell"
        return None
    return cert.not_valid_after_utc


def translate(exc: BaseException, endpoint: Endpoint) -> EngineUnreachable | None:
    """A :class:`TLSRefused` / :class:`SSHRefused` for ``exc``, None for other failures."""
    url = endpoint.url
    ssh = _ssh_failure(exc)
    if ssh is not None:
        return SSHRefused(url, str(ssh))
    sentence = tls_errors.describe(exc, url)
    if sentence is None:
        return None
    tls = endpoint.tls_config
    if tls_errors.refused_our_certificate(exc) and (tls is None or tls.client_cert is None):
        # Go engines before 1.21 answer "bad certificate" when no certificate came at all
        sentence = tls_errors.wants_client_certificate(url)
    elif tls_errors.refused_our_certificate(exc) and tls is not None and tls.client_cert:
        expiry = cert_expiry(tls.client_cert)
        if expiry is not None and expiry < dt.datetime.now(dt.UTC):
            sentence = (
                f"{url} refused our client certificate: it expired on "
                f"{expiry:%Y-%m-%d %H:%M} UTC ({tls.client_cert}). Ask for a new client "
                "certificate signed by the engine's CA and put it in the engine's TLS settings."
            )
    return TLSRefused(url, sentence)
