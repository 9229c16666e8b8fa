"""Engine-wide answers: events, version, info, prune results and registry log-ins.

Data flow: :class:`engine.client.system.EngineClient` (``events``, ``version``, ``info``,
``auth``, ``build_prune``) and every group's ``prune`` hand the engine's JSON to ``from_api``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.models.fields import JSON, dict_of, int_of, labels_of, str_of, strs_of


@dataclass(frozen=True, slots=True)
class Event:
    """One message of ``GET /events``."""

    type: str
    action: str
    actor_id: str
    attributes: Mapping[str, str]
    time_nano: int
    scope: str
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Event:
        actor = dict_of(d.get("Actor"))
        time_nano = int_of(d.get("timeNano")) or int_of(d.get("time")) * 1_000_000_000
        return cls(
            type=str_of(d.get("Type")),
            action=str_of(d.get("Action")) or str_of(d.get("status")),
            actor_id=str_of(actor.get("ID")) or str_of(d.get("id")),
            attributes=labels_of(actor.get("Attributes")),
            time_nano=time_nano,
            scope=str_of(d.get("scope")),
            raw=d,
        )

    @property
    def time(self) -> float:
        """Seconds since the epoch."""
        return self.time_nano / 1e9


@dataclass(frozen=True, slots=True)
class Version:
    """``GET /version``."""

    version: str
    api_version: str
    min_api_version: str
    os: str
    arch: str
    kernel_version: str
    go_version: str
    git_commit: str
    build_time: str
    components: tuple[JSON, ...]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Version:
        return cls(
            version=str_of(d.get("Version")),
            api_version=str_of(d.get("ApiVersion")),
            min_api_version=str_of(d.get("MinAPIVersion")),
            os=str_of(d.get("Os")),
            arch=str_of(d.get("Arch")),
            kernel_version=str_of(d.get("KernelVersion")),
            go_version=str_of(d.get("GoVersion")),
            git_commit=str_of(d.get("GitCommit")),
            build_time=str_of(d.get("BuildTime")),
            components=tuple(c for c in d.get("Components") or () if isinstance(c, dict)),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Info:
    """``GET /info``: the system-wide facts the app shows."""

    id: str
    name: str
    server_version: str
    containers: int
    containers_running: int
    containers_paused: int
    containers_stopped: int
    images: int
    driver: str
    docker_root_dir: str
    ncpu: int
    mem_total: int
    operating_system: str
    os_type: str
    architecture: str
    kernel_version: str
    cgroup_driver: str
    cgroup_version: str
    security_options: tuple[str, ...]
    insecure_registries: tuple[str, ...]
    warnings: tuple[str, ...]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Info:
        registry = dict_of(d.get("RegistryConfig"))
        return cls(
            id=str_of(d.get("ID")),
            name=str_of(d.get("Name")),
            server_version=str_of(d.get("ServerVersion")),
            containers=int_of(d.get("Containers")),
            containers_running=int_of(d.get("ContainersRunning")),
            containers_paused=int_of(d.get("ContainersPaused")),
            containers_stopped=int_of(d.get("ContainersStopped")),
            images=int_of(d.get("Images")),
            driver=str_of(d.get("Driver")),
            docker_root_dir=str_of(d.get("DockerRootDir")),
            ncpu=int_of(d.get("NCPU")),
            mem_total=int_of(d.get("MemTotal")),
            operating_system=str_of(d.get("OperatingSystem")),
            os_type=str_of(d.get("OSType")),
            architecture=str_of(d.get("Architecture")),
            kernel_version=str_of(d.get("KernelVersion")),
            cgroup_driver=str_of(d.get("CgroupDriver")),
            cgroup_version=str_of(d.get("CgroupVersion")),
            security_options=strs_of(d.get("SecurityOptions")),
            insecure_registries=strs_of(registry.get("InsecureRegistryCIDRs"))
            + tuple(
                k
                for k, v in dict_of(registry.get("IndexConfigs")).items()
                if isinstance(v, dict) and v.get("Secure") is False
            ),
            warnings=strs_of(d.get("Warnings")),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What a ``/…/prune`` call removed."""

    deleted: list[str]
    space_reclaimed: int
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> PruneResult:
        deleted: list[str] = []
        for key in ("ContainersDeleted", "VolumesDeleted", "NetworksDeleted", "CachesDeleted"):
            deleted.extend(strs_of(d.get(key)))
        for item in d.get("ImagesDeleted") or ():
            if isinstance(item, dict):
                deleted.extend(v for k, v in item.items() if k in ("Deleted", "Untagged") and v)
        return cls(deleted=deleted, space_reclaimed=int_of(d.get("SpaceReclaimed")), raw=d)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """``POST /auth``: the engine's status line and, for token registries, an identity token."""

    status: str
    identity_token: str = field(default="", repr=False)

    @classmethod
    def from_api(cls, d: JSON) -> AuthResult:
        return cls(status=str_of(d.get("Status")), identity_token=str_of(d.get("IdentityToken")))
