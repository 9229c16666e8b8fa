"""The docker CLI's context store, read and written in the CLI's own format.

The docker CLI keeps one folder per context under ``$DOCKER_CONFIG/contexts/meta/`` (default
``~/.docker``), named by the SHA-256 of the context's name, holding ``meta.json``::

    {"Name": "portside",
     "Metadata": {"Description": "Portside's engine"},
     "Endpoints": {"docker": {"Host": "unix:///run/user/1000/portside/docker.sock",
                              "SkipTLSVerify": false}}}

TLS material, when a context has any, lives under ``contexts/tls/<same hash>/`` (Portside's
endpoint is a local socket and needs none). The current context is ``currentContext`` in
``config.json``; ``DOCKER_CONTEXT`` overrides it for one shell; ``default`` (no entry) means
``DOCKER_HOST`` or the default socket.

Pure file reads and one atomic write (:func:`write_context`); ``config.json`` itself is edited by
:mod:`engine.credentials.dockerconfig` (backup, unknown keys kept), never here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.credentials.dockerconfig import config_path, docker_config_dir, read_config
from engine.credentials.paths import atomic_write

#: The context that means "no context": DOCKER_HOST or the default socket.
DEFAULT_CONTEXT = "default"


@dataclass(frozen=True)
class DockerContext:
    """One context of the store.

    Attributes:
        name: the context's name (``docker --context NAME``).
        host: its docker endpoint (``unix://…``, ``tcp://…``, ``ssh://…``), "" when it has none.
        description: its ``Metadata.Description``.
        meta_file: the ``meta.json`` it was read from.
    """

    name: str
    host: str
    description: str
    meta_file: Path


def store_dir(folder: Path | None = None) -> Path:
    """``<docker config>/contexts/meta``."""
    return (folder if folder is not None else docker_config_dir()) / "contexts" / "meta"


def context_dir(name: str, folder: Path | None = None) -> Path:
    """The folder of context ``name``: its name's SHA-256 in hex, as the docker CLI names it."""
    return store_dir(folder) / hashlib.sha256(name.encode("utf-8")).hexdigest()


def parse_meta(data: object, meta_file: Path) -> DockerContext | None:
    """A :class:`DockerContext` from a parsed ``meta.json``, None when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("Name"), str):
        return None
    endpoints = data.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else ""
    meta = data.get("Metadata")
    description = meta.get("Description") if isinstance(meta, dict) else ""
    return DockerContext(
        name=data["Name"],
        host=host if isinstance(host, str) else "",
        description=description if isinstance(description, str) else "",
        meta_file=meta_file,
    )


def read_context(meta_file: Path) -> DockerContext | None:
    """One ``meta.json``; None when it is missing or not a context (the CLI skips those too)."""
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return parse_meta(data, meta_file)


def list_contexts(folder: Path | None = None) -> list[DockerContext]:
    """Every readable context in the store, by name."""
    root = store_dir(folder)
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    found = [read_context(entry / "meta.json") for entry in entries]
    return sorted((c for c in found if c is not None), key=lambda c: c.name)


def find_context(name: str, folder: Path | None = None) -> DockerContext | None:
    """Context ``name``, or None."""
    return read_context(context_dir(name, folder) / "meta.json")


def current_context(folder: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """The context the docker CLI uses: ``DOCKER_CONTEXT``, else ``currentContext``, else default.

    Raises:
        DockerConfigError: ``config.json`` is corrupt (the CLI itself would fail too).
    """
    env = os.environ if env is None else env
    if env.get("DOCKER_CONTEXT", "").strip():
        return env["DOCKER_CONTEXT"].strip()
    return configured_context(folder)


def configured_context(folder: Path | None = None) -> str:
    """``currentContext`` from ``config.json`` alone (what ``docker context use`` sets)."""
    data = read_config(config_path(folder))
    value = data.get("currentContext")
    return value if isinstance(value, str) and value else DEFAULT_CONTEXT


def meta_document(name: str, host: str, description: str) -> dict[str, Any]:
    """``meta.json`` as the docker CLI writes it for ``docker context create --docker host=…``."""
    return {
        "Name": name,
        "Metadata": {"Description": description},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
    }


def write_context(name: str, host: str, description: str, folder: Path | None = None) -> Path:
    """Create or replace context ``name`` (atomically); the ``meta.json`` written.

    Raises:
        OSError: the store folder cannot be written (the caller says what to do).
    """
    meta_file = context_dir(name, folder) / "meta.json"
    body = json.dumps(meta_document(name, host, description), separators=(",", ":"))
    meta_file.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    atomic_write(str(meta_file), body.encode("utf-8"), mode=0o644)
    return meta_file
