"""Typed, immutable views of the engine's JSON answers.

Every model is a frozen dataclass built by a pure ``from_api(dict)`` classmethod; the engine's
original object is kept in ``raw`` so callers can reach fields the model does not name. Parsing is
tolerant: a field the engine leaves out (older API, other OS) gets a neutral default rather than
an exception, because the engine is the source of truth and we only present it.

The package, one resource a module (this file only re-exports, so ``from engine.models import
X`` keeps working)::

    fields.py      the tolerant field readers every model uses, parse_time    (pure)
    containers.py  Port, ContainerSummary, ContainerDetails
    images.py      ImageSummary, ImageDetails
    volumes.py     Volume            networks.py  Subnet, Network
    system.py      Event, Version, Info, PruneResult, AuthResult
    disk.py        DiskUsage, DiskUsageCategory (``docker system df``'s rows)
    stats.py       Stats, cpu_percent, memory_usage (``docker stats``'s formulas)
"""

from __future__ import annotations

from engine.models.containers import (
    COMPOSE_PROJECT_LABEL,
    ContainerDetails,
    ContainerSummary,
    Port,
)
from engine.models.disk import DiskUsage, DiskUsageCategory
from engine.models.fields import JSON, parse_time
from engine.models.images import ImageDetails, ImageSummary
from engine.models.networks import Network, Subnet
from engine.models.stats import Stats, cpu_percent, memory_usage
from engine.models.system import AuthResult, Event, Info, PruneResult, Version
from engine.models.volumes import Volume

__all__ = [
    "COMPOSE_PROJECT_LABEL",
    "JSON",
    "AuthResult",
    "ContainerDetails",
    "ContainerSummary",
    "DiskUsage",
    "DiskUsageCategory",
    "Event",
    "ImageDetails",
    "ImageSummary",
    "Info",
    "Network",
    "Port",
    "PruneResult",
    "Stats",
    "Subnet",
    "Version",
    "Volume",
    "cpu_percent",
    "memory_usage",
    "parse_time",
]
