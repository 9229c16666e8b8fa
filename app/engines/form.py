"""The add/edit engine form's rules, without Qt: what the user typed -> a URL and TLS settings.

:func:`engine_request` takes the form's values (connection kind, address, TLS switches and file
paths) and returns ``(url, TLSConfig | None)`` or raises :class:`FormError` with a sentence that
says what to change. TLS follows the docker CLI: TLS on without "verify" is ``--tls`` (encrypted,
the engine's certificate not checked); with "verify" it is ``--tlsverify`` (the engine must show
a certificate signed by the CA file, for the host name it was reached by), which needs the CA.
A client certificate needs its key and the other way round. The final word on the address is
:meth:`engine.endpoint.Endpoint.parse`, the same parser every other engine address goes through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from engine.endpoint import Endpoint, TLSConfig
from engine.errors import InvalidEndpoint

KINDS = ("unix", "tcp", "ssh")
KIND_TITLES = {"unix": "Unix socket", "tcp": "TCP (optionally with TLS)", "ssh": "SSH"}
EXAMPLES = {
    "unix": "/var/run/docker.sock",
    "tcp": "192.0.2.10:2376",
    "ssh": "user@host.example.com:22",
}


class FormError(ValueError):
    """What is wrong with the form, in words; ``field`` names the field to fix."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FormValues:
    """What the form holds."""

    name: str
    kind: str
    address: str
    tls: bool = False
    verify: bool = True
    ca: str = ""
    cert: str = ""
    key: str = ""


def split_url(url: str) -> tuple[str, str]:
    """(kind, address) to fill the form from an entry's URL."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "unix":
        return "unix", rest
    if scheme == "ssh":
        return "ssh", rest
    return "tcp", rest


def _file(path: str, what: str, field: str) -> Path:
    p = Path(os.path.expanduser(path.strip()))
    if not p.is_absolute():
        raise FormError(f"The {what} must be a full path (starting with /): {path}", field)
    if not p.is_file():
        raise FormError(f"The {what} {p} does not exist or is not a file. Pick it again.", field)
    if not os.access(p, os.R_OK):
        raise FormError(f"Portside cannot read the {what} {p} (permissions).", field)
    return p


def tls_config(values: FormValues) -> TLSConfig | None:
    """The TLS settings the form asks for (None without TLS); raises :class:`FormError`."""
    if values.kind != "tcp" or not values.tls:
        return None
    ca = _file(values.ca, "CA certificate", "ca") if values.ca.strip() else None
    if values.verify and ca is None:
        raise FormError(
            "Verifying the engine (--tlsverify) needs the CA certificate that signed it "
            "(ca.pem). Pick it, or turn verification off to only encrypt.", "ca",
        )
    if bool(values.cert.strip()) != bool(values.key.strip()):
        missing = "key" if values.cert.strip() else "certificate"
        raise FormError(
            f"A client certificate needs its key and the other way round: pick the client "
            f"{missing} too, or clear both.", "key" if missing == "key" else "cert",
        )
    cert = _file(values.cert, "client certificate", "cert") if values.cert.strip() else None
    key = _file(values.key, "client key", "key") if values.key.strip() else None
    return TLSConfig(ca_cert=ca, client_cert=cert, client_key=key, verify=values.verify)


def engine_request(values: FormValues) -> tuple[str, TLSConfig | None]:
    """(url, tls) for the form's values; raises :class:`FormError` naming what to fix."""
    if not values.name.strip():
        raise FormError("Give the engine a name (it is shown in the engines list).", "name")
    if values.kind not in KINDS:
        raise FormError(f"Pick how to connect: {', '.join(KIND_TITLES.values())}.", "kind")
    address = values.address.strip()
    if "://" in address:
        scheme, _, rest = address.partition("://")
        if scheme.lower() != values.kind and not (
            values.kind == "tcp" and scheme.lower() in ("http", "https")
        ):
            raise FormError(
                f"{address} is a {scheme}:// address but the connection is set to "
                f"{KIND_TITLES[values.kind]}: change one of the two.", "address",
            )
        address = rest
    if not address:
        raise FormError(
            f"Enter the address, e.g. {EXAMPLES[values.kind]}.", "address"
        )
    if values.kind == "unix" and not address.startswith("/"):
        raise FormError(
            f"A socket path starts with /, e.g. {EXAMPLES['unix']}.", "address"
        )
    if values.kind == "ssh":
        parts = urlsplit(f"ssh://{address}")
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError as exc:
            raise FormError(f"The SSH port must be a number, e.g. {EXAMPLES['ssh']}.",
                            "address") from exc
        if not parts.hostname or parts.path not in ("", "/"):
            raise FormError(
                f"An SSH address is user@host or user@host:port, e.g. {EXAMPLES['ssh']}.",
                "address",
            )
    tls = tls_config(values)
    url = f"{values.kind}://{address}"
    try:
        endpoint = Endpoint.parse(url, tls=tls)
    except InvalidEndpoint as exc:
        raise FormError(str(exc), "address") from exc
    return (url if values.kind == "ssh" else endpoint.url), tls
