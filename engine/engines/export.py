"""Write an engine as a docker CLI context, so ``docker --context NAME`` reaches it too.

``meta.json`` goes through :func:`engine.docker_contexts.write_context` (the CLI's own format);
TLS files are copied to ``contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem`` the way
``docker context create --docker host=…,ca=…,cert=…,key=…`` stores them (key 0600, folders 0700).
An existing context of that name is replaced only with ``replace=True``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from engine.credentials.paths import atomic_write
from engine.docker_contexts import DEFAULT_CONTEXT, find_context, write_context
from engine.endpoint import TLSConfig
from engine.engines.entry import EngineEntry
from engine.engines.sources import tls_dir
from engine.errors import InvalidEndpoint

# The docker CLI's rule for context names (cli/context/store: restrictedNamePattern).
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$")


def export_context(
    entry: EngineEntry,
    context_name: str,
    *,
    folder: Path | None = None,
    replace: bool = False,
) -> Path:
    """Create docker context ``context_name`` for ``entry``; returns its ``meta.json``.

    Raises:
        InvalidEndpoint: a bad name, a name already taken (without ``replace``), or an entry
            whose url does not parse.
        OSError: the docker config folder cannot be written.
    """
    if context_name == DEFAULT_CONTEXT or not _NAME.match(context_name):
        raise InvalidEndpoint(
            f"{context_name!r} cannot be a docker context name: use letters, digits and "
            "_.+- (starting with a letter or digit, at least 2 characters), not 'default'."
        )
    if not replace and find_context(context_name, folder) is not None:
        raise InvalidEndpoint(
            f"A docker context named {context_name!r} exists already: pick another name or "
            "replace it."
        )
    endpoint = entry.endpoint()
    url = endpoint.url
    description = f"Exported from Portside ({entry.name})"
    return write_with_tls(context_name, url, description, endpoint.tls_config, folder)


def write_with_tls(
    context_name: str, url: str, description: str, tls: TLSConfig | None,
    folder: Path | None = None,
) -> Path:
    """Write context ``context_name`` with ``tls``'s files in its TLS folder (old ones removed)."""
    tls_target = tls_dir(context_name, folder)
    shutil.rmtree(tls_target.parent, ignore_errors=True)
    meta = write_context(context_name, url, description, folder)
    if tls is not None:
        tls_target.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(tls_target.parent, 0o700)
        for src, name, mode in ((tls.ca_cert, "ca.pem", 0o644),
                                (tls.client_cert, "cert.pem", 0o644),
                                (tls.client_key, "key.pem", 0o600)):
            if src is not None:
                atomic_write(str(tls_target / name), Path(src).read_bytes(), mode=mode)
        if not tls.verify:
            data = json.loads(meta.read_text(encoding="utf-8"))
            data["Endpoints"]["docker"]["SkipTLSVerify"] = True
            atomic_write(str(meta), json.dumps(data, separators=(",", ":")).encode(), mode=0o644)
    return meta
