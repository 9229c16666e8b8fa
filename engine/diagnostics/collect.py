"""What goes into a diagnostics bundle, read from the paths it is given (no Qt, no ``app``).

:class:`Sources` names every place a bundle reads: the settings file (``app.settings`` knows its
path and passes it in), the native engine's and the VM's folders, the docker CLI's config folder,
the app's own log and the endpoint of the engine in use. :func:`collect` turns them into a list of
:class:`Member` (name in the zip, raw content, what it is) — raw: the bundle writer redacts every
member in one place (``engine.diagnostics.redact.redact_member``). Nothing here raises for a
missing or unreadable source; a member says what could not be read instead.

The engine's ``/version`` is asked with a 3 s timeout (``asyncio.run``: callers run ``collect``
on a worker thread, never on a running event loop); the docker CLI runs with 10 s timeouts.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import __version__
from engine.lifecycle.paths import EnginePaths

#: Logs are cut to their last this-many bytes (a rotated engine.log holds up to 10 MiB).
LOG_LIMIT = 2 * 1024 * 1024
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Member:
    """One file of the bundle: its name in the zip, its raw (unredacted) content, a description."""

    name: str
    data: bytes
    what: str


@dataclass(frozen=True)
class Sources:
    """Where the bundle reads from. ``None`` (or a missing file) leaves that part out, saying so."""

    settings_file: Path | None
    engine_paths: EnginePaths | None
    vm_root: Path | None = None
    docker_config_dir: Path | None = None
    app_log: Path | None = None
    endpoint: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    #: what the app knows at the moment (engine state and its detail, connection): the GUI's
    #: view of a problem, which the files alone do not show ("stuck on Starting")
    app_state: dict[str, Any] | None = None

    @classmethod
    def default(
        cls, settings_file: Path | None, *, home: str | Path | None = None,
        endpoint: str | None = None, app_log: Path | None = None,
    ) -> Sources:
        """This user's sources (``$PORTSIDE_HOME``/``home``, ``$DOCKER_CONFIG`` or ~/.docker)."""
        from engine.credentials.dockerconfig import docker_config_dir

        paths = EnginePaths.at(home) if home else EnginePaths.default()
        return cls(
            settings_file=settings_file,
            engine_paths=paths,
            vm_root=paths.root / "vm",
            docker_config_dir=docker_config_dir(),
            app_log=app_log,
            endpoint=endpoint or paths.endpoint,
        )


def read_tail(path: Path, limit: int = LOG_LIMIT) -> bytes:
    """The last ``limit`` bytes of ``path``, starting at a line, with a note when cut."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size <= limit:
            handle.seek(0)
            return handle.read()
        handle.seek(size - limit)
        data = handle.read()
    cut = data.find(b"\n") + 1
    return f"[portside: the first {size - limit + cut} bytes are left out]\n".encode() + data[cut:]


def _file(name: str, path: Path | None, what: str, *, log: bool = False) -> Member:
    if path is None:
        return Member(name, b"(not configured)\n", what)
    try:
        data = read_tail(path) if log else path.read_bytes()
    except FileNotFoundError:
        return Member(name, f"(not present: {path})\n".encode(), what)
    except OSError as exc:
        return Member(name, f"(could not read {path}: {exc.strerror or exc})\n".encode(), what)
    return Member(name, data, f"{what} ({path})")


def _run(argv: list[str], env: dict[str, str], timeout: float = 10) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"$ {' '.join(argv)}\n(no answer within {timeout:g} s)\n"
    except OSError as exc:
        return f"$ {' '.join(argv)}\n(could not run: {exc.strerror or exc})\n"
    return f"$ {' '.join(argv)}\n(exit {done.returncode})\n{done.stdout}{done.stderr}"


def _package_version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _os_release() -> dict[str, str]:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("PRETTY_NAME", "ID", "VERSION_ID"):
            out[key] = value.strip().strip('"')
    return out


async def _engine_version(endpoint: str) -> dict[str, Any]:
    from engine.client import EngineClient

    async with EngineClient(endpoint, timeout=3) as client:
        version = await client.version()
    raw = getattr(version, "raw", None)
    return dict(raw) if isinstance(raw, dict) else {"Version": version.version}


def engine_version(endpoint: str | None) -> dict[str, Any]:
    """The engine's ``/version`` answer, or ``{"error": …}`` when it cannot be reached."""
    if not endpoint:
        return {"error": "no engine endpoint"}
    try:
        return asyncio.run(_engine_version(endpoint))
    except Exception as exc:  # unreachable/stopped engine: the bundle says so
        return {"endpoint": endpoint, "error": f"{type(exc).__name__}: {exc}"}


def versions(sources: Sources) -> dict[str, Any]:
    """Portside, Python, Qt (package metadata only: no Qt import), OS, kernel, engine."""
    uname = platform.uname()
    dockerd = None
    try:
        from engine.lifecycle.programs import find_program

        dockerd = find_program("dockerd")
    except ImportError:  # no pwd module (Windows)
        pass
    return {
        "portside": __version__,
        "python": sys.version,
        "python_executable": sys.executable,
        "qt": {
            "PySide6": _package_version("PySide6-Essentials", "PySide6"),
            "qasync": _package_version("qasync"),
            "httpx": _package_version("httpx"),
        },
        "os": {
            "system": uname.system,
            "release": uname.release,
            "version": uname.version,
            "machine": uname.machine,
            **_os_release(),
        },
        "dockerd": dockerd,
        "engine_endpoint": sources.endpoint,
        "engine": engine_version(sources.endpoint),
    }


def checks() -> tuple[list[dict[str, Any]], str]:
    """``engine.doctor.run_checks()`` (and existing engines) as JSON rows and as text."""
    try:
        from engine import doctor
    except ImportError as exc:
        return [], f"(system checks unavailable: {exc})\n"
    rows: list[dict[str, Any]] = []
    lines = []
    try:
        found = doctor.run_checks()
    except Exception as exc:  # run_checks promises not to raise; the bundle must still build
        return [], f"(system checks failed: {type(exc).__name__}: {exc})\n"
    for check in found:
        row = check.to_json()
        rows.append(row)
        mark = "ok  " if row["ok"] else ("FAIL" if row["blocking"] else "warn")
        lines.append(f"[{mark}] {row['title']}: {row['detail']}")
        if not row["ok"] and row["fix"]:
            lines.append(f"       fix: {row['fix']}")
    lines += ["", "Engines already on this machine:"]
    try:
        engines = doctor.existing_engines()
    except Exception as exc:  # the bundle must build whatever a probe does
        engines = []
        lines.append(f"  (could not look: {type(exc).__name__}: {exc})")
    for engine in engines:
        rows.append({"existing_engine": engine.to_json()})
        state = {True: "answers", False: "does not answer", None: "not probed"}[engine.reachable]
        current = ", current" if engine.current else ""
        lines.append(f"  {engine.source} {engine.name}: {engine.endpoint} ({state}{current})")
    if not engines:
        lines.append("  (none)")
    return rows, "\n".join(lines) + "\n"


def docker_cli(sources: Sources) -> str:
    """``docker --version``, ``docker context ls`` and ``docker version`` as this user sees them."""
    docker = shutil.which("docker")
    if docker is None:
        return "(no docker CLI on PATH)\n"
    env = dict(os.environ)
    if sources.docker_config_dir is not None:
        env["DOCKER_CONFIG"] = str(sources.docker_config_dir)
    env.update(sources.extra_env)
    return "\n".join(
        _run([docker, *args], env) for args in (["--version"], ["context", "ls"], ["version"])
    )


def collect(sources: Sources, progress: Progress | None = None) -> list[Member]:
    """Every member of the bundle, raw (the writer redacts them all)."""
    step = progress or (lambda _text: None)
    members: list[Member] = []
    step("Versions (Portside, Python, Qt, OS, engine)")
    members.append(
        Member("versions.json", json.dumps(versions(sources), indent=2).encode(),
               "Portside, Python, Qt, OS and kernel, the engine's /version")
    )
    step("Docker CLI")
    members.append(Member("docker/cli.txt", docker_cli(sources).encode(),
                          "docker --version, docker context ls, docker version"))
    step("System checks")
    rows, text = checks()
    members.append(Member("checks.json", json.dumps(rows, indent=2).encode(),
                          "the system checks (portside doctor)"))
    members.append(Member("checks.txt", text.encode(), "the system checks, as text"))
    step("Settings")
    members.append(_file("settings.json", sources.settings_file, "Portside's settings"))
    step("Engine log and configuration")
    paths = sources.engine_paths
    root = paths.root if paths is not None else None
    members += [
        _file("engine/daemon.json", paths.daemon_json if paths else None,
              "the engine's daemon.json"),
        _file("engine/proxies.json", root / "proxies.json" if root else None,
              "the engine's proxies (Settings > Proxies)"),
        _file("engine/state.json", paths.state_file if paths else None,
              "the engine's last state"),
        _file("engine/engine.log", paths.log_file if paths else None, "the engine log", log=True),
        _file("engine/supervisor.log", root / "supervisor.log" if root else None,
              "the headless engine supervisor's log", log=True),
    ]
    step("VM")
    vm = sources.vm_root
    if vm is not None and vm.is_dir():
        members += [
            _file("vm/vm.json", vm / "vm.json", "the VM's settings"),
            _file("vm/state.json", vm / "state.json", "the VM's last state"),
            _file("vm/console.log", vm / "engine.log", "the VM's console and QEMU log", log=True),
            _file("vm/daemon.json", vm / "daemon.json", "the VM engine's daemon.json"),
            _file("vm/proxies.json", vm / "proxies.json", "the VM engine's proxies"),
        ]
    step("Docker CLI configuration")
    config = sources.docker_config_dir
    members.append(_file("docker/config.json", config / "config.json" if config else None,
                         "the docker CLI's config.json (auths secrets removed)"))
    if sources.app_state is not None:
        members.append(Member("app/state.json", json.dumps(sources.app_state, indent=2).encode(),
                              "the app's engine state and connection when the bundle was made"))
    if sources.app_log is not None:
        step("App log")
        members.append(_file("app/portside.log", sources.app_log, "the app's log", log=True))
    return members
