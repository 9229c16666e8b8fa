"""TLS failures in words: which side failed and what to do.

OpenSSL reports "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local
issuer certificate" for an engine signed by a CA we do not trust, and an alert name such as
"SSLV3_ALERT_BAD_CERTIFICATE" when the *engine* refused *our* certificate. :func:`describe` walks an
exception's cause chain (httpx -> httpcore -> ssl) and returns a sentence that says which side
failed, or None when no TLS error is in the chain. Pure: no I/O, called by
:meth:`engine.client.EngineClient._unreachable`, :mod:`engine.stats_monitor` and
:mod:`engine.engines.probe`.
"""

from __future__ import annotations

import ssl

# X509_V_ERR_* codes (openssl/x509_vfy.h) that ssl.SSLCertVerificationError.verify_code carries.
_UNKNOWN_CA = {2, 18, 19, 20, 21, 27}
_EXPIRED = 10
_NOT_YET_VALID = 9
_HOSTNAME_MISMATCH = 62
_IP_MISMATCH = 64


def find_ssl_error(exc: BaseException | None) -> ssl.SSLError | None:
    """The first ``ssl.SSLError`` in ``exc``'s cause/context chain."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ssl.SSLError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def describe(exc: BaseException | None, where: str = "the engine") -> str | None:
    """A sentence for the TLS error in ``exc``'s chain; None when there is none.

    Args:
        where: how to name the engine in the sentence (e.g. ``tcp://host:2376``).
    """
    err = find_ssl_error(exc)
    if err is None:
        return None
    if isinstance(err, ssl.SSLCertVerificationError):
        return _verify_failed(err, where)
    reason = (getattr(err, "reason", None) or "").upper()
    text = str(err)
    if "CERTIFICATE_REQUIRED" in reason or ("HANDSHAKE_FAILURE" in reason and "cert" in text):
        return wants_client_certificate(where)
    if "CERTIFICATE_EXPIRED" in reason:
        return (
            f"{where} refused our client certificate: it has expired. Ask for a new client "
            "certificate signed by the engine's CA and put it in the engine's TLS settings."
        )
    if "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason or "CERTIFICATE_UNKNOWN" in reason:
        return (
            f"{where} refused our client certificate (it is expired, not yet valid, or not "
            "signed by a CA the engine trusts). Use a client certificate signed by the CA the "
            "engine runs with (its --tlscacert), within its validity dates."
        )
    if "WRONG_VERSION_NUMBER" in reason or "PACKET_LENGTH_TOO_LONG" in reason:
        return (
            f"{where} does not speak TLS on that port (it may serve plain HTTP: use it without "
            "TLS, or check the port - 2376 is the usual TLS port, 2375 the plain one)."
        )
    if "KEY_VALUES_MISMATCH" in reason:
        return "The client key does not belong to the client certificate: pick the matching pair."
    return f"TLS with {where} failed: {text}"


def wants_client_certificate(where: str) -> str:
    return (
        f"{where} wants a client certificate and Portside sent none. Give the engine's client "
        "certificate and key (cert.pem and key.pem) in the engine's TLS settings."
    )


def refused_our_certificate(exc: BaseException | None) -> bool:
    """True when the engine's alert says it did not accept our client certificate."""
    err = find_ssl_error(exc)
    reason = (getattr(err, "reason", None) or "").upper() if err is not None else ""
    return any(k in reason for k in ("BAD_CERTIFICATE", "UNKNOWN_CA", "CERTIFICATE_EXPIRED",
                                     "CERTIFICATE_UNKNOWN"))


def _verify_failed(err: ssl.SSLCertVerificationError, where: str) -> str:
    code = err.verify_code
    if code in _UNKNOWN_CA:
        return (
            f"The certificate of {where} is not signed by the CA Portside was given (unknown "
            "CA). Use the engine's own CA certificate (the ca.pem its --tlscacert names)."
        )
    if code == _EXPIRED:
        return (
            f"The certificate of {where} has expired: the engine must get a new server "
            "certificate (check also this computer's clock)."
        )
    if code == _NOT_YET_VALID:
        return (
            f"The certificate of {where} is not valid yet: check this computer's clock and the "
            "engine's."
        )
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
        return (
            f"The certificate of {where} is for another host name (wrong host name: "
            f"{err.verify_message}). Connect with a name the certificate lists, or give the "
            "engine a certificate whose subjectAltName includes this name."
        )
    return f"The certificate of {where} was not accepted: {err.verify_message}."
