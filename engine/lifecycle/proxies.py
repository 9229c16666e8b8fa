"""HTTP/HTTPS/no-proxy for Portside's own engine: ``<engine folder>/proxies.json`` -> dockerd's env.

dockerd 20.10 takes its proxies only from its environment (``HTTP_PROXY``, ``HTTPS_PROXY``,
``NO_PROXY``; daemon.json's ``proxies`` key came in 23.0), so :class:`NativeEngine` adds
:func:`environment` of this file to the environment it starts dockerd with (rootless too: the
RootlessKit script passes its environment on). Keeping them in the engine folder, not in the
app's settings, means ``portside engine start`` uses the same proxies as the app.

Data flow: Settings > Proxies -> :func:`save` (checked, atomic, 0600, ``.bak``) -> the next
engine start -> :func:`load` -> :func:`environment` -> dockerd. The VM engine keeps its own file
in the VM folder (``<engine folder>/vm/proxies.json``) and hands :func:`for_vm_guest` of it to
the guest's init, which exports it before starting dockerd (engine/vm/plan.py guest_config).

Secrets: a proxy URL with a password is refused by :func:`check` (and so by :func:`save`). It
would sit in plaintext in this file and in dockerd's ``/proc/<pid>/environ``; a proxy that needs
a password is better reached through a local forwarding proxy (cntlm, px) that keeps it.
:func:`redact` is for logs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from engine.errors import LifecycleError
from engine.lifecycle.jsonfiles import write_json_atomic
from engine.lifecycle.paths import EnginePaths

log = logging.getLogger(__name__)

FILE_NAME = "proxies.json"
SCHEMES = ("http", "https", "socks5", "socks5h")


@dataclass(frozen=True)
class Proxies:
    """The engine's proxies; "" means none (dockerd then inherits the environment's, if any)."""

    http: str = ""
    https: str = ""
    no_proxy: str = ""

    def is_empty(self) -> bool:
        return not (self.http or self.https or self.no_proxy)


def path_of(paths: EnginePaths) -> Path:
    return paths.root / FILE_NAME


def check_url(url: str, what: str) -> str:
    """"" when ``url`` is a usable proxy URL (or empty), else what is wrong and what to do."""
    url = url.strip()
    if not url:
        return ""
    if "://" not in url:
        return f"{what}: write the whole URL, e.g. http://{url}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{what}: {exc}"
    if parts.scheme not in SCHEMES:
        return f"{what}: the scheme must be one of {', '.join(SCHEMES)}, not {parts.scheme!r}."
    if not parts.hostname:
        return f"{what}: the URL names no host."
    if any(c in url for c in " \t'\"\\`$"):
        return f"{what}: a proxy URL has no spaces, quotes, backslashes, backquotes or $ in it."
    if parts.password is not None:
        return (
            f"{what}: Portside does not store proxy passwords (dockerd could only get it in "
            "plaintext, in its environment). Leave the password out, or run a local "
            "forwarding proxy that holds it (cntlm, px) and enter that one here."
        )
    if port is not None and not 0 < port < 65536:
        return f"{what}: the port must be between 1 and 65535."
    return ""


def check(proxies: Proxies) -> list[str]:
    """What is wrong with ``proxies`` (empty when they can be saved)."""
    problems = [
        check_url(proxies.http, "HTTP proxy"),
        check_url(proxies.https, "HTTPS proxy"),
    ]
    if any(c.isspace() for c in proxies.no_proxy.strip()) and "," not in proxies.no_proxy:
        problems.append("No proxy for: separate the hosts with commas, e.g. localhost,.corp")
    return [p for p in problems if p]


def load(paths: EnginePaths) -> Proxies:
    """The saved proxies; none when there is no file, or it is unreadable (logged)."""
    path = path_of(paths)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Proxies()
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return Proxies()
    if not isinstance(data, dict):
        log.warning("ignoring %s: not a JSON object", path)
        return Proxies()
    return Proxies(
        **{k: str(data.get(k, "") or "").strip() for k in ("http", "https", "no_proxy")}
    )


def save(paths: EnginePaths, proxies: Proxies) -> Path:
    """Check and write the proxies (atomically, 0600, the old file as ``.bak``)."""
    problems = check(proxies)
    if problems:
        raise LifecycleError(" ".join(problems))
    path = path_of(paths)
    clean = Proxies(proxies.http.strip(), proxies.https.strip(), proxies.no_proxy.strip())
    write_json_atomic(path, asdict(clean), backup=True)
    log.info(
        "engine proxies saved: http=%s https=%s no_proxy=%s",
        redact(clean.http), redact(clean.https), clean.no_proxy,
    )
    return path


def environment(proxies: Proxies) -> dict[str, str]:
    """The variables dockerd reads (both spellings: Go's net/http reads either)."""
    env: dict[str, str] = {}
    for name, value in (
        ("HTTP_PROXY", proxies.http), ("HTTPS_PROXY", proxies.https),
        ("NO_PROXY", proxies.no_proxy),
    ):
        if value:
            env[name] = value
            env[name.lower()] = value
    return env


#: how a QEMU user-network (slirp) guest reaches the host's own 127.0.0.1
VM_HOST_ADDRESS = "10.0.2.2"


def for_vm_guest(proxies: Proxies) -> Proxies:
    """The same proxies as a VM guest must name them: a proxy on the host's loopback
    (localhost, 127.0.0.1, ::1) is reached at the slirp gateway 10.0.2.2 from inside the VM."""

    def move(url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        host = parts.hostname or ""
        if host not in ("localhost", "::1") and not host.startswith("127."):
            return url
        userinfo = parts.netloc.rpartition("@")[0]
        port = f":{parts.port}" if parts.port else ""
        netloc = (f"{userinfo}@" if userinfo else "") + VM_HOST_ADDRESS + port
        return parts._replace(netloc=netloc).geturl()

    return Proxies(move(proxies.http), move(proxies.https), proxies.no_proxy)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``xxxxx`` (for logs and messages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":xxxxx@", 1)
    return parts._replace(netloc=netloc).geturl()
