"""Image references, registry server names and the registry auth headers — pure functions.

* :func:`parse_reference` follows docker's reference grammar (``distribution/reference``) and its
  "familiar" normalisation: ``busybox`` is ``docker.io/library/busybox:latest``. Bad input raises
  :class:`ValueError` whose message says what is wrong and what a valid name looks like.
* :func:`normalize_server` turns what a user types at sign-in into the key the docker CLI uses in
  ``config.json`` and credential helpers: Docker Hub is the literal ``https://index.docker.io/v1/``,
  every other registry is ``host[:port]``.
* :func:`encode_registry_auth` / :func:`encode_registry_config` build the ``X-Registry-Auth`` and
  ``X-Registry-Config`` headers (base64url, padded, as ``base64.URLEncoding`` in Go).

Deliberate differences from docker:

* A first path component with upper-case letters but no ``.`` or ``:`` (``MyUser/app``) is not
  taken as a registry host, so the user gets "must be lowercase" instead of a DNS error for a
  host called ``MyUser``.
* :func:`normalize_server` lower-cases the host name (host names are case-insensitive), so one
  registry never ends up under two keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_REGISTRY",
    "HUB_SERVER",
    "AuthConfig",
    "Reference",
    "decode_registry_auth",
    "encode_registry_auth",
    "encode_registry_config",
    "normalize_server",
    "parse_reference",
]

HUB_SERVER = "https://index.docker.io/v1/"
DEFAULT_REGISTRY = "docker.io"
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_OFFICIAL_PREFIX = "library/"
NAME_TOTAL_LENGTH_MAX = 255

# Grammar pieces from distribution/reference (regexp.go). Go's \w is ASCII-only.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6})")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST_ALGORITHM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[+.\-_][A-Za-z][A-Za-z0-9]*)*")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX_LOWER = re.compile(r"[a-f0-9]+")
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

_NAME_HELP = (
    "Image names are lowercase letters and digits, in parts separated by '/', where a part may "
    "use '.', '_', '__' or dashes between letters and digits (e.g. 'busybox', "
    "'team/my-app', 'registry.example.com:5000/team/app')"
)
_TAG_HELP = "a tag is 1 to 128 letters, digits, '_', '.' or '-', and cannot start with '.' or '-'"


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference.

    Attributes:
        registry: ``"docker.io"`` for Docker Hub, else the host[:port] as written.
        repository: the path, e.g. ``"library/busybox"`` or ``"team/app"``.
        tag: ``"latest"`` when neither tag nor digest was given; ``None`` for a digest-only
            reference.
        digest: ``"sha256:…"`` or ``None``.
    """

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        return self.name + self._suffix()

    def _suffix(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return tag + digest

    @property
    def name(self) -> str:
        """The full repository name without tag or digest: ``docker.io/library/busybox``."""
        return f"{self.registry}/{self.repository}"

    @property
    def familiar_name(self) -> str:
        """The name as docker shows it: ``busybox``, ``team/app``, ``host:5000/app``."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        rest = self.repository.removeprefix(_OFFICIAL_PREFIX)
        if rest != self.repository and "/" not in rest:
            return rest
        return self.repository

    @property
    def familiar(self) -> str:
        """The reference as docker shows it (``busybox:latest``), as in an image's RepoTags."""
        return self.familiar_name + self._suffix()

    @property
    def auth_server(self) -> str:
        """The key for this registry's credentials: :data:`HUB_SERVER` for Hub, else host."""
        return HUB_SERVER if self.registry == DEFAULT_REGISTRY else self.registry.lower()

    def with_tag(self, tag: str) -> Reference:
        """The same repository with another tag (and no digest); validates the tag."""
        _check_tag(tag, f"{self.familiar_name}:{tag}")
        return Reference(self.registry, self.repository, tag, None)


def _check_tag(tag: str, text: str) -> None:
    if not _TAG.fullmatch(tag):
        shown = tag if len(tag) <= 40 else tag[:40] + "…"
        raise ValueError(
            f"Tag {shown!r} is invalid: {_TAG_HELP} ({len(tag)} characters given, in {text!r})"
        )


def _check_digest(digest: str, text: str) -> None:
    algorithm, sep, encoded = digest.partition(":")
    if not sep or not algorithm or not encoded:
        raise ValueError(
            f"Digest {digest!r} is invalid: a digest looks like 'sha256:' followed by 64 "
            f"hexadecimal digits (in {text!r})"
        )
    if not _DIGEST_ALGORITHM.fullmatch(algorithm):
        raise ValueError(f"Digest {digest!r} is invalid: bad algorithm name {algorithm!r}")
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is None:
        raise ValueError(
            f"Digest {digest!r} is invalid: unsupported algorithm {algorithm!r} "
            "(use sha256, sha384 or sha512)"
        )
    if len(encoded) != expected or not _HEX_LOWER.fullmatch(encoded):
        raise ValueError(
            f"Digest {digest!r} is invalid: {algorithm} needs exactly {expected} lowercase "
            f"hexadecimal digits, got {len(encoded)} characters"
        )


def _check_domain(domain: str, text: str) -> None:
    host, port = domain, ""
    if domain.startswith("["):
        close = domain.find("]")
        if close >= 0 and domain[close + 1 : close + 2] == ":":
            host, port = domain[: close + 1], domain[close + 2 :]
    elif ":" in domain:
        host, _, port = domain.rpartition(":")
    if not _HOST.fullmatch(host):
        raise ValueError(
            f"Registry host {domain!r} is invalid in {text!r}: a host is a domain name or IP "
            "address, optionally with ':port' (e.g. 'registry.example.com:5000')"
        )
    if ":" in domain and not domain.endswith("]") and not (port.isascii() and port.isdigit()):
        raise ValueError(
            f"Registry port {port!r} is invalid in {text!r}: the port must be a number "
            "(e.g. 'localhost:5000/app')"
        )


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    is_domain = sep and (any(c in first for c in ".:") or first == "localhost")
    if not is_domain:
        return DEFAULT_REGISTRY, name
    domain = DEFAULT_REGISTRY if first == "index.docker.io" else first
    return domain, rest


def _check_path(path: str, text: str) -> None:
    if path.lower() != path:
        raise ValueError(f"Image names must be lowercase: {text!r} (try {_lower_name(text)!r})")
    for component in path.split("/"):
        if not component:
            raise ValueError(
                f"Invalid image name {text!r}: it has an empty part ('//' or a '/' at the start "
                f"or end). {_NAME_HELP}"
            )
        if not _PATH_COMPONENT.fullmatch(component):
            raise ValueError(f"Invalid image name {text!r}: bad part {component!r}. {_NAME_HELP}")


def _lower_name(text: str) -> str:
    """``text`` with its repository path lower-cased (tag and digest left alone)."""
    name, at, digest = text.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon:]
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost"):
        name = f"{first}/{rest.lower()}"
    else:
        name = name.lower()
    return name + tag + at + digest


def parse_reference(text: str) -> Reference:
    """Parse an image reference the way the engine does, with docker's familiar defaults.

    ``busybox`` → ``docker.io/library/busybox:latest``; ``localhost:5000/x@sha256:…`` keeps the
    digest and has no tag. Raises ValueError with a message saying what is wrong.
    """
    if not isinstance(text, str):
        raise TypeError(f"an image reference must be a string, not {type(text).__name__}")
    if not text.strip():
        raise ValueError(
            "empty reference: give an image name such as 'busybox' or "
            "'registry.example.com/team/app:1.0'"
        )
    if text.strip() != text:
        raise ValueError(f"Invalid image reference {text!r}: remove the spaces around it")
    if _IMAGE_ID.fullmatch(text):
        raise ValueError(
            f"{text!r} is a 64-character image ID, not a repository name: use it as an ID, "
            "or give a name such as 'busybox:latest'"
        )
    remainder, at, digest = text.partition("@")
    if at:
        if "@" in digest:
            raise ValueError(f"Invalid image reference {text!r}: more than one '@'")
        _check_digest(digest, text)
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    name, tag = remainder, None
    if colon > slash:
        name, tag = remainder[:colon], remainder[colon + 1 :]
        _check_tag(tag, text)
    if not name:
        raise ValueError(
            f"Invalid image reference {text!r}: the image name is missing. {_NAME_HELP}"
        )
    if any(c.isspace() for c in name):
        raise ValueError(f"Invalid image name {text!r}: it contains spaces. {_NAME_HELP}")
    domain, path = _split_domain(name)
    if domain != DEFAULT_REGISTRY:
        _check_domain(domain, text)
    if not path:
        raise ValueError(
            f"Invalid image reference {text!r}: the repository name after the registry host "
            f"is missing. {_NAME_HELP}"
        )
    _check_path(path, text)
    if domain == DEFAULT_REGISTRY and "/" not in path:
        path = _OFFICIAL_PREFIX + path
    full = f"{domain}/{path}"
    if len(full) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError(
            f"Invalid image name {text!r}: the full name {full[:40]}… is {len(full)} characters; "
            f"the limit is {NAME_TOTAL_LENGTH_MAX}"
        )
    if tag is None and not at:
        tag = "latest"
    return Reference(registry=domain, repository=path, tag=tag, digest=digest if at else None)


def normalize_server(url_or_host: str) -> str:
    """The key a registry's credentials are stored under, as the docker CLI computes it.

    Docker Hub in any spelling (``docker.io``, ``index.docker.io``, ``registry-1.docker.io``,
    ``https://index.docker.io/v1/``) → :data:`HUB_SERVER`. Anything else → ``host[:port]`` with
    the scheme and path removed (docker's ``ConvertToHostname``), host lower-cased.
    Raises ValueError for empty input, a scheme other than http/https, user info or a bad port.
    """
    text = url_or_host.strip()
    if not text:
        raise ValueError(
            "empty registry address: give a host such as 'registry.example.com' or "
            "'localhost:5000' (or 'docker.io' for Docker Hub)"
        )
    if any(c.isspace() for c in text):
        raise ValueError(f"Registry address {url_or_host!r} is invalid: it contains spaces")
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise ValueError(
                f"Registry address {url_or_host!r} is invalid: only http:// and https:// "
                "addresses are supported (or give just the host)"
            )
        netloc = urlsplit(text).netloc
    else:
        netloc = text.split("/", 1)[0]
    if "@" in netloc:
        raise ValueError(
            f"Registry address {url_or_host!r} is invalid: put the user name in the "
            "user name field, not in the address"
        )
    if not netloc:
        raise ValueError(f"Registry address {url_or_host!r} is invalid: it has no host name")
    host, port = netloc, ""
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            raise ValueError(f"Registry address {url_or_host!r} is invalid: unclosed '['")
        host, rest = netloc[: close + 1], netloc[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"Registry address {url_or_host!r} is invalid after ']'")
            port = rest[1:]
    elif ":" in netloc:
        host, _, port = netloc.partition(":")
    host = host.lower()
    if not _HOST.fullmatch(host):
        raise ValueError(
            f"Registry address {url_or_host!r} is invalid: {host!r} is not a host name or "
            "IP address"
        )
    valid_port = port.isascii() and port.isdigit() and 0 < int(port) < 65536
    if (port or netloc.endswith(":")) and not valid_port:
        raise ValueError(
            f"Registry address {url_or_host!r} is invalid: the port must be a number "
            "from 1 to 65535"
        )
    if host in _HUB_HOSTS:
        return HUB_SERVER
    return f"{host}:{port}" if port else host


@dataclass(frozen=True)
class AuthConfig:
    """Credentials for one registry, as the engine's ``AuthConfig``.

    Either ``username`` + ``password`` or an ``identitytoken``. The repr never shows secrets.
    """

    username: str = ""
    password: str = ""
    serveraddress: str = ""
    identitytoken: str = ""

    def __repr__(self) -> str:
        password = "'***'" if self.password else "''"
        token = "'***'" if self.identitytoken else "''"
        return (
            f"AuthConfig(username={self.username!r}, password={password}, "
            f"serveraddress={self.serveraddress!r}, identitytoken={token})"
        )

    def to_json(self) -> dict[str, str]:
        """The engine's JSON form; empty fields are left out (Go's ``omitempty``)."""
        fields = {
            "username": self.username,
            "password": self.password,
            "serveraddress": self.serveraddress,
            "identitytoken": self.identitytoken,
        }
        return {key: value for key, value in fields.items() if value}


def _b64url(document: Any) -> str:
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def encode_registry_auth(auth: AuthConfig | None) -> str:
    """The ``X-Registry-Auth`` header value.

    ``None`` (anonymous) encodes an empty object, ``e30=``, as the docker CLI sends: dockerd 20.10
    reads the request body as credentials when a push has no X-Registry-Auth header, and fails.
    """
    return _b64url(auth.to_json() if auth is not None else {})


def decode_registry_auth(header: str) -> AuthConfig:
    """Parse an ``X-Registry-Auth`` value back (padding optional, as docker accepts)."""
    padded = header.strip() + "=" * (-len(header.strip()) % 4)
    try:
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"X-Registry-Auth value is not base64url-encoded JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("X-Registry-Auth value is not a JSON object")
    return AuthConfig(
        username=str(document.get("username") or ""),
        password=str(document.get("password") or ""),
        serveraddress=str(document.get("serveraddress") or ""),
        identitytoken=str(document.get("identitytoken") or ""),
    )


def encode_registry_config(auths: dict[str, AuthConfig]) -> str:
    """The ``X-Registry-Config`` header value for ``POST /build``: credentials per registry.

    Keys are normalised with :func:`normalize_server` (so Hub is :data:`HUB_SERVER`, as the
    engine requires); an entry without ``serveraddress`` gets its key. Two keys naming the same
    registry raise ValueError.
    """
    document: dict[str, dict[str, str]] = {}
    for key, auth in auths.items():
        server = normalize_server(key)
        if server in document:
            raise ValueError(
                f"Registry {key!r} appears twice in the build credentials (as {server!r})"
            )
        entry = auth.to_json()
        entry.setdefault("serveraddress", server)
        document[server] = entry
    return _b64url(document)
