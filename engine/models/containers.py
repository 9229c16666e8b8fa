"""Containers: a list entry (with its ports) and an inspection.

Data flow: :class:`engine.client.containers.Containers` (``list``, ``inspect``) and the
``/system/df`` answer (:mod:`engine.models.disk`) hand the engine's JSON to ``from_api``; the
app's container table and container page read these objects, and ``raw`` for anything else.
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
    opt_int_of,
    str_of,
    strs_of,
)

COMPOSE_PROJECT_LABEL = "com.docker.compose.project"


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
            private_port=int_of(d.get("PrivatePort")),
            type=str_of(d.get("Type")) or "tcp",
            public_port=opt_int_of(d.get("PublicPort")),
            ip=str_of(d.get("IP")),
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
        names = tuple(n.lstrip("/") for n in strs_of(d.get("Names")))
        labels = labels_of(d.get("Labels"))
        ports = d.get("Ports")
        return cls(
            id=str_of(d.get("Id")),
            names=names,
            name=names[0] if names else "",
            image=str_of(d.get("Image")),
            image_id=str_of(d.get("ImageID")),
            command=str_of(d.get("Command")),
            created=int_of(d.get("Created")),
            state=str_of(d.get("State")),
            status=str_of(d.get("Status")),
            ports=tuple(Port.from_api(p) for p in ports if isinstance(p, dict))
            if isinstance(ports, list)
            else (),
            labels=labels,
            compose_project=labels.get(COMPOSE_PROJECT_LABEL),
            size_rw=opt_int_of(d.get("SizeRw")),
            size_root_fs=opt_int_of(d.get("SizeRootFs")),
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
        state = dict_of(d.get("State"))
        config = dict_of(d.get("Config"))
        host = dict_of(d.get("HostConfig"))
        net = dict_of(d.get("NetworkSettings"))
        health = state.get("Health")
        return cls(
            id=str_of(d.get("Id")),
            name=str_of(d.get("Name")).lstrip("/"),
            image=str_of(config.get("Image")),
            image_id=str_of(d.get("Image")),
            created=str_of(d.get("Created")),
            status=str_of(state.get("Status")),
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            restarting=bool(state.get("Restarting")),
            exit_code=int_of(state.get("ExitCode")),
            pid=int_of(state.get("Pid")),
            started_at=str_of(state.get("StartedAt")),
            finished_at=str_of(state.get("FinishedAt")),
            error=str_of(state.get("Error")),
            health=str_of(health.get("Status")) if isinstance(health, dict) else None,
            tty=bool(config.get("Tty")),
            open_stdin=bool(config.get("OpenStdin")),
            **config_fields(config),
            restart_policy=str_of(dict_of(host.get("RestartPolicy")).get("Name")),
            ip_address=str_of(net.get("IPAddress")),
            networks=tuple(dict_of(net.get("Networks"))),
            mounts=tuple(m for m in d.get("Mounts") or () if isinstance(m, dict)),
            ports=dict_of(net.get("Ports")),
            raw=d,
        )
