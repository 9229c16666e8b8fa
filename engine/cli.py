"""``portside engine ...``: run Portside's own engine without the GUI.

Commands:
    start    start the engine in the background; prints its endpoint (``unix:///…/docker.sock``)
    stop     stop it; returns once no engine process and no mount is left
    status   running / stopped / failed (+ the log's last lines); exit 0 running, 1 failed,
             3 not running (stopped, starting or stopping)
    logs     print the engine log; ``--follow`` keeps printing new lines
    env      print ``export DOCKER_HOST=…`` for the engine

``--home DIR`` (or ``PORTSIDE_HOME``) relocates everything the engine writes.

The started engine lives in a small supervisor process (``engine.lifecycle.supervisor``) so it
keeps running after the CLI exits. The GUI runs the same :class:`NativeEngine` in-process.

Who owns an engine is decided by its lock (``engine.lock``, held by the supervisor or the app;
see ``engine.lifecycle.ownership``), never by a pid in ``state.json``: that file is believed only
when its ``owner_pid`` is the lock's holder. ``start`` and ``stop`` take ``start.lock`` in turn,
so a stop issued while a start is bringing the engine up waits for it and then stops it. ``stop``
always ends with the state file saying ``stopped``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import math
import os
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from engine.cli_stdout import run_command
from engine.errors import EngineAlreadyRunning, PortsideError
from engine.lifecycle import logfile, ownership, procs
from engine.lifecycle.native import NativeEngine, read_state
from engine.lifecycle.paths import HOME_ENV, EnginePaths
from engine.selfexec import module_command

EXIT_RUNNING = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3
#: What a shell reports for a process ended by SIGPIPE (the reader of its output went away).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
EXIT_INTERRUPTED = 128 + signal.SIGINT
SUPERVISOR_MODULE = "engine.lifecycle.supervisor"
#: supervisor.log (the supervisor's own few lines per run) is rotated at start once this big.
SUPERVISOR_LOG_MAX = 1024 * 1024


def _paths(args: argparse.Namespace) -> EnginePaths:
    if getattr(args, "vm", False):  # the VM's files: <home>/vm (engine/vm/layout.py)
        from engine.vm.layout import VMPaths

        paths = VMPaths.default(args.home).engine
    else:
        paths = EnginePaths.at(args.home) if args.home else EnginePaths.default()
    paths.check_root()
    return paths


def _seconds(text: str) -> float:
    """argparse type: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 (for example 60)"
        )
    return value


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _is_supervisor(pid: int) -> bool:
    return SUPERVISOR_MODULE in procs.cmdline(pid)


def _owner(paths: EnginePaths) -> ownership.Owner | None:
    """The live owner of the engine (found through its lock, never through a pid in a file)."""
    return ownership.owner(paths.lock_file)


def _owned_state(paths: EnginePaths, owner: ownership.Owner | None) -> dict[str, Any] | None:
    """The state file, if the live owner wrote it (a stale one may name any pid)."""
    state = read_state(paths)
    if owner is None or state is None or state.get("owner_pid") != owner.pid:
        return None
    return state


async def _engine_version(endpoint: str) -> str:
    from engine.client import EngineClient

    async with EngineClient(endpoint, timeout=5) as client:
        version = await client.version()
    return f"{version.version} (API {version.api_version})"


# -- start ---------------------------------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    paths = _paths(args)
    paths.ensure()
    # held until the supervisor answers, so a `stop` issued meanwhile stops what comes up
    with ownership.start_guard(paths.start_lock, args.timeout + 20):
        if _stop_issued_after_us(paths):
            _err("A `portside engine stop` was issued after this start; the engine stays stopped.")
            return EXIT_NOT_RUNNING
        owner = _owner(paths)
        if owner is not None:
            state = _owned_state(paths, owner) or {}
            if state.get("state") == "running":
                print(state["endpoint"])
                _err(f"The engine already runs (pid {state.get('pid')}).")
                return EXIT_RUNNING
            _err(
                f"The engine is {state.get('state', 'busy')} (owned by pid {owner.pid}); wait "
                "for it, or stop it with `portside engine stop`."
            )
            return EXIT_FAILED
        return _spawn_supervisor(args, paths)


def _spawn_supervisor(args: argparse.Namespace, paths: EnginePaths) -> int:
    argv = [*module_command(SUPERVISOR_MODULE), f"--start-timeout={args.timeout}"]
    if args.home:
        argv.append(f"--home={args.home}")
    if args.vm:
        argv.append("--vm")
    env = dict(os.environ)
    # the supervisor must import this very `engine` package, installed or not
    source_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    supervisor_log = paths.root / "supervisor.log"
    logfile.rotate_if_full(supervisor_log, SUPERVISOR_LOG_MAX)
    with logfile.open_private(supervisor_log) as errors:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            cwd="/",
            start_new_session=True,  # survives the CLI and its terminal
            close_fds=True,
        )
    assert proc.stdout is not None
    line = _read_line(proc.stdout.fileno(), args.timeout + 15)
    proc.stdout.close()
    if not line:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _err(
            "The engine supervisor gave no answer. Its log:\n"
            + logfile.tail(supervisor_log, 15)
            + "\n\nEngine log:\n"
            + logfile.tail(paths.log_file, 15)
        )
        return EXIT_FAILED
    result = json.loads(line)
    if result.get("state") != "running":
        _err(result.get("error") or "The engine failed to start.")
        return EXIT_FAILED
    print(result["endpoint"])
    _err(
        f"Engine running (pid {result.get('pid')}). Use it with: "
        f"export DOCKER_HOST={result['endpoint']}"
    )
    return EXIT_RUNNING


def _stop_issued_after_us(paths: EnginePaths) -> bool:
    """Whether a ``stop`` was issued after this ``start`` process was created.

    A stop typed right after a start can win the race for ``start.lock`` while the start is
    still loading Python; it then finds nothing to stop. The start must not bring the engine up
    after that, so each stop records when it was issued and a start launched before it yields.
    """
    try:
        issued = float(paths.stop_request.read_text().strip())
    except (OSError, ValueError):
        return False
    return issued > procs.started_at()


def _record_stop(paths: EnginePaths) -> None:
    try:
        fd = os.open(paths.stop_request, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{procs.started_at()!r}\n")
    except OSError as exc:  # a stop still stops; only a racing start could then come up
        _err(f"Could not record the stop in {paths.stop_request}: {exc.strerror or exc}")


def _read_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", "replace") if b"\n" in data else ""


# -- stop ----------------------------------------------------------------------------------------


def cmd_stop(args: argparse.Namespace) -> int:
    paths = _paths(args)
    if not paths.root.is_dir():
        print("not running")
        return 0
    # waits for a `portside engine start` in progress, then stops the engine it brought up
    with ownership.start_guard(paths.start_lock, args.timeout + 90):
        _record_stop(paths)
        owner = _owner(paths)
        before = read_state(paths) or {}
        orphan_ended = False
        if owner is not None:
            if owner.pid is None:
                _err(
                    f"The engine's lock ({paths.lock_file}) is held by a process Portside cannot "
                    "see (another user or container?); stop it there."
                )
                return EXIT_FAILED
            if not _is_supervisor(owner.pid):
                _err(
                    f"The engine belongs to the Portside app (pid {owner.pid}); quit the app or "
                    "stop the engine from its window."
                )
                return EXIT_FAILED
            os.kill(owner.pid, signal.SIGTERM)
            if not _wait_gone([owner.pid], args.timeout + 15):
                _err(f"The engine supervisor (pid {owner.pid}) did not stop in time; killing it.")
                os.kill(owner.pid, signal.SIGKILL)
                _wait_gone([owner.pid], 5)
        try:
            # ends an orphaned dockerd of this home (its pidfile's pid, verified by its command
            # line), cleans up, and records the engine as stopped
            if args.vm:
                from engine.vm.engine import VMEngine
                from engine.vm.layout import VMPaths

                VMEngine(VMPaths(paths)).cleanup_leftovers()
            else:
                orphan_ended = NativeEngine(paths).cleanup_leftovers()
        except EngineAlreadyRunning as exc:
            _err(str(exc))
            return EXIT_FAILED
    left = procs.mounts_under([paths.data_root, paths.exec_root])
    if left:
        _err("Stopped, but these mounts remain: " + ", ".join(left))
        return EXIT_FAILED
    was_up = owner is not None or orphan_ended or before.get("state") not in (None, "stopped")
    print("stopped" if was_up else "not running")
    return 0


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(procs.pid_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- status --------------------------------------------------------------------------------------


def engine_state(paths: EnginePaths) -> dict[str, Any]:
    """The engine's state from its state file, corrected by who holds the lock and what lives."""
    state = dict(read_state(paths) or {"state": "stopped", "endpoint": paths.endpoint})
    owner = _owner(paths)
    tail = f"Last lines of the engine log:\n{logfile.tail(paths.log_file, this_run=True)}"
    if owner is not None and state.get("owner_pid") != owner.pid:
        # the owner has not written its first state yet: it is starting
        state.update(state="starting", owner_pid=owner.pid, pid=None, detail="")
    elif owner is None and state.get("state") in ("running", "starting", "stopping"):
        state["state"] = "failed"
        state["detail"] = (
            f"The process that ran the engine (pid {state.get('owner_pid')}) is gone without "
            f"stopping it. `portside engine stop` cleans up.\n\n{tail}"
        )
    elif owner is not None and state.get("state") == "running":
        pid = state.get("pid")
        if (
            isinstance(pid, int)
            and not procs.is_dockerd_of(pid, paths.data_root)
            and not state.get("rootless")
            and not state.get("vm")  # its pid is QEMU's, watched by the VM's owner
        ):
            state["state"] = "failed"
            state["detail"] = f"dockerd (pid {pid}) is gone.\n\n{tail}"
    return state


def cmd_status(args: argparse.Namespace) -> int:
    paths = _paths(args)
    state = engine_state(paths)
    name = state.get("state", "stopped")
    if name == "running":
        try:
            state["version"] = asyncio.run(_engine_version(state["endpoint"]))
        except PortsideError as exc:
            state["state"], name = "failed", "failed"
            tail = logfile.tail(paths.log_file, this_run=True)
            state["detail"] = f"{exc}\n\nLast lines of the engine log:\n{tail}"
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        print(name)
        print(f"endpoint: {state.get('endpoint') or paths.endpoint}")
        if name == "running":
            print(f"pid: {state.get('pid')}")
            print(f"version: {state.get('version')}")
        if name == "failed" and state.get("detail"):
            print(state["detail"])
    if name == "running":
        return EXIT_RUNNING
    return EXIT_FAILED if name == "failed" else EXIT_NOT_RUNNING


# -- logs / env ----------------------------------------------------------------------------------


def cmd_logs(args: argparse.Namespace) -> int:
    paths = _paths(args)
    out = sys.stdout
    if not paths.log_file.exists() and not args.follow:
        _err(
            f"No engine log yet ({paths.log_file}); start the engine with `portside engine start`."
        )
        return EXIT_FAILED
    if args.tail is not None:
        text = logfile.tail(paths.log_file, args.tail)
        out.write(text + ("\n" if text else ""))
        position = paths.log_file.stat().st_size if paths.log_file.exists() else 0
    else:
        position = _copy_from(paths.log_file, 0, out)
    out.flush()
    if not args.follow:
        return 0
    try:
        _follow(paths.log_file, position, out)
    except KeyboardInterrupt:
        return 0
    return 0


def _copy_from(path: Path, position: int, out: TextIO) -> int:
    try:
        with open(path, "rb") as handle:
            handle.seek(position)
            data = handle.read()
    except FileNotFoundError:
        return 0
    out.write(data.decode("utf-8", "replace"))
    return position + len(data)


def _follow(path: Path, position: int, out: TextIO) -> None:
    inode = path.stat().st_ino if path.exists() else None
    while True:
        try:
            info = path.stat()
        except FileNotFoundError:
            time.sleep(0.2)
            continue
        if info.st_ino != inode or info.st_size < position:  # rotated or truncated
            inode, position = info.st_ino, 0
        if info.st_size > position:
            position = _copy_from(path, position, out)
            out.flush()
        time.sleep(0.2)


def cmd_env(args: argparse.Namespace) -> int:
    paths = _paths(args)
    if getattr(args, "vm", False):
        from engine.vm import api
        from engine.vm.layout import VMPaths

        vm = VMPaths(paths)
        mode = api.configured_mode(vm)
        print(f"export DOCKER_HOST={api.endpoint_url(vm, mode)}")
        if mode == "tls":  # the docker CLI's own variables for a mutual-TLS engine
            print(f"export DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH={shlex.quote(str(vm.tls_dir))}")
        return 0
    print(f"export DOCKER_HOST={paths.endpoint}")
    return 0


# -- entry point ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portside engine", description="Run Portside's own Docker engine without the GUI."
    )
    parser.add_argument("--home", help=f"engine folder (default: ${HOME_ENV} or a per-user one)")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start the engine in the background; prints its socket")
    start.add_argument(
        "--timeout", type=_seconds, default=60.0, help="seconds to wait (default 60)"
    )
    stop = sub.add_parser("stop", help="stop the engine and clean up")
    stop.add_argument("--timeout", type=_seconds, default=20.0, help="seconds before SIGKILL")
    status = sub.add_parser("status", help="running / stopped / failed; exit 0 / 3 / 1")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    logs = sub.add_parser("logs", help="print the engine log")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument("-n", "--tail", type=int, help="only the last N lines")
    sub.add_parser("env", help="print `export DOCKER_HOST=…` for this engine")
    for command in sub.choices.values():
        command.add_argument(
            "--vm", action="store_true", help="the Linux VM engine (QEMU) instead of the native one"
        )
    return parser


COMMANDS = {
    "start": cmd_start,
    "stop": cmd_stop,
    "status": cmd_status,
    "logs": cmd_logs,
    "env": cmd_env,
}


def main(argv: list[str]) -> int:
    """``portside engine <command>``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        # the reader may go away (`portside engine status | head -1`): it has what it wanted
        return run_command(lambda: COMMANDS[args.command](args), reader_gone=EXIT_BROKEN_PIPE)
    except KeyboardInterrupt:
        _err("Interrupted.")  # a started supervisor goes on and records how its start ended
        return EXIT_INTERRUPTED
    except PortsideError as exc:
        _err(str(exc))
        return EXIT_FAILED
    except OSError as exc:
        _err(_os_message(exc))
        return EXIT_FAILED


def _os_message(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"The disk is full{where}: {exc.strerror}. Free some space, or point --home (or "
            f"{HOME_ENV}) at a folder on another disk, then try again."
        )
    return f"{exc.strerror or exc}{where}. Check the engine folder (--home or {HOME_ENV})."


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
