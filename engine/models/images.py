"""Images: a list entry (also inside ``/system/df``) and an inspection.

Data flow: :class:`engine.client.images.Images` (``list``, ``inspect``) and the ``/system/df``
answer (:mod:`engine.models.disk`) hand the engine's JSON to ``from_api``; the app's image
views read these objects, and ``raw`` for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.models.fields import (
    JSON,
    config_fields,
    dict_of,
    int_of,
    labels_of,
    str_of,
    strs_of,
)


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """An entry of ``GET /images/json`` (also used inside ``/system/df``)."""

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: int
    size: int
    containers: int
    dangling: bool
    labels: Mapping[str, str]
    parent_id: str
    shared_size: int
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> ImageSummary:
        tags = tuple(t for t in strs_of(d.get("RepoTags")) if t != "<none>:<none>")
        digests = tuple(t for t in strs_of(d.get("RepoDigests")) if t != "<none>@<none>")
        return cls(
            id=str_of(d.get("Id")),
            repo_tags=tags,
            repo_digests=digests,
            created=int_of(d.get("Created")),
            size=int_of(d.get("Size")),
            containers=int_of(d.get("Containers")),
            dangling=not tags,
            labels=labels_of(d.get("Labels")),
            parent_id=str_of(d.get("ParentId")),
            shared_size=int_of(d.get("SharedSize")) if "SharedSize" in d else -1,
            raw=d,
        )

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True, slots=True)
class ImageDetails:
    """``GET /images/{name}/json``."""

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: str
    size: int
    architecture: str
    os: str
    author: str
    cmd: tuple[str, ...]
    entrypoint: tuple[str, ...]
    env: tuple[str, ...]
    working_dir: str
    exposed_ports: tuple[str, ...]
    labels: Mapping[str, str]
    layers: tuple[str, ...]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> ImageDetails:
        config = dict_of(d.get("Config"))
        return cls(
            id=str_of(d.get("Id")),
            repo_tags=strs_of(d.get("RepoTags")),
            repo_digests=strs_of(d.get("RepoDigests")),
            created=str_of(d.get("Created")),
            size=int_of(d.get("Size")),
            architecture=str_of(d.get("Architecture")),
            os=str_of(d.get("Os")),
            author=str_of(d.get("Author")),
            exposed_ports=tuple(dict_of(config.get("ExposedPorts"))),
            **config_fields(config),
            layers=strs_of(dict_of(d.get("RootFS")).get("Layers")),
            raw=d,
        )
