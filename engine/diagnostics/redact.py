"""The one redaction step every member of a diagnostics bundle passes through.

Pure functions, no I/O. :func:`redact_member` is what the bundle writer calls for each member:
a ``.json`` member that parses is redacted by structure (:func:`redact_json`: the value of every
secret-looking key becomes ``<redacted>``, every other string goes through the text rules) and
written back as indented JSON; anything else goes through :func:`redact_text`.

The text rules, applied in this order:

1. PEM private keys (``-----BEGIN … PRIVATE KEY----- … -----END … PRIVATE KEY-----``).
2. Credentials in URLs: ``scheme://user:password@host`` -> ``scheme://<redacted>@host`` (proxy
   settings, ``DOCKER_HOST``, registry mirrors; a bare ``token@host`` too).
3. Header values: ``Authorization``, ``Proxy-Authorization``, ``X-Registry-Auth``,
   ``X-Registry-Config`` — in ``Name: value``, ``"Name": "value"`` and Go's ``map[Name:[value]]``
   shapes, with the scheme word (``Bearer``/``Basic``) kept.
4. ``key=value`` / ``key: value`` / ``"key": "value"`` where the key names a secret (password,
   token, secret, auth, identitytoken, registrytoken, apikey, credentials…).
5. Base64 blobs that decode to ``user:password`` or to text a rule above would redact (a docker
   ``auths`` entry, an ``X-Registry-Auth`` JSON, a JWT's parts).

Redacting is idempotent: ``<redacted>`` itself is never changed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

REDACTED = "<redacted>"

#: Keys whose value is a secret, compared lower-case with ``-`` and ``_`` removed.
SECRET_KEYS = frozenset(
    {
        "auth",
        "password",
        "passwd",
        "pass",
        "token",
        "secret",
        "identitytoken",
        "registrytoken",
        "accesstoken",
        "refreshtoken",
        "apikey",
        "privatekey",
        "credentials",
        "authorization",
        "proxyauthorization",
        "xregistryauth",
        "xregistryconfig",
        "clientsecret",
    }
)
#: A key containing one of these is a secret too (``http_password``, ``registry_token``…).
SECRET_PARTS = ("password", "passwd", "secret", "token", "apikey", "privatekey")


def is_secret_key(key: str) -> bool:
    """Whether ``key`` names a secret (``Auth``, ``identitytoken``, ``proxy_password``…)."""
    norm = re.sub(r"[-_.\s]", "", key.lower())
    return (
        norm in SECRET_KEYS
        or norm.endswith("auth")  # DOCKER_AUTH, X-Registry-Auth (not "author", "authority")
        or any(part in norm for part in SECRET_PARTS)
    )


_PEM = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# userinfo: anything up to '@' that has no '/', whitespace, '@' or quote; the scheme keeps
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s@\"'<>]+)@")
_HEADER = re.compile(
    r"(?i)\b(proxy-authorization|authorization|x-registry-auth|x-registry-config)\b"
    r"([\"']?\s*[:=]\s*[\[\"']*\s*)"
    r"(?!(?:(?:bearer|basic|token|negotiate|digest)\s+)?<redacted>)"
    r"(?:(bearer|basic|token|negotiate|digest)\s+)?"
    r"([^\s\"',\[\]}]+)"
)
#: rule 3 redacts these keeping the scheme word; rule 4 leaves them alone
_HEADER_NAMES = ("authorization", "proxy-authorization", "x-registry-auth", "x-registry-config")
_SECRET_WORDS = r"(?:password|passwd|secret|token|auth|apikey|api_key|credentials|privatekey)"
_KEY_VALUE = re.compile(
    r"(?i)(?<![\w-])([\w.-]*" + _SECRET_WORDS + r"[\w.-]*)"
    r"([\"']?\s*[:=]\s*[\"']?)"
    r"(?!<redacted>)([^\s\"',}&;]+)"
)
# a base64 (or base64url) run long enough to hold "a:bc"
# The first character of base64 over printable ASCII is one of I-Z, a-f (byte >> 2 is 8..31):
# that skips most words and hex ids of a log without decoding them.
_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/_\-])([I-Za-f][A-Za-z0-9+/_\-]{5,}={0,2})(?![A-Za-z0-9+/_\-=])"
)
_USER_PASS = re.compile(r"^[^\s:]{1,256}:\S+$")


def _decode_base64(blob: str) -> str | None:
    """``blob`` decoded as (url-safe) base64 to printable text, or None."""
    core = blob.rstrip("=")
    if len(core) % 4 == 1:
        return None
    padded = core + "=" * (-len(core) % 4)
    alphabet = b"-_" if ("-" in core or "_" in core) else b"+/"
    try:
        raw = base64.b64decode(padded.encode(), altchars=alphabet, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or not text.isprintable():
        return None
    return text


def _secret_base64(match: re.Match[str]) -> str:
    blob = match.group(1)
    text = _decode_base64(blob)
    if text is None:
        return blob
    if _USER_PASS.match(text) or _text_rules(text) != text:
        return REDACTED
    return blob


#: a line without one of these (lower-cased) cannot match the key=value rule
_SECRET_HINTS = ("password", "passwd", "secret", "token", "auth", "apikey", "api_key",
                 "credentials", "privatekey")


def _line_rules(line: str) -> str:
    """Rules 2-4 on one line; each runs only when the line holds a word it needs (speed)."""
    low = line.lower()
    if "@" in line and "://" in line:
        line = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", line)
    if "authorization" in low or "x-registry-" in low:
        line = _HEADER.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) + ' ' if m.group(3) else ''}"
            f"{REDACTED}",
            line,
        )
    if any(hint in low for hint in _SECRET_HINTS):
        line = _KEY_VALUE.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}"
            if is_secret_key(m.group(1)) and m.group(1).lower() not in _HEADER_NAMES
            else m.group(0),
            line,
        )
    return line


def _text_rules(text: str) -> str:
    if "PRIVATE KEY-----" in text:
        text = _PEM.sub(
            lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----\n{REDACTED}\n"
            f"-----END {m.group(1)}PRIVATE KEY-----",
            text,
        )
    return "\n".join(_line_rules(line) for line in text.split("\n"))


def redact_text(text: str) -> str:
    """``text`` with every secret the rules recognise replaced by ``<redacted>``."""
    text = _text_rules(text)
    return _BASE64.sub(_secret_base64, text)


def redact_json(value: Any) -> Any:
    """A copy of a parsed JSON value with secret keys' values and secrets in strings redacted."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if is_secret_key(str(key)) and item not in (None, "", {}, []):
                out[key] = REDACTED if not isinstance(item, dict | list) else _all_redacted(item)
            else:
                out[key] = redact_json(item)
        return out
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _all_redacted(value: Any) -> Any:
    """Keep a secret container's shape (keys), never its values."""
    if isinstance(value, dict):
        return {key: _all_redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_all_redacted(item) for item in value]
    return REDACTED


def redact_member(name: str, data: bytes | str) -> bytes:
    """The bytes that go into the bundle for member ``name`` (the one redaction step)."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if name.endswith(".json"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        else:
            return (json.dumps(redact_json(parsed), indent=2, ensure_ascii=False) + "\n").encode()
    return redact_text(text).encode("utf-8")
