"""Where one Portside VM keeps its files, and its settings file (``vm.json``).

The VM's folder is ``<engine home>/vm`` (``PORTSIDE_HOME/vm`` or the per-user data folder's
``engine/vm``). It holds the disks, the per-VM ssh keys, the settings, the engine log (the serial
console and QEMU's own messages) and the state file the CLI reads. The sockets (the forwarded
engine API, QMP, the readiness port, ssh's control socket) live in a short private runtime folder
(unix socket paths are limited to ~107 bytes), the same one :class:`EnginePaths` picks.

``vm.json`` is the user's to edit, like ``daemon.json``: ``cpus``, ``memory_mib``, ``disk_gib``,
``accel``, ``shares`` (host folders to share; default the home folder), ``swap_mib``, ``api``
(how the host reaches the engine: ``ssh`` or ``tls``, see engine/vm/choice.py); unknown keys are
kept, a bad value is reported with the key and what is allowed.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import LifecycleError
from engine.lifecycle.paths import HOME_ENV, EnginePaths

#: Accelerators a user may force in ``vm.json`` or ``PORTSIDE_VM_ACCEL``.
ACCELS = ("kvm", "hvf", "whpx", "tcg")
#: How the host reaches the VM's engine API (``vm.json`` ``api``, ``PORTSIDE_VM_API``): ``ssh``
#: forwards the guest's socket to a unix socket of the user's; ``tls`` is mutual TLS on a port of
#: 127.0.0.1 and needs no unix socket on the host at all (Windows).
API_MODES = ("ssh", "tls")


@dataclass(frozen=True)
class VMPaths:
    """Every file of one VM. ``engine`` is the shared layout (log, lock, state, API socket)."""

    engine: EnginePaths

    @property
    def root(self) -> Path:
        return self.engine.root

    @property
    def run(self) -> Path:
        """The short private folder for sockets (0700)."""
        return self.engine.socket.parent

    @property
    def socket(self) -> Path:
        """The forwarded engine API socket (what ``DOCKER_HOST`` points at)."""
        return self.engine.socket

    @property
    def root_disk(self) -> Path:
        return self.root / "root.qcow2"

    @property
    def root_version(self) -> Path:
        return self.root / "root.version"

    @property
    def data_disk(self) -> Path:
        return self.root / "data.qcow2"

    @property
    def client_key(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def host_key(self) -> Path:
        return self.root / "ssh" / "ssh_host_ed25519_key"

    @property
    def known_hosts(self) -> Path:
        return self.root / "ssh" / "known_hosts"

    @property
    def guest_config(self) -> Path:
        return self.root / "guest.conf"

    @property
    def settings_file(self) -> Path:
        return self.root / "vm.json"

    @property
    def qmp_socket(self) -> Path:
        return self.run / "qmp.sock"

    @property
    def ready_socket(self) -> Path:
        return self.run / "ready.sock"

    @property
    def ssh_control(self) -> Path:
        return self.run / "ssh.ctl"

    @property
    def qemu_pidfile(self) -> Path:
        return self.run / "qemu.pid"

    @property
    def tls_dir(self) -> Path:
        """The per-VM certificates of the ``tls`` API (``ca.pem``, ``cert.pem``, ``key.pem``...)."""
        return self.root / "tls"

    @property
    def api_port_file(self) -> Path:
        """The host port the ``tls`` API is forwarded to, kept so the docker context stays valid."""
        return self.root / "api-port"

    @property
    def qmp_pipe(self) -> Path:
        """QMP's pipe chardev on POSIX (``qmp.pipe.in``/``.out`` FIFOs) in the ``tls`` mode."""
        return self.run / "qmp.pipe"

    @classmethod
    def at(cls, root: Path | str) -> VMPaths:
        return cls(EnginePaths.at(Path(root)))

    @classmethod
    def default(cls, home: str | Path | None = None) -> VMPaths:
        """The VM of ``home`` (an engine folder) or of ``$PORTSIDE_HOME`` / the per-user one."""
        if home is None and os.environ.get(HOME_ENV):
            home = os.environ[HOME_ENV]
        base = Path(home) if home is not None else EnginePaths.default().root
        return cls.at(base.expanduser().absolute() / "vm")

    def ensure(self) -> None:
        self.engine.ensure()
        (self.root / "ssh").mkdir(mode=0o700, exist_ok=True)
        self.run.chmod(0o700)


@dataclass(frozen=True)
class VMSettings:
    """What the user may set for the VM (``vm.json``); None means "the default for this host"."""

    cpus: int | None = None
    memory_mib: int | None = None
    disk_gib: int | None = None
    accel: str | None = None
    #: host folders shared into the VM at the same path; None: the home folder (share.py)
    shares: tuple[str, ...] | None = None
    #: a swap file on the VM's data disk, in MiB (0: none); None: DEFAULT_SWAP_MIB
    swap_mib: int | None = None
    #: how the host reaches the engine's API (choice.API_MODES); None: this OS's default
    api: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "vm.json") -> VMSettings:
        def number(key: str, low: int, high: int) -> int | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise LifecycleError(
                    f"{source}: {key!r} must be a whole number from {low} to {high}, "
                    f"not {value!r}. Fix it or remove the key to use the default."
                )
            return value

        accel = data.get("accel")
        if accel is not None and accel not in ACCELS:
            raise LifecycleError(
                f"{source}: 'accel' must be one of {', '.join(ACCELS)}, not {accel!r}. "
                "Remove it to let Portside choose."
            )
        api = data.get("api")
        if api is not None and api not in API_MODES:
            raise LifecycleError(
                f"{source}: 'api' must be one of {', '.join(API_MODES)}, not {api!r}. "
                "Remove it to use this system's default."
            )
        shares = data.get("shares")
        if shares is not None and (
            not isinstance(shares, list)
            or not all(isinstance(p, str) and os.path.isabs(p) for p in shares)
        ):
            raise LifecycleError(
                f"{source}: 'shares' must be a list of absolute folder paths, not {shares!r}. "
                "Remove it to share your home folder."
            )
        return cls(
            shares=tuple(shares) if shares is not None else None,
            cpus=number("cpus", 1, 256),
            memory_mib=number("memory_mib", 512, 1024 * 1024),
            disk_gib=number("disk_gib", 8, 64 * 1024),
            swap_mib=number("swap_mib", 0, 64 * 1024),
            accel=accel,
            api=api,
        )

    @classmethod
    def load(cls, path: Path) -> VMSettings:
        """Read ``vm.json``; a missing file means all defaults."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            raise LifecycleError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LifecycleError(
                f"{path} is not valid JSON ({exc}). Fix it, or delete it to use the defaults."
            ) from exc
        if not isinstance(data, dict):
            raise LifecycleError(f'{path} must hold a JSON object like {{"cpus": 2}}.')
        return cls.from_dict(data, str(path))


MIB = 1024 * 1024
GIB_MIB = 1024
#: Defaults: half the host's CPUs (at least 2 where it has them, at most 8), 2 GiB of memory (at
#: most a quarter of the host's), a 64 GiB data disk (sparse: it takes only what is written).
DEFAULT_MEMORY_MIB = 2048
MIN_MEMORY_MIB = 512
DEFAULT_DISK_GIB = 64
#: 1 GiB of swap (a file on the data disk, made by the guest's init), as Docker Desktop gives
DEFAULT_SWAP_MIB = 1024


@dataclass(frozen=True)
class Resources:
    """What the VM gets, with notes on any setting that had to be lowered to fit the host."""

    cpus: int
    memory_mib: int
    disk_gib: int
    notes: tuple[str, ...] = ()
    swap_mib: int = 0


def host_memory_bytes() -> int | None:
    """The host's RAM, or None when this OS does not say (POSIX sysconf; Windows API)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [
                ("length", ctypes.c_ulong),
                ("load", ctypes.c_ulong),
                ("total", ctypes.c_ulonglong),
                ("rest", ctypes.c_ulonglong * 6),
            ]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.total)
        return None
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def resolve_resources(
    settings: VMSettings, host_cpus: int | None, host_memory: int | None
) -> Resources:
    """The VM's CPUs, memory and disk: the settings, else defaults, bounded by the host."""
    notes = []
    cpus_max = max(1, host_cpus or 1)
    # at least 2 where the host has them: under TCG a second vCPU runs containerd, sshd and the
    # module loading beside dockerd (ready 8.6-10.4 s instead of 13.3-16.2 s on a 2-core host)
    default_cpus = min(cpus_max, max(2, min(8, cpus_max // 2)))
    cpus = settings.cpus if settings.cpus is not None else default_cpus
    if cpus > cpus_max:
        notes.append(f"vm.json asks for {cpus} CPUs; this host has {cpus_max}, so the VM gets them")
        cpus = cpus_max
    ram_mib = host_memory // MIB if host_memory else None
    if settings.memory_mib is not None:
        memory = settings.memory_mib
        if ram_mib is not None and memory > ram_mib - 512:
            fit = max(MIN_MEMORY_MIB, ram_mib - 512)
            notes.append(
                f"vm.json asks for {memory} MiB of memory; this host has {ram_mib} MiB, so the "
                f"VM gets {fit} MiB"
            )
            memory = fit
    else:
        memory = DEFAULT_MEMORY_MIB
        if ram_mib is not None:
            memory = max(MIN_MEMORY_MIB, min(memory, ram_mib // 4))
    disk = settings.disk_gib if settings.disk_gib is not None else DEFAULT_DISK_GIB
    swap = settings.swap_mib if settings.swap_mib is not None else DEFAULT_SWAP_MIB
    if swap > disk * GIB_MIB // 4:  # the swap file lives on the data disk
        fit = disk * GIB_MIB // 4
        notes.append(f"vm.json asks for {swap} MiB of swap; on a {disk} GiB data disk the VM "
                     f"gets {fit} MiB")
        swap = fit
    return Resources(cpus, memory, disk, tuple(notes), swap)
