"""The JSON files of a managed engine: ``daemon.json`` (dockerd's configuration, completed with
the keys a Portside engine needs) and ``state.json`` (the last state its owner recorded). Both are
written atomically (temp file + rename) and private to the user (0600).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.lifecycle import netconf
from engine.lifecycle.paths import EnginePaths


def write_json_atomic(path: Path, data: Mapping[str, Any], *, backup: bool = False) -> None:
    """Write JSON through a temp file + rename; with ``backup``, keep the old file as ``.bak``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # private from the first byte: the state and the engine's configuration are the user's own
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with open(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    if backup and path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    os.replace(tmp, path)


def complete_daemon_config(
    config: dict[str, Any],
    *,
    rootless: bool,
    bridge: str,
    subnet: ipaddress.IPv4Network | None,
    used: list[ipaddress.IPv4Network] | None = None,
) -> dict[str, Any]:
    """``config`` plus the keys a Portside engine needs; the user's own keys are never changed.

    Rootful engines get their own bridge (``bridge``) and its subnet (``fixed-cidr``) unless the
    user set ``bridge`` or ``bip`` themselves. Rootless engines need neither (their bridge lives in
    RootlessKit's namespace).
    """
    out = dict(config)
    if rootless or "bip" in out:
        return out
    out.setdefault("bridge", bridge)
    if out["bridge"] != "none" and "fixed-cidr" not in out:
        out["fixed-cidr"] = str(subnet or netconf.pick_subnet(used or []))
    return out


def read_state(paths: EnginePaths) -> dict[str, Any] | None:
    """The state file's content, or None when missing or unreadable."""
    try:
        data = json.loads(paths.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def subnet_of(config: Mapping[str, Any]) -> ipaddress.IPv4Network | None:
    """The bridge subnet (``fixed-cidr``) of a daemon.json, if it names a valid one."""
    try:
        return ipaddress.IPv4Network(str(config["fixed-cidr"]), strict=False)
    except (KeyError, ValueError):
        return None
