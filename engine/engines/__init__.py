"""Several engines: the list Portside shows, how to reach each, and how to keep them.

Modules, one concern each::

    entry.py          EngineEntry / EngineProbe (plain data)
    sources.py        Portside's own engines, docker CLI contexts (+ contexts/tls), DOCKER_HOST
    store.py          engines the user added: <config dir>/engines.json + TLS file copies (0600)
    tls_errors.py     a TLS failure in words: unknown CA, expired, wrong host name, client cert
    ssh_transport.py  ssh://: one `ssh … docker system dial-stdio` process per HTTP connection
    probe.py          client_for(entry) -> EngineClient; probe(entry) -> EngineProbe
    export.py         write an entry as a docker CLI context
    raw_socket.py     unix/tcp/TLS/ssh sockets for the raw readers (stats_monitor, rawget)
    failures.py       TLSRefused / SSHRefused: EngineUnreachable whose message is the reason

``list_engines()`` reads files and the environment only; ``probe`` is the one that talks to an
engine. Nothing here imports Qt: the switcher (``app/engines``) calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine.engines.entry import EngineEntry, EngineProbe
from engine.engines.export import export_context
from engine.engines.probe import client_for, probe
from engine.engines.sources import context_entries, env_entry, portside_entries
from engine.engines.store import (
    EnginesFileError,
    add_engine,
    remove_engine,
    update_engine,
    user_entries,
)

__all__ = [
    "EngineEntry",
    "EngineProbe",
    "EnginesFileError",
    "add_engine",
    "client_for",
    "export_context",
    "find_engine",
    "list_engines",
    "probe",
    "remove_engine",
    "update_engine",
]


def list_engines(
    docker_config: Path | None = None, env: Mapping[str, str] | None = None
) -> list[EngineEntry]:
    """Portside's own engines, DOCKER_HOST, the docker CLI's contexts, then the user's own."""
    entries = portside_entries()
    from_env = env_entry(env)
    if from_env is not None:
        entries.append(from_env)
    entries += context_entries(docker_config, env)
    entries += user_entries()
    return entries


def find_engine(
    entry_id: str, docker_config: Path | None = None, env: Mapping[str, str] | None = None
) -> EngineEntry | None:
    """The entry with ``entry_id`` (e.g. the one remembered in settings), None when gone."""
    for entry in list_engines(docker_config, env):
        if entry.id == entry_id:
            return entry
    return None
