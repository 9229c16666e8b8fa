"""Networking a rootful engine needs: its own bridge name and a /24 nobody else uses.

Several engines can run on one machine at once (one per data root), so each gets a bridge named
after its data root and a subnet picked among those no interface or route already covers. The
picking is pure; reading the host's addresses and creating the bridge call ``ip``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from engine.errors import LifecycleError

#: Subnets are picked from here: 2048 /24s, away from Docker's own default pools (172.17/16 ...).
POOL = ipaddress.IPv4Network("10.200.0.0/13")
IFNAMSIZ = 15


def bridge_name_for(data_root: Path) -> str:
    """``pst`` + 8 hex digits of the data root's hash: stable per engine, unique per data root."""
    return "pst" + hashlib.sha256(os.fsencode(data_root)).hexdigest()[:8]


def pick_subnet(
    used: Iterable[ipaddress.IPv4Network],
    *,
    pool: ipaddress.IPv4Network = POOL,
    rng: random.Random | None = None,
) -> ipaddress.IPv4Network:
    """A random /24 of ``pool`` overlapping none of ``used``.

    Random rather than first-free so that two engines starting at the same moment rarely pick the
    same one.
    """
    taken = list(used)
    free = [net for net in pool.subnets(new_prefix=24) if not any(net.overlaps(u) for u in taken)]
    if not free:
        raise LifecycleError(
            f'No free /24 left in {pool} for the engine\'s bridge. Set "fixed-cidr" (and '
            '"bridge") in the engine\'s daemon.json to a subnet of your choice.'
        )
    return (rng or random.SystemRandom()).choice(free)


def _ip() -> str:
    found = shutil.which("ip") or next(
        (p for p in ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip") if os.path.exists(p)), None
    )
    if not found:
        raise LifecycleError(
            "The `ip` command is missing; Portside needs it to set up the engine's bridge. "
            "Install it with `sudo apt-get install iproute2` (Fedora: `sudo dnf install iproute`)."
        )
    return found


def _run_ip(*args: str) -> str:
    result = subprocess.run([_ip(), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LifecycleError(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def used_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network an interface address or a route on this host covers."""
    nets: list[ipaddress.IPv4Network] = []
    for entry in json.loads(_run_ip("-j", "-4", "addr") or "[]"):
        for addr in entry.get("addr_info", []):
            if addr.get("family") == "inet":
                cidr = f"{addr['local']}/{addr.get('prefixlen', 32)}"
                nets.append(ipaddress.IPv4Network(cidr, strict=False))
    for route in json.loads(_run_ip("-j", "-4", "route") or "[]"):
        dst = route.get("dst", "default")
        if dst != "default":
            nets.append(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False))
    return nets


def bridge_exists(name: str) -> bool:
    """Whether a link with that name exists."""
    return Path("/sys/class/net", name).exists()


def ensure_bridge(name: str, subnet: ipaddress.IPv4Network) -> None:
    """Create bridge ``name`` with the subnet's first address, and bring it up (root only)."""
    gateway = f"{next(subnet.hosts())}/{subnet.prefixlen}"
    if not bridge_exists(name):
        # one `ip` process for the usual case (start-up time counts)
        script = f"link add {name} type bridge\naddr add {gateway} dev {name}\nlink set {name} up\n"
        result = subprocess.run(
            [_ip(), "-batch", "-"], input=script, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LifecycleError(f"Creating bridge {name} failed: {result.stderr.strip()}")
        return
    addrs = json.loads(_run_ip("-j", "-4", "addr", "show", "dev", name) or "[]")
    have = {
        f"{a['local']}/{a['prefixlen']}"
        for entry in addrs
        for a in entry.get("addr_info", [])
        if a.get("family") == "inet"
    }
    if gateway not in have:
        _run_ip("addr", "add", gateway, "dev", name)
    _run_ip("link", "set", name, "up")


def delete_bridge(name: str) -> None:
    """Remove the bridge if it exists."""
    if bridge_exists(name):
        _run_ip("link", "del", name)
