"""Volumes (``GET /volumes``, ``/volumes/{name}``, ``/system/df``).

Data flow: :class:`engine.client.volumes.Volumes` and the ``/system/df`` answer
(:mod:`engine.models.disk`) hand the engine's JSON to ``from_api``; sizes and reference counts
exist only in ``/system/df`` answers (None elsewhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.models.fields import JSON, dict_of, labels_of, opt_int_of, str_of


@dataclass(frozen=True, slots=True)
class Volume:
    """A volume (``GET /volumes``, ``/volumes/{name}``, ``/system/df``)."""

    name: str
    driver: str
    mountpoint: str
    created_at: str
    labels: Mapping[str, str]
    scope: str
    options: Mapping[str, str]
    size: int | None
    ref_count: int | None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Volume:
        usage = dict_of(d.get("UsageData"))
        size = opt_int_of(usage.get("Size"))
        refs = opt_int_of(usage.get("RefCount"))
        return cls(
            name=str_of(d.get("Name")),
            driver=str_of(d.get("Driver")),
            mountpoint=str_of(d.get("Mountpoint")),
            created_at=str_of(d.get("CreatedAt")),
            labels=labels_of(d.get("Labels")),
            scope=str_of(d.get("Scope")),
            options=labels_of(d.get("Options")),
            size=None if size is None or size < 0 else size,
            ref_count=None if refs is None or refs < 0 else refs,
            raw=d,
        )
