"""The docker CLI next to Portside: a ``portside`` context, the current context, the helper.

For the settings window's CLI tab, the wizard's CLI step (``app/cli_integration.py``) and
``portside context`` (``engine/context_cli.py``). Everything is short and blocking; the GUI
runs it through ``asyncio.to_thread``::

    install_context(endpoint)  docker CLI on PATH? ─ yes: `docker context create|update portside`
                                                   └ no:  engine.docker_contexts.write_context
    use_context()              config.json currentContext → "portside"; the previous one is
                               remembered in <config_dir>/docker-context.json (keyed by the
                               config file's real path)
    undo_use()                 the remembered context put back (only if "portside" is still set)
    status(endpoint)           the facts for the panel: context, current, CLI, socket, helper

``config.json`` is edited by :mod:`engine.credentials.dockerconfig`'s own reader, backup and
atomic writer, under its lock (so a credsStore switch and a context switch never interleave):
every unknown key is kept, a corrupt file raises :class:`~engine.errors.DockerConfigError` and
is left byte for byte. ``/var/run/docker.sock`` is only ever reported (who owns it, does it
answer), never replaced.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import docker_contexts
from engine.credentials import dockerconfig
from engine.credentials.dockerconfig import (  # the one config.json editor, shared on purpose
    _backup,
    _lock,
    _target,
    _write_config,
)
from engine.credentials.dockerconfig import _read_state as _read_json_state
from engine.credentials.dockerconfig import _write_state as _write_json_state
from engine.endpoint import TLSConfig
from engine.engines.export import write_with_tls
from engine.engines.sources import tls_dir
from engine.errors import CredentialsError, PortsideError
from engine.probes import DEFAULT_SOCKET, ping, socket_owner

CONTEXT_NAME = "portside"
DESCRIPTION = "Portside's engine"
STATE_NAME = "docker-context.json"
CLI_TIMEOUT_S = 15.0


class CliIntegrationError(PortsideError):
    """The docker context could not be created or switched; the message says what to do."""


@dataclass(frozen=True)
class Change:
    """What one action did: ``changed`` anything, a sentence, the backup written (if any)."""

    changed: bool
    message: str
    backup: Path | None = None


@dataclass(frozen=True)
class Status:
    """The docker CLI's view of Portside, as facts.

    Attributes:
        endpoint: Portside's engine endpoint the context should point at.
        context_host: where the ``portside`` context points now ("" when it does not exist).
        current: the ``currentContext`` of config.json ("default" when unset); ``env_context``
            is ``DOCKER_CONTEXT`` and ``env_host`` ``DOCKER_HOST`` when set (either overrides
            ``current`` in this environment; see :attr:`override`).
        previous: the context :func:`undo_use` would put back (None: nothing remembered).
        docker_cli: the docker CLI found on PATH, its ``version`` ("" when none).
        config_error: why config.json cannot be read ("" when it can).
        socket: who owns ``/var/run/docker.sock`` and whether it answers ("" when absent).
    """

    endpoint: str
    context_host: str
    current: str
    env_context: str
    env_host: str
    previous: str | None
    docker_cli: str
    version: str
    config_error: str
    socket: str

    @property
    def context_ok(self) -> bool:
        return bool(self.context_host) and self.context_host == self.endpoint

    @property
    def is_current(self) -> bool:
        return self.current == CONTEXT_NAME

    @property
    def override(self) -> str:
        """Why plain ``docker`` ignores ``currentContext`` here ("" when it does not).

        The docker CLI takes ``--context``, then ``DOCKER_CONTEXT``, then ``DOCKER_HOST`` (as the
        "default" context), and only then ``currentContext``.
        """
        if self.env_context:
            return f"DOCKER_CONTEXT={self.env_context} overrides it in this environment."
        if self.env_host:
            return f"DOCKER_HOST={self.env_host} overrides it in this environment."
        return ""

    def to_json(self) -> dict[str, Any]:
        facts = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {**facts, "context_ok": self.context_ok, "is_current": self.is_current,
                "override": self.override}


def portside_endpoint(kind: str = "auto", home: str | None = None) -> str:
    """The endpoint of Portside's own engine (native or VM; both use the same socket layout)."""
    from engine.lifecycle.paths import EnginePaths
    from engine.vm.choice import engine_kind

    if engine_kind(kind)[0] == "vm":
        from engine.vm import api
        from engine.vm.layout import VMPaths

        vm = VMPaths.default(home)
        return api.endpoint_url(vm, api.configured_mode(vm))
    return (EnginePaths.at(home) if home else EnginePaths.default()).endpoint


def find_docker_cli() -> str:
    """The ``docker`` the user's PATH finds, "" when none."""
    return shutil.which("docker") or ""


def docker_version(cli: str) -> str:
    """``docker --version``'s version ("28.2.2"), or "" when it cannot tell."""
    try:
        out = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=5,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    words = out.replace(",", " ").split()
    return words[2] if len(words) > 2 and words[:2] == ["Docker", "version"] else out.strip()


def socket_report(path: str = DEFAULT_SOCKET) -> str:
    """``/var/run/docker.sock``: who owns it, does it answer. Portside never takes it over."""
    if not os.path.exists(path):
        return ""
    ok, what = ping(f"unix://{path}")
    return f"{path} {what}; owned by {socket_owner(path)}" + ("" if ok else " (not used)")


# -- the context -----------------------------------------------------------------------------------


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else dockerconfig.docker_config_dir()


def _run_cli(cli: str, args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DOCKER_CONFIG=str(folder))
    env.pop("DOCKER_CONTEXT", None)  # `docker context` commands must see config.json only
    try:
        return subprocess.run([cli, *args], capture_output=True, text=True, env=env,
                              timeout=CLI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CliIntegrationError(f"Could not run {cli}: {exc}") from exc


def install_context(endpoint: str, folder: str | Path | None = None,
                    cli: str | None = None, tls: TLSConfig | None = None) -> Change:
    """Create (or point at ``endpoint``) the docker context ``portside``; ``tls``: the client
    certificate files a ``tcp://`` endpoint needs (the VM's ``tls`` API mode).

    With a docker CLI on PATH (``cli``, default: found on PATH) the CLI itself does it
    (``docker context create|update``), so the store is exactly what that CLI expects; without
    one, ``meta.json`` is written in the CLI's format (engine.docker_contexts).

    Raises:
        DockerConfigError: config.json is corrupt (the CLI refuses to run with it too).
        CliIntegrationError: the CLI refused, or the store cannot be written.
    """
    where = _folder(folder)
    dockerconfig.read_config(dockerconfig.config_path(where))  # corrupt: say so, touch nothing
    existing = docker_contexts.find_context(CONTEXT_NAME, where)
    if existing is not None and existing.host == endpoint and _same_tls(tls, where):
        return Change(False, f"The docker context “{CONTEXT_NAME}” already points at {endpoint}.")
    cli = find_docker_cli() if cli is None else cli
    verb = "update" if existing is not None else "create"
    if cli:
        done = _run_cli(cli, ["context", verb, CONTEXT_NAME, "--description", DESCRIPTION,
                              "--docker", _docker_option(endpoint, tls)], where)
        if done.returncode != 0:
            raise CliIntegrationError(
                f"`docker context {verb} {CONTEXT_NAME}` failed: "
                f"{(done.stderr or done.stdout).strip()}. Check {where} and try again.")
        how = f"with {cli}"
    else:
        try:
            meta = write_with_tls(CONTEXT_NAME, endpoint, DESCRIPTION, tls, where)
        except OSError as exc:
            raise CliIntegrationError(
                f"Cannot write the docker context into {docker_contexts.store_dir(where)}: "
                f"{exc.strerror or exc}. Check that you may write to that folder.") from exc
        how = f"in {meta} (no docker CLI on PATH)"
    verb_done = "Pointed" if existing is not None else "Created"
    return Change(True, f"{verb_done} the docker context “{CONTEXT_NAME}” at {endpoint} {how}. "
                        f"Try: docker --context {CONTEXT_NAME} ps")


def _docker_option(endpoint: str, tls: TLSConfig | None) -> str:
    """``--docker``'s value: ``host=…`` and the TLS files (CSV, as the docker CLI parses it)."""
    fields = [f"host={endpoint}"]
    if tls is not None:
        fields += [f"{key}={path}" for key, path in (
            ("ca", tls.ca_cert), ("cert", tls.client_cert), ("key", tls.client_key)) if path]
        if not tls.verify:
            fields.append("skip-tls-verify=true")
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _same_tls(tls: TLSConfig | None, where: Path) -> bool:
    """Whether the context's TLS files are ``tls``'s (a remade certificate needs an update)."""
    if tls is None:
        return True
    stored = tls_dir(CONTEXT_NAME, where)
    for path, name in ((tls.ca_cert, "ca.pem"), (tls.client_cert, "cert.pem"),
                       (tls.client_key, "key.pem")):
        try:
            if path is not None and path.read_bytes() != (stored / name).read_bytes():
                return False
        except OSError:
            return False
    return True


def portside_tls(kind: str = "auto", home: str | None = None) -> TLSConfig | None:
    """The client certificate files of Portside's own engine: the VM's in its ``tls`` API mode,
    else None (a unix socket needs none)."""
    from engine.vm.choice import engine_kind

    if engine_kind(kind)[0] != "vm":
        return None
    from engine.vm import api
    from engine.vm.layout import VMPaths

    vm = VMPaths.default(home)
    return api.client_tls(vm) if api.configured_mode(vm) == "tls" else None


def remove_context(folder: str | Path | None = None) -> Change:
    """Delete the ``portside`` context (first undoing :func:`use_context` if it is current)."""
    where = _folder(folder)
    undone = undo_use(where)
    meta_dir = docker_contexts.context_dir(CONTEXT_NAME, where)
    if not meta_dir.exists():
        return Change(undone.changed, f"There is no docker context “{CONTEXT_NAME}”.",
                      undone.backup)
    shutil.rmtree(meta_dir)
    tls = where / "contexts" / "tls" / meta_dir.name
    shutil.rmtree(tls, ignore_errors=True)
    return Change(True, f"Removed the docker context “{CONTEXT_NAME}”.", undone.backup)


# -- the current context -------------------------------------------------------------------------


def _read_state() -> dict[str, Any]:
    return _read_json_state(STATE_NAME, "which docker context was current before Portside's")


def _write_state(state: dict[str, Any]) -> None:
    _write_json_state(state, STATE_NAME)


def remembered_context(folder: str | Path | None = None) -> str | None:
    """The context :func:`undo_use` would put back, or None."""
    entry = _read_state().get(str(_target(dockerconfig.config_path(_folder(folder)))))
    value = entry.get("previous_context") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None


def use_context(folder: str | Path | None = None) -> Change:
    """Make ``portside`` the docker CLI's current context; remember the one it replaces.

    Raises:
        DockerConfigError: config.json is corrupt (left untouched).
        CliIntegrationError: the ``portside`` context does not exist yet.
    """
    where = _folder(folder)
    path = dockerconfig.config_path(where)
    dockerconfig.read_config(path)  # a corrupt file is the first thing to fix
    if docker_contexts.find_context(CONTEXT_NAME, where) is None:
        raise CliIntegrationError(f"There is no docker context “{CONTEXT_NAME}” yet: create "
                                  "it first (`portside context install`).")
    with _lock():
        data = dockerconfig.read_config(path)
        before = data.get("currentContext")
        previous = before if isinstance(before, str) and before else docker_contexts.DEFAULT_CONTEXT
        if previous == CONTEXT_NAME:
            return Change(False, f"“{CONTEXT_NAME}” is already the current docker context.")
        backup = _backup(path, data)
        data["currentContext"] = CONTEXT_NAME
        target = _write_config(path, data)
        state = _read_state()
        state[str(target)] = {"previous_context": previous}
        _write_state(state)
    note = ""
    if os.environ.get("DOCKER_CONTEXT"):
        note = f" (DOCKER_CONTEXT={os.environ['DOCKER_CONTEXT']} still overrides it in this shell)"
    return Change(True, f"The docker CLI now uses “{CONTEXT_NAME}” (was “{previous}”){note}. "
                        "Undo puts it back.", backup)


def undo_use(folder: str | Path | None = None) -> Change:
    """Put back the context :func:`use_context` replaced, if ``portside`` is still current."""
    where = _folder(folder)
    path = dockerconfig.config_path(where)
    with _lock():
        data = dockerconfig.read_config(path)
        target = _target(path)
        state = _read_state()
        entry = state.get(str(target))
        previous = entry.get("previous_context") if isinstance(entry, dict) else None
        if data.get("currentContext") != CONTEXT_NAME:
            if entry is not None:  # someone switched away since: forget, change nothing
                state.pop(str(target), None)
                _write_state(state)
            current = data.get("currentContext") or docker_contexts.DEFAULT_CONTEXT
            return Change(False, f"The current docker context is “{current}”, not "
                                 f"“{CONTEXT_NAME}”; nothing to undo.")
        backup = _backup(path, data)
        if isinstance(previous, str) and previous != docker_contexts.DEFAULT_CONTEXT:
            data["currentContext"] = previous
        else:
            data.pop("currentContext", None)
            previous = docker_contexts.DEFAULT_CONTEXT
        _write_config(path, data)
        state.pop(str(target), None)
        _write_state(state)
    return Change(True, f"The docker CLI uses “{previous}” again.", backup)


# -- status ----------------------------------------------------------------------------------------


def status(endpoint: str, folder: str | Path | None = None, *, probe_cli: bool = True) -> Status:
    """The facts the panel and ``portside context status`` show; never raises on bad files."""
    where = _folder(folder)
    ctx = docker_contexts.find_context(CONTEXT_NAME, where)
    config_error = ""
    try:
        current = docker_contexts.configured_context(where)
    except CredentialsError as exc:
        current, config_error = "?", str(exc)
    try:
        previous = remembered_context(where)
    except CredentialsError as exc:
        previous, config_error = None, config_error or str(exc)
    cli = find_docker_cli()
    return Status(
        endpoint=endpoint,
        context_host=ctx.host if ctx else "",
        current=current,
        env_context=os.environ.get("DOCKER_CONTEXT", "").strip(),
        env_host=os.environ.get("DOCKER_HOST", "").strip(),
        previous=previous,
        docker_cli=cli,
        version=docker_version(cli) if cli and probe_cli else "",
        config_error=config_error,
        socket=socket_report(),
    )
