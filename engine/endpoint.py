"""Where the Docker engine lives, and how to open an HTTP client to it.

An :class:`Endpoint` is parsed from the same strings the docker CLI accepts in ``DOCKER_HOST`` /
``--host``::

    unix:///var/run/docker.sock     a local socket (the default)
    tcp://192.0.2.10:2375           plain TCP
    tcp://192.0.2.10:2376           TCP with TLS when DOCKER_TLS_VERIFY (or explicit TLS) is set
    ssh://user@host[:port]          ``ssh … docker system dial-stdio``, one ssh process per
                                    connection (:mod:`engine.engines.ssh_transport`)

Resolution order (:func:`resolve_endpoint`): an explicit endpoint, then ``DOCKER_HOST``, then the
default socket. Everything here is pure except :meth:`Endpoint.transport` (which builds an
``httpx`` transport, and for TLS reads the certificate files).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from engine.errors import InvalidEndpoint

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_UNIX_HOST = f"unix://{DEFAULT_SOCKET}"
DEFAULT_HTTP_PORT = 2375
DEFAULT_TLS_PORT = 2376

_EXAMPLES = "unix:///var/run/docker.sock or tcp://127.0.0.1:2375"

Scheme = Literal["unix", "tcp", "tls", "ssh"]


@dataclass(frozen=True)
class TLSConfig:
    """Client-side TLS settings, as the docker CLI's ``--tls*`` flags.

    Attributes:
        ca_cert: CA bundle used to verify the engine (``ca.pem``); None -> system CAs.
        client_cert: client certificate (``cert.pem``); None -> no client certificate.
        client_key: the client certificate's key (``key.pem``).
        verify: verify the engine's certificate and host name (``DOCKER_TLS_VERIFY``).
    """

    ca_cert: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    verify: bool = True

    @classmethod
    def from_cert_path(cls, cert_path: Path, *, verify: bool = True) -> TLSConfig:
        """Read ``ca.pem``/``cert.pem``/``key.pem`` from a directory (``DOCKER_CERT_PATH``).

        Like the docker CLI, files that do not exist are left out; but a certificate without its
        key (or the reverse) is an error, and so is a missing ``ca.pem`` when verifying.
        """
        ca, cert, key = (cert_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
        if verify and not ca.is_file():
            raise InvalidEndpoint(
                f"TLS verification is on (DOCKER_TLS_VERIFY) but {ca} does not exist. Put the "
                "engine's CA certificate there, set DOCKER_CERT_PATH to the directory holding "
                "ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY."
            )
        if cert.is_file() != key.is_file():
            have, missing = (cert, key) if cert.is_file() else (key, cert)
            raise InvalidEndpoint(
                f"Found {have} but not {missing}: a TLS client certificate needs both files."
            )
        return cls(
            ca_cert=ca if ca.is_file() else None,
            client_cert=cert if cert.is_file() else None,
            client_key=key if key.is_file() else None,
            verify=verify,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Build the ``ssl.SSLContext``; raises :class:`InvalidEndpoint` for unreadable files."""
        try:
            if self.verify:
                ctx = ssl.create_default_context(cafile=str(self.ca_cert) if self.ca_cert else None)
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if self.client_cert is not None:
                ctx.load_cert_chain(
                    str(self.client_cert),
                    str(self.client_key) if self.client_key else None,
                    password=_no_passphrase,
                )
        except (OSError, ssl.SSLError) as exc:
            raise InvalidEndpoint(
                f"Cannot load the TLS certificates ({self.ca_cert}, {self.client_cert}, "
                f"{self.client_key}): {exc}. Check DOCKER_CERT_PATH."
            ) from exc
        return ctx


@dataclass(frozen=True)
class Endpoint:
    """A parsed engine address.

    Attributes:
        scheme: ``unix`` (a socket path), ``tcp`` (plain HTTP), ``tls`` (HTTPS over TCP) or
            ``ssh`` (HTTP through ``ssh … docker system dial-stdio``).
        path: the socket path, for ``unix``.
        host: host name or IP, for ``tcp``/``tls``/``ssh``.
        port: TCP port, for ``tcp``/``tls``; for ``ssh`` 0 means ssh's own default (or config).
        tls_config: the TLS settings, for ``tls``.
        user: the ssh login name, for ``ssh`` ("" = ssh's own default).
    """

    scheme: Scheme
    path: str = ""
    host: str = ""
    port: int = 0
    tls_config: TLSConfig | None = field(default=None, compare=True)
    user: str = ""

    @classmethod
    def parse(cls, text: str, *, tls: TLSConfig | None = None) -> Endpoint:
        """Parse ``unix:///path`` or ``tcp://host[:port]``; ``tls`` turns TCP into TLS.

        Raises:
            InvalidEndpoint: naming the bad value and showing a good one.
        """
        raw = text.strip()
        if not raw:
            raise InvalidEndpoint(f"The engine address is empty. Use e.g. {_EXAMPLES}.")
        if raw.startswith("/"):
            raw = "unix://" + raw
        if "://" not in raw:
            raise InvalidEndpoint(
                f"{text!r} is not a valid engine address: it has no scheme. Use e.g. {_EXAMPLES}."
            )
        scheme, rest = raw.split("://", 1)
        scheme = scheme.lower()
        if scheme == "unix":
            if not rest or not rest.startswith("/"):
                raise InvalidEndpoint(
                    f"{text!r} is not a valid engine address: a unix endpoint needs an absolute "
                    f"socket path, e.g. {DEFAULT_UNIX_HOST}."
                )
            return cls(scheme="unix", path=rest)
        if scheme in ("tcp", "http", "https"):
            use_tls = tls is not None or scheme == "https"
            host, port = _split_host_port(text, rest, DEFAULT_TLS_PORT if use_tls else None)
            if use_tls:
                return cls(scheme="tls", host=host, port=port, tls_config=tls or TLSConfig())
            return cls(scheme="tcp", host=host, port=port)
        if scheme == "ssh":
            return _parse_ssh(text, rest)
        if scheme in ("npipe", "fd"):
            raise InvalidEndpoint(
                f"{text!r} uses {scheme}://, which Portside does not support. "
                f"Use a unix socket or TCP address instead, e.g. {_EXAMPLES}."
            )
        raise InvalidEndpoint(
            f"{text!r} is not a valid engine address: unknown scheme {scheme!r}. "
            f"Use e.g. {_EXAMPLES}."
        )

    @property
    def url(self) -> str:
        """The endpoint as DOCKER_HOST would spell it (``unix:///…`` or ``tcp://host:port``)."""
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.scheme == "ssh":
            user = f"{self.user}@" if self.user else ""
            return f"ssh://{user}{host}" + (f":{self.port}" if self.port else "")
        return f"tcp://{host}:{self.port}"

    def __str__(self) -> str:
        return self.url + (" (TLS)" if self.scheme == "tls" else "")

    @property
    def base_url(self) -> str:
        """The base URL for HTTP requests (the host part is ignored for unix sockets)."""
        if self.scheme in ("unix", "ssh"):
            return "http://docker"
        host = f"[{self.host}]" if ":" in self.host else self.host
        proto = "https" if self.scheme == "tls" else "http"
        return f"{proto}://{host}:{self.port}"

    def transport(self) -> httpx.AsyncHTTPTransport:
        """An ``httpx`` transport that reaches this endpoint (no env proxies, no retries)."""
        if self.scheme == "ssh":
            from engine.engines.ssh_transport import SSHTransport

            return SSHTransport(self)
        # No TLS on unix and plain tcp: verify=False spares httpx loading certifi's CA bundle
        # for a context never used (~30 ms per client; the engines list probes many).
        if self.scheme == "unix":
            return httpx.AsyncHTTPTransport(uds=self.path, verify=False)
        if self.scheme == "tls":
            assert self.tls_config is not None
            return httpx.AsyncHTTPTransport(verify=self.tls_config.ssl_context())
        return httpx.AsyncHTTPTransport(verify=False)


def _no_passphrase() -> str:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase.
    raise InvalidEndpoint(
        "The TLS client key is encrypted with a passphrase, which Portside cannot ask for here. "
        "Write an unencrypted copy readable only by you: "
        "`openssl pkey -in key.pem -out key-plain.pem && chmod 600 key-plain.pem`."
    )


def _parse_ssh(text: str, rest: str) -> Endpoint:
    """``ssh://[user@]host[:port]`` as the docker CLI takes it (no path, no password)."""
    bad = f"{text!r} is not a valid ssh engine address"
    try:
        parts = urlsplit("//" + rest)
        port = parts.port or 0
    except ValueError as exc:
        raise InvalidEndpoint(
            f"{bad}: the port must be a number from 1 to 65535, e.g. ssh://me@host:22."
        ) from exc
    if not parts.hostname:
        raise InvalidEndpoint(f"{bad}: it names no host. Use e.g. ssh://me@host.example.")
    if parts.password is not None:
        raise InvalidEndpoint(
            f"{bad}: it holds a password. Use ssh keys (your ssh agent or ~/.ssh/config) and "
            "write the address as ssh://user@host[:port]."
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidEndpoint(f"{bad}: it is just ssh://user@host[:port], with no path.")
    return Endpoint(scheme="ssh", host=parts.hostname, port=port, user=parts.username or "")


def _split_host_port(text: str, rest: str, default_port: int | None) -> tuple[str, int]:
    bad = f"{text!r} is not a valid engine address"
    try:
        parts = urlsplit("//" + rest)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise InvalidEndpoint(
            f"{bad}: the port must be a number from 1 to 65535, e.g. tcp://127.0.0.1:2375."
        ) from exc
    if not host:
        raise InvalidEndpoint(f"{bad}: it names no host. Use e.g. tcp://127.0.0.1:2375.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidEndpoint(
            f"{bad}: a TCP endpoint is just host and port. Use e.g. tcp://127.0.0.1:2375."
        )
    if port is None or port == 0:
        port = default_port or DEFAULT_HTTP_PORT
    return host, port


def tls_from_env(env: Mapping[str, str]) -> TLSConfig | None:
    """TLS settings from ``DOCKER_TLS_VERIFY`` / ``DOCKER_TLS`` / ``DOCKER_CERT_PATH``."""
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    tls = verify or bool(env.get("DOCKER_TLS"))
    if not tls:
        return None
    cert_path = env.get("DOCKER_CERT_PATH") or str(Path.home() / ".docker")
    return TLSConfig.from_cert_path(Path(cert_path), verify=verify)


def resolve_endpoint(
    explicit: str | Endpoint | None = None, env: Mapping[str, str] | None = None
) -> Endpoint:
    """Pick the endpoint: explicit, then ``DOCKER_HOST``, then the default socket.

    TLS settings from the environment apply to TCP endpoints given as strings.
    """
    if isinstance(explicit, Endpoint):
        return explicit
    env = os.environ if env is None else env
    if explicit is not None:
        text, source = explicit, "The engine address"
    elif "DOCKER_HOST" in env:
        text, source = env["DOCKER_HOST"], "DOCKER_HOST"
    else:
        return Endpoint(scheme="unix", path=DEFAULT_SOCKET)
    if not text.strip():
        raise InvalidEndpoint(
            f"{source} is set but empty. Set it to e.g. {_EXAMPLES}, or unset it to use "
            f"{DEFAULT_UNIX_HOST}."
        )
    tls = tls_from_env(env) if text.strip().lower().startswith(("tcp://", "https://")) else None
    try:
        return Endpoint.parse(text, tls=tls)
    except InvalidEndpoint as exc:
        if source == "DOCKER_HOST":
            raise InvalidEndpoint(f"DOCKER_HOST is invalid: {exc}") from exc
        raise
