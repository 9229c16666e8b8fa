"""The engines Portside finds by itself: its own, the docker CLI's contexts, ``DOCKER_HOST``.

Reads files and the environment only (no engine is contacted):

- Portside's own engines: the native ``dockerd`` (Linux) and the VM, at the sockets
  :func:`engine.cli_integration.portside_endpoint` computes.
- The docker CLI's contexts through :mod:`engine.docker_contexts` (``contexts/meta``); their TLS
  material from ``contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem``; the current
  context is ``DOCKER_CONTEXT``, else ``currentContext``. The ``default`` context is the system
  socket (the docker CLI's default when ``DOCKER_HOST`` is unset).
- ``DOCKER_HOST`` with ``DOCKER_TLS_VERIFY``/``DOCKER_CERT_PATH``, when set.

A context or ``DOCKER_HOST`` that cannot be read is still listed, with what is wrong in its
description, so the user sees it (its probe then says ``invalid``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from engine.docker_contexts import (
    DEFAULT_CONTEXT,
    DockerContext,
    current_context,
    list_contexts,
    store_dir,
)
from engine.endpoint import DEFAULT_UNIX_HOST, TLSConfig, tls_from_env
from engine.engines.entry import EngineEntry
from engine.errors import PortsideError


def tls_dir(name: str, folder: Path | None = None) -> Path:
    """``contexts/tls/<hash>/docker``: where the docker CLI keeps a context's TLS files."""
    meta = store_dir(folder)
    return meta.parent / "tls" / hashlib.sha256(name.encode("utf-8")).hexdigest() / "docker"


def context_tls(ctx: DockerContext, folder: Path | None = None) -> TLSConfig | None:
    """A context's TLS settings: its files in ``contexts/tls`` and ``SkipTLSVerify``."""
    if not ctx.host.startswith(("tcp://", "https://")):
        return None
    skip = False
    try:
        data = json.loads(ctx.meta_file.read_text(encoding="utf-8"))
        skip = bool(data["Endpoints"]["docker"].get("SkipTLSVerify", False))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    folder_tls = tls_dir(ctx.name, folder)
    files = {n: folder_tls / f"{n}.pem" for n in ("ca", "cert", "key")}
    present = {n: p for n, p in files.items() if p.is_file()}
    if not present and not skip:
        return None
    return TLSConfig(
        ca_cert=present.get("ca"),
        client_cert=present.get("cert"),
        client_key=present.get("key"),
        verify=not skip,
    )


def portside_entries(platform: str = sys.platform) -> list[EngineEntry]:
    """Portside's own engines (native on Linux, and the VM)."""
    from engine.cli_integration import portside_endpoint

    entries = []
    if platform.startswith("linux"):
        entries.append(EngineEntry(
            id="portside-native", name="Portside engine", kind="portside",
            url=portside_endpoint("native"), description="Portside's own dockerd",
        ))
    entries.append(vm_entry(platform))
    return entries


def vm_entry(platform: str = sys.platform) -> EngineEntry:
    """The VM's entry: its unix socket, or 127.0.0.1 with the VM's client certificate in the
    ``tls`` API mode (engine/vm/api.py)."""
    from engine.vm import api
    from engine.vm.layout import VMPaths

    vm = VMPaths.default()
    mode = api.configured_mode(vm, platform)
    return EngineEntry(
        id="portside-vm", name="Portside VM", kind="portside",
        url=api.endpoint_url(vm, mode), tls=api.client_tls(vm) if mode == "tls" else None,
        description="dockerd in Portside's Linux VM",
    )


def context_entries(
    folder: Path | None = None, env: Mapping[str, str] | None = None
) -> list[EngineEntry]:
    """One entry per docker CLI context, ``default`` first; the current one marked."""
    env = os.environ if env is None else env
    try:
        current = current_context(folder, env)
    except PortsideError:
        current = DEFAULT_CONTEXT
    entries = [EngineEntry(
        id=f"context:{DEFAULT_CONTEXT}", name=DEFAULT_CONTEXT, kind="context",
        url=DEFAULT_UNIX_HOST, description="The docker CLI's default: the system engine",
        current=current == DEFAULT_CONTEXT and not env.get("DOCKER_HOST"),
    )]
    for ctx in list_contexts(folder):
        if ctx.name == DEFAULT_CONTEXT:
            continue
        problem = "" if ctx.host else (
            f"The docker context {ctx.name!r} has no docker endpoint ({ctx.meta_file})."
        )
        entries.append(EngineEntry(
            id=f"context:{ctx.name}", name=ctx.name, kind="context", url=ctx.host,
            tls=context_tls(ctx, folder), description=ctx.description,
            current=ctx.name == current, problem=problem,
        ))
    return entries


def env_entry(env: Mapping[str, str] | None = None) -> EngineEntry | None:
    """``DOCKER_HOST`` as an entry (with its TLS settings); None when it is unset."""
    env = os.environ if env is None else env
    host = env.get("DOCKER_HOST", "").strip()
    if not host:
        return None
    tls: TLSConfig | None = None
    problem = ""
    if host.lower().startswith(("tcp://", "https://")):
        try:
            tls = tls_from_env(env)
        except PortsideError as exc:
            problem = str(exc)
    return EngineEntry(
        id="env", name=f"DOCKER_HOST ({host})", kind="env", url=host, tls=tls,
        description="DOCKER_HOST", current=not env.get("DOCKER_CONTEXT", "").strip(),
        problem=problem,
    )
