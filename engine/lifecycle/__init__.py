"""Engines Portside runs (:class:`NativeEngine`) or attaches to (:class:`ExternalEngine`).

``NativeEngine`` and ``ExternalEngine`` are imported on first use (module ``__getattr__``):
native.py needs fcntl/grp/pwd, which Windows lacks, and the VM engine and the start-up path
(``from engine.lifecycle import EnginePaths``) must import there too.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.lifecycle.base import Engine, EngineState, EngineStatus
from engine.lifecycle.paths import EnginePaths

if TYPE_CHECKING:
    from engine.lifecycle.external import ExternalEngine
    from engine.lifecycle.native import NativeEngine

__all__ = ["Engine", "EnginePaths", "EngineState", "EngineStatus", "ExternalEngine", "NativeEngine"]

_LAZY = {"ExternalEngine": "engine.lifecycle.external", "NativeEngine": "engine.lifecycle.native"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
