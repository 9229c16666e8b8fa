"""Typed, immutable views of the engine's JSON answers.

Every model is a frozen dataclass built by a pure ``from_api(dict)`` classmethod; the engine's
original object is kept in ``raw`` so callers can reach fields the model does not name. Parsing is
tolerant: a field the engine leaves out (older API, other OS) gets a neutral default rather than
an exception, because the engine is the source of truth and we only present it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _labels(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Port:
    """One published or exposed port of a container summary."""

    private_port: int
    type: str
    public_port: int | None = None
    ip: str = ""

    @classmethod
    def from_api(cls, d: JSON) -> Port:
        return cls(
            private_port=_int(d.get("PrivatePort")),
            type=_str(d.get("Type")) or "tcp",
            public_port=_opt_int(d.get("PublicPort")),
            ip=_str(d.get("IP")),
        )

    def __str__(self) -> str:
        if self.public_port is None:
            return f"{self.private_port}/{self.type}"
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        host = f"{ip}:" if ip else ""
        return f"{host}{self.public_port}->{self.private_port}/{self.type}"


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    """An entry of ``GET /containers/json``."""

    id: str
    names: tuple[str, ...]
    name: str
    image: str
    image_id: str
    command: str
    created: int
    state: str
    status: str
    ports: tuple[Port, ...]
    labels: Mapping[str, str]
    compose_project: str | None
    size_rw: int | None = None
    size_root_fs: int | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> ContainerSummary:
        names = tuple(n.lstrip("/") for n in _strs(d.get("Names")))
        labels = _labels(d.get("Labels"))
        ports = d.get("Ports")
        return cls(
            id=_str(d.get("Id")),
            names=names,
            name=names[0] if names else "",
            image=_str(d.get("Image")),
            image_id=_str(d.get("ImageID")),
            command=_str(d.get("Command")),
            created=_int(d.get("Created")),
            state=_str(d.get("State")),
            status=_str(d.get("Status")),
            ports=tuple(Port.from_api(p) for p in ports if isinstance(p, dict))
            if isinstance(ports, list)
            else (),
            labels=labels,
            compose_project=labels.get(COMPOSE_PROJECT_LABEL),
            size_rw=_opt_int(d.get("SizeRw")),
            size_root_fs=_opt_int(d.get("SizeRootFs")),
            raw=d,
        )

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True, slots=True)
class ContainerDetails:
    """``GET /containers/{id}/json``: the parts the app shows, plus ``raw``."""

    id: str
    name: str
    image: str
    image_id: str
    created: str
    status: str
    running: bool
    paused: bool
    restarting: bool
    exit_code: int
    pid: int
    started_at: str
    finished_at: str
    error: str
    health: str | None
    tty: bool
    open_stdin: bool
    cmd: tuple[str, ...]
    entrypoint: tuple[str, ...]
    env: tuple[str, ...]
    working_dir: str
    labels: Mapping[str, str]
    restart_policy: str
    ip_address: str
    networks: tuple[str, ...]
    mounts: tuple[JSON, ...]
    ports: JSON
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> ContainerDetails:
        state = _dict(d.get("State"))
        config = _dict(d.get("Config"))
        host = _dict(d.get("HostConfig"))
        net = _dict(d.get("NetworkSettings"))
        health = state.get("Health")
        entry = config.get("Entrypoint")
        return cls(
            id=_str(d.get("Id")),
            name=_str(d.get("Name")).lstrip("/"),
            image=_str(config.get("Image")),
            image_id=_str(d.get("Image")),
            created=_str(d.get("Created")),
            status=_str(state.get("Status")),
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            restarting=bool(state.get("Restarting")),
            exit_code=_int(state.get("ExitCode")),
            pid=_int(state.get("Pid")),
            started_at=_str(state.get("StartedAt")),
            finished_at=_str(state.get("FinishedAt")),
            error=_str(state.get("Error")),
            health=_str(health.get("Status")) if isinstance(health, dict) else None,
            tty=bool(config.get("Tty")),
            open_stdin=bool(config.get("OpenStdin")),
            cmd=_strs(config.get("Cmd")),
            entrypoint=(entry,) if isinstance(entry, str) else _strs(entry),
            env=_strs(config.get("Env")),
            working_dir=_str(config.get("WorkingDir")),
            labels=_labels(config.get("Labels")),
            restart_policy=_str(_dict(host.get("RestartPolicy")).get("Name")),
            ip_address=_str(net.get("IPAddress")),
            networks=tuple(_dict(net.get("Networks"))),
            mounts=tuple(m for m in d.get("Mounts") or () if isinstance(m, dict)),
            ports=_dict(net.get("Ports")),
            raw=d,
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
        tags = tuple(t for t in _strs(d.get("RepoTags")) if t != "<none>:<none>")
        digests = tuple(t for t in _strs(d.get("RepoDigests")) if t != "<none>@<none>")
        return cls(
            id=_str(d.get("Id")),
            repo_tags=tags,
            repo_digests=digests,
            created=_int(d.get("Created")),
            size=_int(d.get("Size")),
            containers=_int(d.get("Containers")),
            dangling=not tags,
            labels=_labels(d.get("Labels")),
            parent_id=_str(d.get("ParentId")),
            shared_size=_int(d.get("SharedSize")) if "SharedSize" in d else -1,
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
        config = _dict(d.get("Config"))
        entry = config.get("Entrypoint")
        return cls(
            id=_str(d.get("Id")),
            repo_tags=_strs(d.get("RepoTags")),
            repo_digests=_strs(d.get("RepoDigests")),
            created=_str(d.get("Created")),
            size=_int(d.get("Size")),
            architecture=_str(d.get("Architecture")),
            os=_str(d.get("Os")),
            author=_str(d.get("Author")),
            cmd=_strs(config.get("Cmd")),
            entrypoint=(entry,) if isinstance(entry, str) else _strs(entry),
            env=_strs(config.get("Env")),
            working_dir=_str(config.get("WorkingDir")),
            exposed_ports=tuple(_dict(config.get("ExposedPorts"))),
            labels=_labels(config.get("Labels")),
            layers=_strs(_dict(d.get("RootFS")).get("Layers")),
            raw=d,
        )


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
        usage = _dict(d.get("UsageData"))
        size = _opt_int(usage.get("Size"))
        refs = _opt_int(usage.get("RefCount"))
        return cls(
            name=_str(d.get("Name")),
            driver=_str(d.get("Driver")),
            mountpoint=_str(d.get("Mountpoint")),
            created_at=_str(d.get("CreatedAt")),
            labels=_labels(d.get("Labels")),
            scope=_str(d.get("Scope")),
            options=_labels(d.get("Options")),
            size=None if size is None or size < 0 else size,
            ref_count=None if refs is None or refs < 0 else refs,
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Subnet:
    """One IPAM pool of a network."""

    subnet: str
    gateway: str


@dataclass(frozen=True, slots=True)
class Network:
    """A network (``GET /networks``, ``/networks/{id}``)."""

    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    attachable: bool
    ipv6: bool
    created: str
    subnets: tuple[Subnet, ...]
    labels: Mapping[str, str]
    containers: Mapping[str, JSON]
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Network:
        ipam = _dict(d.get("IPAM"))
        pools = ipam.get("Config") or []
        return cls(
            id=_str(d.get("Id")),
            name=_str(d.get("Name")),
            driver=_str(d.get("Driver")),
            scope=_str(d.get("Scope")),
            internal=bool(d.get("Internal")),
            attachable=bool(d.get("Attachable")),
            ipv6=bool(d.get("EnableIPv6")),
            created=_str(d.get("Created")),
            subnets=tuple(
                Subnet(_str(p.get("Subnet")), _str(p.get("Gateway")))
                for p in pools
                if isinstance(p, dict)
            ),
            labels=_labels(d.get("Labels")),
            containers={str(k): _dict(v) for k, v in _dict(d.get("Containers")).items()},
            raw=d,
        )

    @property
    def builtin(self) -> bool:
        """The engine's own networks, which cannot be removed."""
        return self.name in ("bridge", "host", "none")


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
        actor = _dict(d.get("Actor"))
        time_nano = _int(d.get("timeNano")) or _int(d.get("time")) * 1_000_000_000
        return cls(
            type=_str(d.get("Type")),
            action=_str(d.get("Action")) or _str(d.get("status")),
            actor_id=_str(actor.get("ID")) or _str(d.get("id")),
            attributes=_labels(actor.get("Attributes")),
            time_nano=time_nano,
            scope=_str(d.get("scope")),
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
            version=_str(d.get("Version")),
            api_version=_str(d.get("ApiVersion")),
            min_api_version=_str(d.get("MinAPIVersion")),
            os=_str(d.get("Os")),
            arch=_str(d.get("Arch")),
            kernel_version=_str(d.get("KernelVersion")),
            go_version=_str(d.get("GoVersion")),
            git_commit=_str(d.get("GitCommit")),
            build_time=_str(d.get("BuildTime")),
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
        registry = _dict(d.get("RegistryConfig"))
        return cls(
            id=_str(d.get("ID")),
            name=_str(d.get("Name")),
            server_version=_str(d.get("ServerVersion")),
            containers=_int(d.get("Containers")),
            containers_running=_int(d.get("ContainersRunning")),
            containers_paused=_int(d.get("ContainersPaused")),
            containers_stopped=_int(d.get("ContainersStopped")),
            images=_int(d.get("Images")),
            driver=_str(d.get("Driver")),
            docker_root_dir=_str(d.get("DockerRootDir")),
            ncpu=_int(d.get("NCPU")),
            mem_total=_int(d.get("MemTotal")),
            operating_system=_str(d.get("OperatingSystem")),
            os_type=_str(d.get("OSType")),
            architecture=_str(d.get("Architecture")),
            kernel_version=_str(d.get("KernelVersion")),
            cgroup_driver=_str(d.get("CgroupDriver")),
            cgroup_version=_str(d.get("CgroupVersion")),
            security_options=_strs(d.get("SecurityOptions")),
            insecure_registries=_strs(registry.get("InsecureRegistryCIDRs"))
            + tuple(
                k
                for k, v in _dict(registry.get("IndexConfigs")).items()
                if isinstance(v, dict) and v.get("Secure") is False
            ),
            warnings=_strs(d.get("Warnings")),
            raw=d,
        )


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
        layers = _int(d.get("LayersSize"))
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
        sum(_int(c.get("Size")) for c in unshared),
        sum(_int(c.get("Size")) for c in unshared if not c.get("InUse")),
    )
    return (img, con, vol, bc)


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
            deleted.extend(_strs(d.get(key)))
        for item in d.get("ImagesDeleted") or ():
            if isinstance(item, dict):
                deleted.extend(v for k, v in item.items() if k in ("Deleted", "Untagged") and v)
        return cls(deleted=deleted, space_reclaimed=_int(d.get("SpaceReclaimed")), raw=d)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """``POST /auth``: the engine's status line and, for token registries, an identity token."""

    status: str
    identity_token: str = field(default="", repr=False)

    @classmethod
    def from_api(cls, d: JSON) -> AuthResult:
        return cls(status=_str(d.get("Status")), identity_token=_str(d.get("IdentityToken")))


@dataclass(frozen=True, slots=True)
class Stats:
    """One sample of ``GET /containers/{id}/stats``, with the docker CLI's derived numbers.

    ``cpu_percent`` and ``memory_usage`` follow docker/cli
    ``cli/command/container/stats_helpers.go`` (Linux): CPU% from the deltas against
    ``precpu_stats``; memory usage minus the page cache (``total_inactive_file`` on cgroup v1,
    ``inactive_file`` on v2).
    """

    id: str
    name: str
    read: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, d: JSON) -> Stats:
        mem = _dict(d.get("memory_stats"))
        usage, limit = memory_usage(mem), _int(mem.get("limit"))
        rx = tx = 0
        for net in _dict(d.get("networks")).values():
            if isinstance(net, dict):
                rx += _int(net.get("rx_bytes"))
                tx += _int(net.get("tx_bytes"))
        read = write = 0
        for entry in _dict(d.get("blkio_stats")).get("io_service_bytes_recursive") or ():
            if not isinstance(entry, dict):
                continue
            op = _str(entry.get("op"))[:1].lower()
            if op == "r":
                read += _int(entry.get("value"))
            elif op == "w":
                write += _int(entry.get("value"))
        return cls(
            id=_str(d.get("id")),
            name=_str(d.get("name")).lstrip("/"),
            read=_str(d.get("read")),
            cpu_percent=cpu_percent(d),
            memory_usage=usage,
            memory_limit=limit,
            memory_percent=100.0 * usage / limit if limit > 0 else 0.0,
            net_rx=rx,
            net_tx=tx,
            block_read=read,
            block_write=write,
            pids=_int(_dict(d.get("pids_stats")).get("current")),
            raw=d,
        )


def cpu_percent(d: JSON) -> float:
    """CPU usage in percent of one CPU × online CPUs, as ``docker stats`` computes it."""
    cpu, pre = _dict(d.get("cpu_stats")), _dict(d.get("precpu_stats"))
    cpu_usage, pre_usage = _dict(cpu.get("cpu_usage")), _dict(pre.get("cpu_usage"))
    cpu_delta = _int(cpu_usage.get("total_usage")) - _int(pre_usage.get("total_usage"))
    system_delta = _int(cpu.get("system_cpu_usage")) - _int(pre.get("system_cpu_usage"))
    online = _int(cpu.get("online_cpus"))
    if online == 0:
        online = len(cpu_usage.get("percpu_usage") or ())
    if system_delta > 0 and cpu_delta > 0:
        return (cpu_delta / system_delta) * online * 100.0
    return 0.0


def memory_usage(mem: JSON) -> int:
    """Memory in use without the page cache, as ``docker stats`` computes it."""
    usage = _int(mem.get("usage"))
    stats = _dict(mem.get("stats"))
    v1 = stats.get("total_inactive_file")  # cgroup v1
    if isinstance(v1, int) and v1 < usage:
        return usage - v1
    v2 = _int(stats.get("inactive_file"))  # cgroup v2
    if v2 < usage:
        return usage - v2
    return usage


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: str) -> datetime | None:
    """Parse the engine's RFC 3339 timestamps (nanosecond precision); None for zero/blank."""
    m = _TIME.match(text)
    if m is None or text.startswith("0001-01-01"):
        return None
    main, frac, tz = m.groups()
    tz = "+00:00" if tz == "Z" else tz
    return datetime.fromisoformat(f"{main}.{((frac or '') + '000000')[:6]}{tz}")
