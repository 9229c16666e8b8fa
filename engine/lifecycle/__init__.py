"""Engines Portside runs (:class:`NativeEngine`) or attaches to (:class:`ExternalEngine`)."""

from engine.lifecycle.base import Engine, EngineState, EngineStatus
from engine.lifecycle.external import ExternalEngine
from engine.lifecycle.native import NativeEngine
from engine.lifecycle.paths import EnginePaths

__all__ = ["Engine", "EnginePaths", "EngineState", "EngineStatus", "ExternalEngine", "NativeEngine"]
