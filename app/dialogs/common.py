"""Small pure helpers shared by the Images/Volumes/Networks/Disk views and their dialogs."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from engine.errors import AuthRequired, EngineAPIError, StreamError

_AUTH_NEEDLES = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "denied: requested access",
    "access to the resource is denied",
    "requested access to the resource is denied",
)


def human_size(n: int | float | None) -> str:
    """Decimal units, as the docker CLI prints them (``1.2 MB``)."""
    if n is None or n < 0:
        return "—"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    return f"{value:.1f} PB"  # pragma: no cover - loop always returns


def human_age(created: int | float | None, now: float | None = None) -> str:
    """``5 minutes ago`` style age from a Unix timestamp."""
    if not created:
        return "—"
    delta = max(0.0, (now if now is not None else time.time()) - float(created))
    for seconds, unit in (
        (86400 * 365, "year"),
        (86400 * 30, "month"),
        (86400 * 7, "week"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if delta >= seconds:
            count = int(delta // seconds)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def short_id(image_or_container_id: str) -> str:
    return image_or_container_id.removeprefix("sha256:")[:12]


def is_auth_error(exc: BaseException) -> bool:
    """True when the engine/registry refused an operation for lack of (valid) credentials."""
    if isinstance(exc, AuthRequired):
        return True
    if isinstance(exc, EngineAPIError | StreamError):
        text = str(exc).lower()
        return any(n in text for n in _AUTH_NEEDLES)
    return False


def registry_host(reference: str) -> str:
    """The registry a reference lives on, as the sign-in dialog wants it (``docker.io`` for Hub)."""
    from engine.registry import parse_reference

    return parse_reference(reference).registry


def validate_reference(text: str) -> str:
    """Validate an image reference before it goes to the engine; returns the canonical form.

    Raises ValueError with a message saying what a valid reference looks like.
    """
    from engine.registry import parse_reference

    ref_text = text.strip()
    if not ref_text:
        raise ValueError(
            "Type an image reference, e.g. busybox, nginx:1.27 or ghcr.io/org/app:tag."
        )
    try:
        ref = parse_reference(ref_text)
    except ValueError as exc:
        raise ValueError(
            f"“{ref_text}” is not a valid image reference: {exc}. "
            "Examples: busybox, nginx:1.27, localhost:5000/team/app:v2."
        ) from None
    return str(ref)


def validate_tag_target(text: str) -> tuple[str, str | None]:
    """Split ``repo[:tag]`` for ``POST /images/{id}/tag``; digests are not allowed in a tag."""
    from engine.registry import parse_reference

    target = text.strip()
    if not target:
        raise ValueError("Type the new name, e.g. myrepo/app:1.0.")
    if "@" in target:
        raise ValueError("A tag can't contain a digest (@sha256:…); write repository:tag.")
    try:
        parse_reference(target)
    except ValueError as exc:
        raise ValueError(f"“{target}” is not a valid image name: {exc}.") from None
    slash = target.rfind("/")
    colon = target.rfind(":")
    if colon > slash:
        return target[:colon], target[colon + 1 :]
    return target, None


def validate_subnet(text: str) -> str | None:
    """Validate a network subnet in CIDR form; '' means let the engine choose."""
    spec = text.strip()
    if not spec:
        return None
    if "/" not in spec:
        raise ValueError(f"“{spec}” needs a prefix length, e.g. {spec}/24.")
    try:
        net = ipaddress.ip_network(spec, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            try:
                fixed = ipaddress.ip_network(spec, strict=False)
            except ValueError:
                fixed = None
            hint = f" — did you mean {fixed}?" if fixed else ""
            raise ValueError(f"“{spec}” has host bits set{hint}") from None
        raise ValueError(f"“{spec}” is not a valid subnet (CIDR like 172.30.0.0/16).") from None
    return str(net)


def validate_gateway(text: str, subnet: str | None) -> str | None:
    spec = text.strip()
    if not spec:
        return None
    if subnet is None:
        raise ValueError("A gateway needs a subnet; fill in the subnet too.")
    try:
        addr = ipaddress.ip_address(spec)
    except ValueError:
        raise ValueError(f"“{spec}” is not an IP address.") from None
    net = ipaddress.ip_network(subnet)
    if addr not in net:
        raise ValueError(f"The gateway {spec} is not inside the subnet {subnet}.")
    return str(addr)


def validate_resource_name(text: str, what: str) -> str:
    """Volume/network names as the engine accepts them: [a-zA-Z0-9][a-zA-Z0-9_.-]+."""
    import re

    name = text.strip()
    if not name:
        return ""
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", name):
        raise ValueError(
            f"“{name}” is not a valid {what} name: use letters, digits, _ . -, at least two "
            "characters, starting with a letter or digit."
        )
    return name


def raw_get(obj: Any, *keys: str, default: Any = None) -> Any:
    """Nested get over an object's ``raw`` dict (or a dict), tolerant of missing levels."""
    cur: Any = getattr(obj, "raw", obj)
    for key in keys:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(key)
        if cur is None:
            return default
    return cur
