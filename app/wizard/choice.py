"""Which engine the first-run wizard sets up, remembered in the settings; no Qt here.

    engine page ─► EngineChoice ─► apply_choice(settings) ─► settings.json
                            └──► make_engine(choice) ─► (Engine, attached) ─► ctx.use_engine

``native`` is Portside's own ``dockerd`` (``NativeEngine``), ``vm`` the Linux VM (``VMEngine``)
and ``existing`` an engine someone else runs, attached to exactly as ``portside --host URL``
does (``ExternalEngine``); the next launch attaches to it again: its URL is kept as
``engine_host`` in settings.json (one of the keys ``Settings`` keeps as they are, in ``extra``),
used after ``--host`` and ``DOCKER_HOST`` (:func:`attach_host`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.lifecycle.base import Engine

KINDS = ("native", "vm", "existing")
HOST_KEY = "engine_host"


@dataclass(frozen=True)
class EngineChoice:
    """One engine the user can pick: ``kind`` plus, for an existing engine, its endpoint."""

    kind: str
    host: str = ""

    def describe(self) -> str:
        if self.kind == "native":
            return "Portside's own engine"
        if self.kind == "vm":
            return "Portside's Linux VM"
        return f"the existing engine at {self.host}"


def current_choice(settings: Any, platform: str = sys.platform) -> EngineChoice:
    """What the settings say now (``auto`` resolved for this OS)."""
    from engine.vm.choice import engine_kind

    host = saved_host(settings)
    if host:
        return EngineChoice("existing", host)
    kind, _note = engine_kind(settings.engine, platform)
    return EngineChoice(kind)


def apply_choice(settings: Any, choice: EngineChoice) -> None:
    """Remember ``choice`` in ``settings`` (the caller saves)."""
    if getattr(settings, "engine_id", ""):
        # the engines switcher's remembered engine (app/engines) wins at launch; the choice made
        # in this guide is the newer one, so it is forgotten
        settings.engine_id = ""
    if choice.kind == "existing":
        settings.extra[HOST_KEY] = choice.host
        return
    settings.extra.pop(HOST_KEY, None)
    settings.engine = choice.kind


def saved_host(settings: Any) -> str:
    """The existing engine the wizard attached to, or ""."""
    value = getattr(settings, "extra", {}).get(HOST_KEY, "")
    return value if isinstance(value, str) else ""


def attach_host(explicit: str | None, settings: Any,
                env: Mapping[str, str] | None = None) -> str | None:
    """What to attach to at launch: ``--host``, else ``DOCKER_HOST`` (None: ExternalEngine reads
    it), else the wizard's saved choice, else None (Portside's own engine)."""
    env = os.environ if env is None else env
    if explicit:
        return explicit
    if env.get("DOCKER_HOST"):
        return None
    return saved_host(settings) or None


EngineFactory = Callable[[EngineChoice], tuple[Engine, bool]]


def make_engine(choice: EngineChoice) -> tuple[Engine, bool]:
    """(engine, attached) for ``choice``, built the way ``app.gui.choose_engine`` builds it."""
    if choice.kind == "existing":
        from engine.lifecycle import ExternalEngine

        return ExternalEngine(choice.host), True
    if choice.kind == "vm":
        from engine.vm.engine import VMEngine

        return VMEngine(), False
    from engine.lifecycle import EnginePaths, NativeEngine

    return NativeEngine(EnginePaths.default()), False


def same_engine(engine: Engine, attached: bool, choice: EngineChoice) -> bool:
    """Does the running ``engine`` already serve ``choice`` (no switch needed)?"""
    if choice.kind == "existing":
        return attached and engine.endpoint == _normal(choice.host)
    if attached:
        return False
    is_vm = engine.name == "Portside VM"
    return is_vm == (choice.kind == "vm")


def _normal(host: str) -> str:
    from engine.endpoint import resolve_endpoint

    try:
        return resolve_endpoint(host).url
    except Exception:  # a malformed URL never equals a running engine's endpoint
        return host
