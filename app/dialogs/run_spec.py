"""Pure validation for the "Run image" dialog: form text in, an engine create config out.

Nothing here touches Qt or the engine, so the rules are unit-tested synchronously. The syntax is the
``docker run`` one users already know:

* ports, one per line or comma-separated: ``80``, ``8080:80``, ``127.0.0.1:8080:80/udp``,
  ``127.0.0.1::80``, ``[::1]:8080:80``, ranges ``8000-8002:80-82``;
* environment, one ``KEY=VALUE`` per line (the value may be empty, may contain ``=``);
* volumes and bind mounts, one per line: ``name:/path[:ro]``, ``/host/dir:/path[:ro]``, or ``/path``
  for an anonymous volume;
* restart policy ``no``, ``always``, ``unless-stopped``, ``on-failure[:N]``;
* the command, split like a POSIX shell does (quotes honoured);
* the network (``bridge`` by default, a user network, ``host`` or ``none``) — ports cannot be
  published on ``host`` or ``none`` (the engine would silently ignore them), so that is an error
  on the ports field instead;
* labels, one ``key=value`` per line; memory limit ``512m``/``1g`` (binary units, as
  ``docker run --memory``), CPUs ``1.5`` (``--cpus``, sent as ``NanoCpus``).

Every problem is reported against the field it concerns (:class:`RunFormErrors`), with a message
that says what to type instead.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

#: Field names, shared with the dialog so errors land next to the right widget.
NAME, PORTS, ENV, VOLUMES, COMMAND, RESTART, IMAGE = (
    "name",
    "ports",
    "env",
    "volumes",
    "command",
    "restart",
    "image",
)
NETWORK, LABELS, MEMORY, CPUS = ("network", "labels", "memory", "cpus")
#: Networks without a port mapping: publishing a port there is ignored by the engine.
NO_PUBLISH_NETWORKS = ("host", "none")
DEFAULT_NETWORK = "bridge"
MIN_MEMORY = 6 * 1024 * 1024  # the engine refuses less than 6 MiB
_MEMORY_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

_NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_VOLUME_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_PROTOCOLS = ("tcp", "udp", "sctp")
_MOUNT_OPTIONS = {
    "ro",
    "rw",
    "z",
    "Z",
    "nocopy",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
}
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


class FieldError(ValueError):
    """One invalid field value; ``field`` is one of the field-name constants above."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class RunFormErrors(ValueError):
    """All the problems found in a run form, keyed by field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class PortBinding:
    """One published port: container ``port/protocol`` bound to ``host_ip:host_port``."""

    container_port: int
    protocol: str = "tcp"
    host_port: int | None = None  # None: the engine picks a free port
    host_ip: str = ""

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class Mount:
    """A named volume, a bind mount (``source`` absolute) or an anonymous volume (no source)."""

    target: str
    source: str = ""
    options: tuple[str, ...] = ()

    @property
    def is_bind(self) -> bool:
        return self.source.startswith("/")

    @property
    def read_only(self) -> bool:
        return "ro" in self.options

    def bind_string(self) -> str:
        opts = f":{','.join(self.options)}" if self.options else ""
        return f"{self.source}:{self.target}{opts}"


def _split_entries(text: str) -> list[str]:
    """Lines and commas both separate entries; blank entries are ignored."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(part.strip() for part in line.split(",") if part.strip())
    return out


def _parse_port_number(text: str, what: str, entry: str) -> int:
    if not text.isdigit():
        raise FieldError(PORTS, f"“{entry}”: {what} “{text}” is not a number (use e.g. 8080:80).")
    value = int(text)
    if not 1 <= value <= 65535:
        raise FieldError(PORTS, f"“{entry}”: {what} {value} is out of range (1–65535).")
    return value


def _parse_port_range(text: str, what: str, entry: str) -> list[int]:
    if "-" in text:
        lo_s, _, hi_s = text.partition("-")
        lo = _parse_port_number(lo_s, what, entry)
        hi = _parse_port_number(hi_s, what, entry)
        if hi < lo:
            raise FieldError(PORTS, f"“{entry}”: the {what} range {text} runs backwards.")
        return list(range(lo, hi + 1))
    return [_parse_port_number(text, what, entry)]


def parse_port(entry: str) -> list[PortBinding]:
    """Parse one ``-p`` style entry into bindings (several for a range)."""
    spec = entry.strip()
    if not spec:
        raise FieldError(PORTS, "Empty port entry.")
    protocol = "tcp"
    if "/" in spec:
        spec, _, protocol = spec.rpartition("/")
        protocol = protocol.lower()
        if protocol not in _PROTOCOLS:
            raise FieldError(
                PORTS, f"“{entry}”: unknown protocol “{protocol}” (use tcp, udp or sctp)."
            )
    host_ip = ""
    if spec.startswith("["):  # [IPv6]:host:container
        close = spec.find("]")
        if close < 0 or spec[close + 1 : close + 2] != ":":
            raise FieldError(PORTS, f"“{entry}”: write an IPv6 address as [::1]:8080:80.")
        host_ip = spec[1:close]
        rest = spec[close + 2 :].split(":")
        if len(rest) != 2:
            raise FieldError(PORTS, f"“{entry}”: expected [IP]:HOST:CONTAINER, e.g. [::1]:8080:80.")
        parts = [host_ip, *rest]
    else:
        parts = spec.split(":")
    if len(parts) == 1:
        host_s, container_s = "", parts[0]
    elif len(parts) == 2:
        host_s, container_s = parts
        if not host_s:
            raise FieldError(PORTS, f"“{entry}”: missing host port before “:” (e.g. 8080:80).")
    elif len(parts) == 3:
        host_ip, host_s, container_s = parts
    else:
        raise FieldError(
            PORTS, f"“{entry}”: too many “:” — use HOST:CONTAINER or IP:HOST:CONTAINER."
        )
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise FieldError(
                PORTS, f"“{entry}”: “{host_ip}” is not an IP address (e.g. 127.0.0.1)."
            ) from None
    if not container_s:
        raise FieldError(PORTS, f"“{entry}”: the container port is missing (e.g. 8080:80).")
    container_ports = _parse_port_range(container_s, "container port", entry)
    host_ports: list[int | None]
    if host_s:
        host_ports = list(_parse_port_range(host_s, "host port", entry))
        if len(host_ports) != len(container_ports):
            if len(container_ports) == 1 and len(host_ports) > 1:
                raise FieldError(
                    PORTS,
                    f"“{entry}”: a host port range needs a container range of the same length.",
                )
            raise FieldError(PORTS, f"“{entry}”: host and container port ranges differ in length.")
    else:
        host_ports = [None] * len(container_ports)
    return [
        PortBinding(c, protocol, h, host_ip)
        for c, h in zip(container_ports, host_ports, strict=True)
    ]


def parse_ports(text: str) -> list[PortBinding]:
    """Parse the ports field; raises :class:`FieldError` on the first bad entry."""
    bindings: list[PortBinding] = []
    seen: dict[tuple[str, int, str], str] = {}
    for entry in _split_entries(text):
        for b in parse_port(entry):
            if b.host_port is not None:
                clash_key = (b.host_ip or "0.0.0.0", b.host_port, b.protocol)
                if clash_key in seen:
                    raise FieldError(
                        PORTS,
                        f"Host port {b.host_port}/{b.protocol} is published twice "
                        f"(“{seen[clash_key]}” and “{entry}”).",
                    )
                seen[clash_key] = entry
            bindings.append(b)
    return bindings


def parse_env(text: str) -> list[str]:
    """Parse ``KEY=VALUE`` lines (comments with ``#`` and blank lines ignored)."""
    out: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise FieldError(
                ENV, f"Line {lineno}: “{line}” has no “=”; write KEY=VALUE (e.g. {line}=1)."
            )
        if not _ENV_KEY_RE.match(key):
            raise FieldError(
                ENV,
                f"Line {lineno}: “{key}” is not a valid variable name — use letters, digits "
                "and _, not starting with a digit (e.g. MY_VAR=value).",
            )
        out.append(f"{key}={value}")
    return out


def parse_mount(entry: str) -> Mount:
    """Parse one ``-v`` style entry."""
    spec = entry.strip()
    parts = spec.split(":")
    if len(parts) == 1:
        source, target, opts_s = "", parts[0], ""
    elif len(parts) == 2:
        if parts[1].startswith("/") or not parts[1]:
            source, target, opts_s = parts[0], parts[1], ""
        else:  # "/path:ro" — anonymous volume with options
            source, target, opts_s = "", parts[0], parts[1]
    elif len(parts) == 3:
        source, target, opts_s = parts
    else:
        raise FieldError(VOLUMES, f"“{entry}”: too many “:” — use SOURCE:/container/path[:ro].")
    if not target:
        raise FieldError(VOLUMES, f"“{entry}”: the container path is missing (e.g. data:/data).")
    if not target.startswith("/"):
        raise FieldError(
            VOLUMES, f"“{entry}”: the container path “{target}” must be absolute (start with /)."
        )
    if source and not source.startswith("/"):
        if source.startswith((".", "~")):
            raise FieldError(
                VOLUMES,
                f"“{entry}”: host paths must be absolute — write the full path instead of "
                f"“{source}”.",
            )
        if not _VOLUME_NAME_RE.match(source):
            raise FieldError(
                VOLUMES,
                f"“{entry}”: “{source}” is neither an absolute host path nor a valid volume name "
                "(letters, digits, _ . -; at least 2 characters).",
            )
    options = tuple(o for o in opts_s.split(",") if o) if opts_s else ()
    for opt in options:
        if opt not in _MOUNT_OPTIONS:
            raise FieldError(VOLUMES, f"“{entry}”: unknown option “{opt}” (use ro or rw).")
    if "ro" in options and "rw" in options:
        raise FieldError(VOLUMES, f"“{entry}”: choose ro or rw, not both.")
    return Mount(target=target, source=source, options=options)


def parse_mounts(text: str) -> list[Mount]:
    """Parse the volumes field, one entry per line (commas are legal in paths, so lines only)."""
    mounts: list[Mount] = []
    targets: dict[str, str] = {}
    for raw in text.splitlines():
        entry = raw.strip()
        if not entry:
            continue
        m = parse_mount(entry)
        if m.target in targets:
            raise FieldError(
                VOLUMES,
                f"“{m.target}” is mounted twice (“{targets[m.target]}” and “{entry}”).",
            )
        targets[m.target] = entry
        mounts.append(m)
    return mounts


def parse_restart(text: str) -> dict[str, Any]:
    """Parse a restart policy into the engine's ``RestartPolicy`` object."""
    spec = text.strip() or "no"
    name, sep, count_s = spec.partition(":")
    if name not in RESTART_POLICIES:
        raise FieldError(
            RESTART, f"Unknown restart policy “{name}” (use {', '.join(RESTART_POLICIES)})."
        )
    if sep and name != "on-failure":
        raise FieldError(RESTART, "Only on-failure takes a retry count (e.g. on-failure:3).")
    policy: dict[str, Any] = {"Name": "" if name == "no" else name}
    if sep:
        if not count_s.isdigit():
            raise FieldError(
                RESTART, f"Retry count “{count_s}” is not a number (e.g. on-failure:3)."
            )
        policy["MaximumRetryCount"] = int(count_s)
    return policy


def parse_command(text: str) -> list[str]:
    """Split the command like a shell; an empty field means the image's default command."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise FieldError(COMMAND, f"Cannot split the command: {exc} (close your quotes).") from None


def validate_name(text: str) -> str:
    name = text.strip()
    if name and not _NAME_RE.match(name):
        raise FieldError(
            NAME,
            f"“{name}” is not a valid container name: use letters, digits, _ . -, at least two "
            "characters, starting with a letter or digit.",
        )
    return name.lstrip("/")


def parse_network(text: str) -> str:
    """The network name; empty means the default bridge."""
    name = text.strip() or DEFAULT_NETWORK
    if not _NAME_RE.match(name) and name not in NO_PUBLISH_NETWORKS:
        raise FieldError(
            NETWORK,
            f"“{name}” is not a network name: choose bridge, host, none or one of your networks.",
        )
    return name


def parse_labels(text: str) -> dict[str, str]:
    """``key=value`` lines (blank lines and ``#`` comments ignored) → container labels."""
    labels: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise FieldError(
                LABELS, f"Line {lineno}: “{line}” is not key=value (e.g. team=backend)."
            )
        labels[key.strip()] = value.strip()
    return labels


def parse_memory(text: str) -> int:
    """``512m``, ``1g``, ``1.5g``, ``268435456`` → bytes; empty → 0 (no limit)."""
    spec = text.strip()
    if not spec:
        return 0
    match = _MEMORY_RE.match(spec)
    if not match:
        raise FieldError(
            MEMORY, f"“{spec}” is not a memory size: write a number with b, k, m or g (e.g. 512m)."
        )
    value = int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()])
    if value < MIN_MEMORY:
        raise FieldError(MEMORY, f"“{spec}” is too little: the engine needs at least 6m.")
    return value


def parse_cpus(text: str, available: int | None = None) -> int:
    """``1.5`` CPUs → ``NanoCpus`` (1.5e9); empty → 0 (no limit)."""
    spec = text.strip()
    if not spec:
        return 0
    try:
        cpus = float(spec)
    except ValueError:
        raise FieldError(CPUS, f"“{spec}” is not a number of CPUs (e.g. 0.5 or 2).") from None
    if not 0.01 <= cpus < 1e6:
        raise FieldError(CPUS, f"“{spec}”: give at least 0.01 CPUs (e.g. 0.5 or 2).")
    if available and cpus > available:
        raise FieldError(
            CPUS, f"“{spec}”: the engine's machine has only {available} CPUs; give at most that."
        )
    return round(cpus * 1e9)


@dataclass
class RunForm:
    """The raw text of the run dialog's fields."""

    image: str
    name: str = ""
    ports: str = ""
    env: str = ""
    volumes: str = ""
    command: str = ""
    restart: str = "no"
    auto_remove: bool = False
    network: str = ""
    labels: str = ""
    memory: str = ""
    cpus: str = ""
    #: CPUs of the engine's machine (from /info), to check the CPU limit; None: unknown.
    engine_cpus: int | None = None


@dataclass(frozen=True)
class RunSpec:
    """A validated run request: ``config`` is the body of ``POST /containers/create``."""

    name: str | None
    config: dict[str, Any] = field(default_factory=dict)
    ports: tuple[PortBinding, ...] = ()
    mounts: tuple[Mount, ...] = ()


def build_run_spec(form: RunForm) -> RunSpec:
    """Validate every field and build the create config; raises :class:`RunFormErrors`."""
    errors: dict[str, str] = {}

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except FieldError as exc:
            errors.setdefault(exc.field, exc.message)
            return None

    image = form.image.strip()
    if not image:
        errors[IMAGE] = "Choose an image to run."
    name = attempt(validate_name, form.name)
    ports = attempt(parse_ports, form.ports)
    env = attempt(parse_env, form.env)
    mounts = attempt(parse_mounts, form.volumes)
    command = attempt(parse_command, form.command)
    restart = attempt(parse_restart, form.restart)
    network = attempt(parse_network, form.network)
    labels = attempt(parse_labels, form.labels)
    memory = attempt(parse_memory, form.memory)
    nano_cpus = attempt(parse_cpus, form.cpus, form.engine_cpus)
    if ports and network in NO_PUBLISH_NETWORKS:
        what = (
            "the container uses the host's own ports, so publishing is ignored: clear Ports (a "
            "server listening on port 80 is then reachable on the host's port 80)"
            if network == "host"
            else "the container has no network at all, so no port can be published: clear Ports"
        )
        errors.setdefault(
            PORTS, f"Ports can't be published on the “{network}” network — {what}, or choose "
            "the bridge network."
        )
    if restart is not None and form.auto_remove and restart.get("Name"):
        errors[RESTART] = (
            "“Remove when exited” can't be combined with a restart policy; choose “no” or "
            "untick the box."
        )
    if errors:
        raise RunFormErrors(errors)

    host_config: dict[str, Any] = {"AutoRemove": bool(form.auto_remove)}
    config: dict[str, Any] = {"Image": image, "HostConfig": host_config}
    if network and network != DEFAULT_NETWORK:
        host_config["NetworkMode"] = network
    if labels:
        config["Labels"] = labels
    if memory:
        host_config["Memory"] = memory
    if nano_cpus:
        host_config["NanoCpus"] = nano_cpus
    if env:
        config["Env"] = env
    if command:
        config["Cmd"] = command
    if ports:
        config["ExposedPorts"] = {b.key: {} for b in ports}
        bindings: dict[str, list[dict[str, str]]] = {}
        for b in ports:
            bindings.setdefault(b.key, []).append(
                {"HostIp": b.host_ip, "HostPort": "" if b.host_port is None else str(b.host_port)}
            )
        host_config["PortBindings"] = bindings
    if mounts:
        binds = [m.bind_string() for m in mounts if m.source]
        anonymous: dict[str, dict[str, Any]] = {m.target: {} for m in mounts if not m.source}
        if binds:
            host_config["Binds"] = binds
        if anonymous:
            config["Volumes"] = anonymous
    if restart and restart.get("Name"):
        host_config["RestartPolicy"] = restart
    return RunSpec(
        name=name or None, config=config, ports=tuple(ports or ()), mounts=tuple(mounts or ())
    )


# Engine messages → the field they concern. Order matters: the first match wins.
_ENGINE_ERROR_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        PORTS,
        (
            "port is already allocated",
            "address already in use",
            "ports are not available",
            "cannot expose privileged port",
            "invalid port",
            "invalid hostport",
        ),
    ),
    (
        NAME,
        (
            "is already in use by container",
            "invalid container name",
            "conflict. the container name",
        ),
    ),
    (
        VOLUMES,
        (
            "invalid mount config",
            "bind source path does not exist",
            "invalid volume specification",
            "error while mounting volume",
            "mount denied",
            "create mountpoint",
            "invalid mode",
            "duplicate mount point",
            "not a directory",
        ),
    ),
    (
        COMMAND,
        (
            "executable file not found",
            "no such file or directory: unknown",
            "permission denied: unknown",
            "no command specified",
        ),
    ),
    (RESTART, ("restart policy", "restartpolicy")),
    (MEMORY, ("minimum memory limit",)),
    (CPUS, ("range of cpus", "nanocpus")),
    (NETWORK, ("networkmode", "conflicting options: host type networking")),
    (ENV, ("environment variable",)),
)


def field_for_engine_error(message: str) -> str | None:
    """Which form field an engine error message concerns, or None when it is general."""
    low = message.lower()
    for field_name, needles in _ENGINE_ERROR_FIELDS:
        if any(n in low for n in needles):
            return field_name
    if re.search(r"\bnetwork \S+ not found", low):
        return NETWORK
    return None
