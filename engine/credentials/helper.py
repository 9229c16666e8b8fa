"""``docker-credential-portside``: the docker credential-helper protocol over the OS keyring.

Protocol (github.com/docker/docker-credential-helpers, ``credentials/credentials.go``)::

    docker-credential-portside store    stdin {"ServerURL","Username","Secret"}  → no output
    docker-credential-portside get      stdin <server URL>                       → stdout JSON
    docker-credential-portside erase    stdin <server URL>                       → no output
    docker-credential-portside list     stdin ignored                            → {url: user}
    docker-credential-portside version | -v | --version                          → name (pkg) ver
    docker-credential-portside -h | --help                                       → usage, exit 0

Every error goes to **stdout** with exit status 1 (the CLI reads stdout); a miss is exactly
``credentials not found in native keychain``. Identity tokens arrive as ``Username "<token>"``
and are stored and returned unchanged, which is the CLI's own round trip.

Where things are: secrets in the OS keyring (:mod:`engine.credentials.backends`; on Linux the
Secret Service, item format in :mod:`engine.credentials.secretservice`); the non-secret
``{server URL: username}`` index for ``list`` in :mod:`engine.credentials.index`. ``store``,
``erase`` and ``list`` go through :mod:`engine.credentials.logins` (one lock per user around
keyring writes; the keyring is the truth for ``list``). Servers are keyed by
:func:`engine.credentials.servers.server_key`, so ``https://host:5000`` and ``host:5000`` are the
same login; ``list`` returns the URL exactly as it was stored, as the reference helpers do.

Speed: the CLI runs this on every pull and push. This module and everything ``get`` imports use
only built-in modules (no ``json``, ``typing``, ``keyring`` or Qt); the fast launcher that
:mod:`engine.credentials.install` puts on PATH runs ``python -I -S`` so site-packages are not
even scanned. Never import heavy modules at the top of this file.
"""

from __future__ import annotations

import sys

NAME = "docker-credential-portside"
PACKAGE = "portside"
NOT_FOUND = "credentials not found in native keychain"
MISSING_URL = "no credentials server URL"
MISSING_USERNAME = "no credentials username"
USAGE = f"Usage: {NAME} <store|get|erase|list|version>"


class ProtocolError(Exception):
    """A request the protocol rejects; its message is printed verbatim."""


def _version() -> str:
    from engine import __version__

    return f"{NAME} ({PACKAGE}) {__version__}\n"


def _json_str(text: str) -> str:
    from _json import encode_basestring_ascii

    result: str = encode_basestring_ascii(text)
    return result


def _join_lines(stdin: bytes) -> str:
    """Like the Go helpers' ``bufio.Scanner`` loop: lines joined without their line feeds (and
    a carriage return before one). Only those bytes split: ``str.splitlines`` would also drop
    U+0085, U+2028 and U+2029, which are valid raw inside a JSON string (Go's encoder sends
    U+0085 raw)."""
    lines = stdin.split(b"\n")
    joined = b"".join(line[:-1] if line.endswith(b"\r") else line for line in lines)
    return joined.decode("utf-8", "replace")  # invalid UTF-8 → U+FFFD, as Go's decoder does


def _no_surrogates(text: str) -> str:
    """A lone ``\\ud800`` escape decodes to a surrogate the keyring cannot take: U+FFFD, as Go."""
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def _read_url(stdin: bytes) -> str:
    # Like the Go scanner loop: lines joined without their newlines, then TrimSpace.
    url = _join_lines(stdin).strip()
    if not url:
        raise ProtocolError(MISSING_URL)
    return url


def _key(url: str) -> str:
    from engine.credentials.servers import server_key

    try:
        return server_key(url)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from exc


def do_get(stdin: bytes) -> str:
    """``get``: the stored login for the URL on stdin, as the protocol's JSON line."""
    from engine.credentials.backends import open_backend

    url = _read_url(stdin)
    found = open_backend().get(_key(url))
    if found is None:
        raise ProtocolError(NOT_FOUND)
    username, secret = found
    return (f'{{"ServerURL":{_json_str(url)},"Username":{_json_str(username)},'
            f'"Secret":{_json_str(secret)}}}\n')


def do_store(stdin: bytes) -> str:
    """``store``: keep the JSON credentials from stdin in the keyring and the index."""
    import json

    from engine.credentials.logins import store_login

    text = _join_lines(stdin)
    try:
        creds, _end = json.JSONDecoder().raw_decode(text.lstrip())
    except ValueError as exc:
        raise ProtocolError(
            f"stdin is not the JSON object {{\"ServerURL\",\"Username\",\"Secret\"}}: {exc}"
        ) from exc
    if not isinstance(creds, dict):
        raise ProtocolError('stdin is not the JSON object {"ServerURL","Username","Secret"}')
    url, username, secret = (creds.get(k) or "" for k in ("ServerURL", "Username", "Secret"))
    if not all(isinstance(v, str) for v in (url, username, secret)):
        raise ProtocolError("ServerURL, Username and Secret must be JSON strings")
    url, username, secret = (_no_surrogates(v) for v in (url, username, secret))
    if not url.strip():
        raise ProtocolError(MISSING_URL)
    if not username:
        raise ProtocolError(MISSING_USERNAME)
    _key(url)  # a protocol error for a malformed URL, before anything is written
    store_login(url.strip(), username, secret)
    return ""


def do_erase(stdin: bytes) -> str:
    """``erase``: forget the login for the URL on stdin (a miss is the not-found error)."""
    from engine.credentials.logins import erase_login

    url = _read_url(stdin)
    _key(url)
    if not erase_login(url):
        raise ProtocolError(NOT_FOUND)
    return ""


def do_list() -> str:
    """``list``: ``{server: username}`` for every stored login."""
    from engine.credentials.logins import list_logins

    servers = list_logins()
    body = ",".join(f"{_json_str(k)}:{_json_str(v)}" for k, v in sorted(servers.items()))
    return "{" + body + "}\n"


def run(argv: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    """Run one helper invocation; returns ``(exit status, stdout text)``. No I/O on argv errors.

    ``stdin`` is read lazily from the real stdin when ``None`` and the verb needs it.
    """
    if len(argv) != 2:
        return 1, USAGE + "\n"
    verb = argv[1]
    if verb in ("-v", "--version"):
        return 0, _version()
    if verb in ("-h", "--help"):
        return 0, USAGE + "\n"
    if verb not in ("store", "get", "erase", "list", "version"):
        return 1, f"{NAME}: unknown action: {verb}\n"
    if verb == "version":
        return 0, _version()
    from engine.errors import PortsideError

    try:
        if verb == "list":
            return 0, do_list()
        data = sys.stdin.buffer.read() if stdin is None else stdin
        handler = {"get": do_get, "store": do_store, "erase": do_erase}[verb]
        return 0, handler(data)
    except (ProtocolError, PortsideError) as exc:
        return 1, f"{exc}\n"
    except OSError as exc:
        return 1, f"{NAME}: {exc}\n"


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    status, out = run(list(sys.argv) if argv is None else argv)
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
