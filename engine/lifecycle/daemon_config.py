"""``daemon.json``: checks as the user types, and "Apply & restart" with automatic roll-back.

No Qt: the Settings window's Engine tab calls :func:`check` on every edit and runs
:func:`apply_and_restart` on the app's runner; tests call both headless against a real engine.

Checks (:func:`check`) are pure: the text is parsed (errors carry line and column), keys dockerd
20.10+ knows are type-checked (lists of strings, booleans, whole numbers, ``log-level`` values,
``log-opts`` strings...), keys Portside passes on dockerd's command line (``hosts``,
``data-root``...) are errors because dockerd refuses a directive given both ways, and unknown
keys are warnings, never refusals (dockerd has more keys than this table, and newer ones).

Apply (:func:`apply_and_restart`)::

    text --check--> errors? -> LifecycleError (nothing written)
         previous bytes --copy--> daemon.json.before-apply
         new text --atomic write, old kept as daemon.json.bak--> daemon.json
         engine.stop(); engine.start()
            ok     -> ApplyResult(ok=True)
            fails  -> previous bytes written back (atomically), engine.start() again
                      -> ApplyResult(ok=False, rolled_back=True, error=dockerd's words, log tail)

The new file is written exactly as typed (no re-serialisation: the user's order and comments-free
formatting stay); a missing previous file is rolled back by deleting the new one.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import LifecycleError
from engine.lifecycle.base import Engine, EngineState

log = logging.getLogger(__name__)

_STR_LIST = "a list of strings"
_BOOL = "true or false"
_INT = "a whole number"
_STR = "a string"
_OBJ = "an object"
_STR_MAP = "an object of strings"

#: key -> what its value must be (dockerd 20.10's daemon.json; see `dockerd --help`)
KNOWN_KEYS: dict[str, str] = {
    "registry-mirrors": _STR_LIST,
    "insecure-registries": _STR_LIST,
    "allow-nondistributable-artifacts": _STR_LIST,
    "dns": _STR_LIST,
    "dns-opts": _STR_LIST,
    "dns-search": _STR_LIST,
    "labels": _STR_LIST,
    "exec-opts": _STR_LIST,
    "storage-opts": _STR_LIST,
    "log-driver": _STR,
    "log-level": _STR,
    "log-opts": _STR_MAP,
    "storage-driver": _STR,
    "bridge": _STR,
    "bip": _STR,
    "fixed-cidr": _STR,
    "fixed-cidr-v6": _STR,
    "default-gateway": _STR,
    "default-runtime": _STR,
    "cgroup-parent": _STR,
    "exec-root-opts": _STR_LIST,
    "ip": _STR,
    "userns-remap": _STR,
    "seccomp-profile": _STR,
    "default-cgroupns-mode": _STR,
    "default-ipc-mode": _STR,
    "debug": _BOOL,
    "experimental": _BOOL,
    "live-restore": _BOOL,
    "iptables": _BOOL,
    "ip6tables": _BOOL,
    "ip-forward": _BOOL,
    "ip-masq": _BOOL,
    "ipv6": _BOOL,
    "icc": _BOOL,
    "init": _BOOL,
    "userland-proxy": _BOOL,
    "no-new-privileges": _BOOL,
    "selinux-enabled": _BOOL,
    "raw-logs": _BOOL,
    "mtu": _INT,
    "max-concurrent-downloads": _INT,
    "max-concurrent-uploads": _INT,
    "max-download-attempts": _INT,
    "shutdown-timeout": _INT,
    "default-shm-size": _STR,
    "features": _OBJ,
    "builder": _OBJ,
    "runtimes": _OBJ,
    "default-ulimits": _OBJ,
    "default-address-pools": "a list of objects like {\"base\": \"10.10.0.0/16\", \"size\": 24}",
    "metrics-addr": _STR,
    "containerd": _STR,
    "authorization-plugins": _STR_LIST,
}

#: keys Portside gives dockerd as flags: dockerd refuses a directive set both ways
FLAG_KEYS = {
    "hosts": "Portside sets the engine's socket itself (--host)",
    "data-root": "Portside keeps the engine's data in its engine folder (PORTSIDE_HOME)",
    "exec-root": "Portside sets the engine's runtime folder itself (--exec-root)",
    "pidfile": "Portside sets the engine's pidfile itself (--pidfile)",
    "group": "Portside sets the socket's group itself (--group)",
}

LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check`: ``error`` blocks Apply, a warning does not."""

    message: str
    key: str = ""
    error: bool = True
    line: int = 0
    column: int = 0


@dataclass
class Report:
    """What :func:`check` found; ``config`` is the parsed object when the JSON is valid."""

    problems: list[Problem] = field(default_factory=list)
    config: dict[str, Any] | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.error]

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.errors


def _type_ok(kind: str, value: Any) -> bool:
    if kind == _STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STR:
        return isinstance(value, str)
    if kind == _OBJ:
        return isinstance(value, dict)
    if kind == _STR_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    # default-address-pools
    return isinstance(value, list) and all(
        isinstance(v, dict) and isinstance(v.get("base"), str) and isinstance(v.get("size"), int)
        for v in value
    )


def check(text: str) -> Report:
    """Parse and check a daemon.json text (pure, fast enough to run on every key press)."""
    report = Report()
    if not text.strip():
        report.config = {}
        return report
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        report.problems.append(
            Problem(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                    line=exc.lineno, column=exc.colno)
        )
        return report
    if not isinstance(data, dict):
        report.problems.append(
            Problem(f"daemon.json must be a JSON object ({{...}}), not a {type(data).__name__}")
        )
        return report
    report.config = data
    for key, value in data.items():
        if key in FLAG_KEYS:
            report.problems.append(
                Problem(f'"{key}": {FLAG_KEYS[key]}; remove this key.', key)
            )
            continue
        kind = KNOWN_KEYS.get(key)
        if kind is None:
            hint = " Set proxies in the Proxies tab instead." if key == "proxies" else ""
            report.problems.append(
                Problem(f'"{key}" is not a setting Portside knows; dockerd may refuse it.{hint}',
                        key, error=False)
            )
            continue
        if not _type_ok(kind, value):
            report.problems.append(
                Problem(f'"{key}" must be {kind}, not {json.dumps(value)[:60]}.', key)
            )
            continue
        if key == "log-level" and value not in LOG_LEVELS:
            report.problems.append(
                Problem(f'"log-level" must be one of {", ".join(LOG_LEVELS)}.', key)
            )
        if key in ("registry-mirrors",):
            for url in value:
                if not url.startswith(("http://", "https://")):
                    report.problems.append(
                        Problem(f'"{key}": {url!r} must start with https:// (or http://).', key)
                    )
    return report


@dataclass(frozen=True)
class ApplyResult:
    """How Apply & restart ended.

    Attributes:
        ok: the new file is in place and the engine runs with it.
        rolled_back: the engine refused the new file and the previous one was put back.
        error: dockerd's error (the start failure) when not ok.
        log_tail: the engine log's last lines of the failed start.
        running: the engine runs at the end (with the new file, or the previous one).
        restart_error: why the engine did not start again after the roll-back, if it did not.
    """

    ok: bool
    rolled_back: bool = False
    error: str = ""
    log_tail: str = ""
    running: bool = False
    restart_error: str = ""

    def message(self) -> str:
        if self.ok:
            return "Saved. The engine restarted with the new daemon.json."
        parts = [f"The engine did not start with the new daemon.json: {self.error}"]
        if self.rolled_back:
            parts.append(
                "The previous daemon.json was put back"
                + (" and the engine runs with it again." if self.running else ".")
            )
        if self.restart_error:
            parts.append(f"Starting the engine again failed too: {self.restart_error}")
        if self.log_tail:
            parts.append("Last lines of the engine log:\n" + self.log_tail)
        return "\n\n".join(parts)


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_with_backup(path: Path, text: str) -> bytes | None:
    """Write ``text`` atomically; the old file is kept as ``.bak`` and ``.before-apply``.

    Returns the previous bytes (None when there was no file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        previous: bytes | None = path.read_bytes()
    except FileNotFoundError:
        previous = None
    if previous is not None:
        _write_bytes_atomic(path.with_name(path.name + ".before-apply"), previous)
        _write_bytes_atomic(path.with_name(path.name + ".bak"), previous)
    data = text if text.endswith("\n") else text + "\n"
    _write_bytes_atomic(path, data.encode("utf-8"))
    return previous


def restore(path: Path, previous: bytes | None) -> None:
    """Put ``previous`` back (delete the file when there was none)."""
    if previous is None:
        path.unlink(missing_ok=True)
    else:
        _write_bytes_atomic(path, previous)
    path.with_name(path.name + ".before-apply").unlink(missing_ok=True)


def _failure_text(exc: BaseException) -> str:
    return str(exc).split("\n\nLast lines")[0].strip() or type(exc).__name__


# dockerd's fatal lines first; a plain error line only when there is no fatal one
_ERROR_MARKS = (
    ("unable to configure", "failed to start daemon", "level=fatal"),
    ("level=error",),
)


def dockerd_error(tail: str) -> str:
    """dockerd's own reason in a log tail (its last fatal, else error, line), or ""."""
    lines = tail.splitlines()
    for marks in _ERROR_MARKS:
        for line in reversed(lines):
            if any(mark in line for mark in marks):
                text = line.strip()
                # logrus: time="..." level=fatal msg="..." -> the msg part
                if 'msg="' in text:
                    text = text.split('msg="', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
                return text
    return ""


async def apply_and_restart(engine: Engine, path: Path, text: str) -> ApplyResult:
    """Write ``text`` to ``path`` (the engine's daemon.json) and restart ``engine`` with it.

    Raises LifecycleError (nothing written) when :func:`check` finds errors. A start that fails
    with the new file restores the previous one and starts the engine again.
    """
    report = check(text)
    if not report.ok:
        raise LifecycleError(
            "daemon.json was not saved: " + " ".join(p.message for p in report.errors)
        )
    previous = write_with_backup(path, text)
    log.info("daemon.json written to %s; restarting the engine", path)
    if engine.status.state is not EngineState.STOPPED:
        await engine.stop()
    try:
        await engine.start()
    except LifecycleError as exc:
        tail = getattr(exc, "log_tail", "") or _engine_tail(engine)
        error = dockerd_error(tail) or _failure_text(exc)
        log.warning("the engine refused the new daemon.json (%s); restoring the previous", error)
        restore(path, previous)
        restart_error = ""
        try:
            await engine.start()
        except LifecycleError as again:
            restart_error = _failure_text(again)
        return ApplyResult(
            ok=False,
            rolled_back=True,
            error=error,
            log_tail=tail,
            running=engine.status.state is EngineState.RUNNING,
            restart_error=restart_error,
        )
    path.with_name(path.name + ".before-apply").unlink(missing_ok=True)
    if previous is not None:
        # the engine may have completed the new file (its bridge) and so moved .bak along:
        # .bak is the file from before this apply, as the Engine tab promises
        _write_bytes_atomic(path.with_name(path.name + ".bak"), previous)
    return ApplyResult(ok=True, running=engine.status.state is EngineState.RUNNING)


def _engine_tail(engine: Engine) -> str:
    tail = getattr(engine, "log_tail", None)
    return str(tail()) if callable(tail) else ""


def read_text(path: Path) -> str:
    """The daemon.json text to edit ("{}" plus a newline when there is none yet)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "{\n}\n"
