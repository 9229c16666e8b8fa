"""``GET /system/df``: disk usage, with the docker CLI's four summary rows.

Data flow: :meth:`engine.client.system.EngineClient.df` hands the engine's JSON to
:meth:`DiskUsage.from_api`, which builds the image, container and volume models and computes
:attr:`DiskUsage.categories` exactly as ``docker system df`` does (the app's Disk view shows
them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.models.containers import ContainerSummary
from engine.models.fields import JSON, int_of
from engine.models.images import ImageSummary
from engine.models.volumes import Volume


@dataclass(frozen=True, slots=True)
class DiskUsageCategory:
    """One row of ``docker system df``: computed exactly as the docker CLI does."""

    kind: str  # "Images", "Containers", "Local Volumes", "Build Cache"
    total: int
    active: int
    size: int
    reclaimable: int

    @property
    def reclaimable_percent(self) -> float:
        return 100.0 * self.reclaimable / self.size if self.size > 0 else 0.0


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """``GET /system/df``, with the CLI's four summary rows in :attr:`categories`."""

    layers_size: int
    images: tuple[ImageSummary, ...]
    containers: tuple[ContainerSummary, ...]
    volumes: tuple[Volume, ...]
    build_cache: tuple[JSON, ...]
    categories: tuple[DiskUsageCategory, ...]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> DiskUsage:
        layers = int_of(d.get("LayersSize"))
        images = tuple(ImageSummary.from_api(i) for i in d.get("Images") or ())
        containers = tuple(ContainerSummary.from_api(c) for c in d.get("Containers") or ())
        volumes = tuple(Volume.from_api(v) for v in d.get("Volumes") or ())
        cache = tuple(c for c in d.get("BuildCache") or () if isinstance(c, dict))
        return cls(
            layers_size=layers,
            images=images,
            containers=containers,
            volumes=volumes,
            build_cache=cache,
            categories=_disk_categories(layers, images, containers, volumes, cache),
            raw=d,
        )

    def category(self, kind: str) -> DiskUsageCategory:
        for c in self.categories:
            if c.kind == kind:
                return c
        raise KeyError(kind)


def _disk_categories(
    layers: int,
    images: tuple[ImageSummary, ...],
    containers: tuple[ContainerSummary, ...],
    volumes: tuple[Volume, ...],
    cache: tuple[JSON, ...],
) -> tuple[DiskUsageCategory, ...]:
    # docker/cli cli/command/formatter/disk_usage.go
    used = sum(i.size - i.shared_size for i in images if i.containers > 0 and i.shared_size >= 0)
    img = DiskUsageCategory(
        "Images",
        len(images),
        sum(1 for i in images if i.containers > 0),
        layers,
        max(layers - used, 0),
    )
    csize = sum(c.size_rw or 0 for c in containers)
    con = DiskUsageCategory(
        "Containers",
        len(containers),
        sum(1 for c in containers if c.state == "running"),
        csize,
        sum(c.size_rw or 0 for c in containers if c.state != "running"),
    )
    vol = DiskUsageCategory(
        "Local Volumes",
        len(volumes),
        sum(1 for v in volumes if v.ref_count),
        sum(v.size or 0 for v in volumes),
        sum(v.size or 0 for v in volumes if not v.ref_count),
    )
    unshared = [c for c in cache if not c.get("Shared")]
    bc = DiskUsageCategory(
        "Build Cache",
        len(cache),
        sum(1 for c in cache if c.get("InUse")),
        sum(int_of(c.get("Size")) for c in unshared),
        sum(int_of(c.get("Size")) for c in unshared if not c.get("InUse")),
    )
    return (img, con, vol, bc)
