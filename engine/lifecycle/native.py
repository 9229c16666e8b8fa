"""The engine Portside runs itself: a ``dockerd`` child process with per-user paths.

Start-up, in order: find dockerd (Portside's bundle folder first, then ``PATH``; see
``programs``), take the lock on the data root (one owner per engine; see ``ownership``), clean
what a crashed earlier run left (pidfile, socket, mounts, containerd and its shims), write/complete
``daemon.json``, with iptables on take the host-wide iptables lock and snapshot the shared chains
(see ``iptables``), create the engine's own bridge (as root), spawn dockerd with only the path
flags on its command line, wait for ``/_ping``, and put back other engines' rules dockerd flushed.
Stopping deletes the bridge and every iptables rule naming it or its subnet.

While it runs, a watcher thread notices dockerd's exit at once; an exit nobody asked for turns the
status FAILED with the log's last lines, and what dockerd left behind is cleaned up. dockerd's
output goes through a pipe into a size-rotated ``engine.log``.

Non-root users on Linux get rootless dockerd (``dockerd-rootless.sh`` + RootlessKit).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import grp
import ipaddress
import json
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from engine.errors import (
    EngineAlreadyRunning,
    EngineNotInstalled,
    EngineStartFailed,
    LifecycleError,
)
from engine.lifecycle import child, iptables, logfile, netconf, ownership, procs, proxies
from engine.lifecycle.base import Engine, EngineState, EngineStatus
from engine.lifecycle.jsonfiles import complete_daemon_config as complete_daemon_config
from engine.lifecycle.jsonfiles import read_state as read_state
from engine.lifecycle.jsonfiles import subnet_of
from engine.lifecycle.jsonfiles import write_json_atomic as write_json_atomic
from engine.lifecycle.paths import EnginePaths
from engine.lifecycle.programs import INSTALL_HINT as INSTALL_HINT
from engine.lifecycle.programs import ROOTLESS_SCRIPT_DIRS as ROOTLESS_SCRIPT_DIRS
from engine.lifecycle.programs import SYSTEM_DIRS as SYSTEM_DIRS
from engine.lifecycle.programs import TUN_DEVICE as TUN_DEVICE
from engine.lifecycle.programs import bundle_dirs as bundle_dirs
from engine.lifecycle.programs import find_program as find_program
from engine.lifecycle.programs import rootless_network_problem as rootless_network_problem
from engine.lifecycle.programs import rootless_requirements as rootless_requirements
from engine.lifecycle.programs import rootlesskit_errors as rootlesskit_errors

log = logging.getLogger(__name__)

#: Seconds between ``/_ping`` attempts while dockerd starts (a refused unix connect is cheap).
PING_INTERVAL = 0.02


class NativeEngine(Engine):
    """A dockerd Portside starts and owns (rootless for non-root users on Linux).

    Args:
        paths: where everything lives; default :meth:`EnginePaths.default`.
        dockerd: explicit dockerd path (skips the search).
        bridge: bridge name written to a new daemon.json (default ``pst`` + hash of the data root).
        subnet: bridge subnet for a new daemon.json (default: a free /24 of 10.200.0.0/13).
        start_timeout: seconds to wait for ``/_ping``.
        iptables: written as ``"iptables"`` into a *new* daemon.json when False (several engines
            on one host should not share iptables chains).
        owner: recorded in the state file ("app", "supervisor", ...).
    """

    name = "Portside engine"
    manages_process = True

    def __init__(
        self,
        paths: EnginePaths | None = None,
        *,
        dockerd: str | None = None,
        bridge: str | None = None,
        subnet: str | None = None,
        start_timeout: float = 60.0,
        iptables: bool = True,
        owner: str = "app",
    ) -> None:
        super().__init__()
        self.paths = paths or EnginePaths.default()
        self._dockerd = dockerd
        self._bridge = bridge
        self._subnet = ipaddress.IPv4Network(subnet) if subnet else None
        if self._bridge is not None and not 0 < len(self._bridge) <= netconf.IFNAMSIZ:
            raise LifecycleError(
                f"Bridge name {self._bridge!r} must be 1 to {netconf.IFNAMSIZ} characters long."
            )
        self.start_timeout = start_timeout
        self._iptables = iptables
        self.owner = owner
        self.rootless = sys.platform.startswith("linux") and os.geteuid() != 0
        self._status = EngineStatus(EngineState.STOPPED, self.paths.endpoint)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_writer: logfile.RotatingLogWriter | None = None
        self._lock_fd: int | None = None
        self._expect_exit = False
        self._idle = threading.Event()
        self._idle.set()
        self._bridge_in_use: str | None = None

    # -- public API -----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``unix:///.../docker.sock`` of this engine."""
        return self.paths.endpoint

    async def start(self) -> EngineStatus:
        """Start dockerd and wait until it answers; raises a :class:`LifecycleError` on failure."""
        await self._wait_idle()
        if self.status.state is EngineState.RUNNING:
            return self.status
        if self._proc is not None:
            raise LifecycleError("The engine is already starting or stopping; wait for it.")
        self._remember_loop()
        try:
            argv, env = self._command()
            self.paths.ensure()
            self._acquire_lock()
        except OSError as exc:
            error = self._os_problem(exc)
            self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, str(error)))
            raise error from exc
        except LifecycleError as exc:
            self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, str(exc)))
            raise
        self._idle.clear()
        chains: iptables.SharedChains | None = None
        try:
            self._set_status(EngineStatus(EngineState.STARTING, self.endpoint))
            await asyncio.to_thread(self._clean_stale)
            config = self._prepare_config()
            if config is not None:
                chains = self._shared_chains(config)
                if chains is not None:  # other engines' starts wait, theirs waits for them
                    await asyncio.to_thread(chains.begin, self.start_timeout)
                await asyncio.to_thread(self._prepare_network, config)
            self._spawn(argv, env)
            await self._wait_ready()
            if chains is not None:
                await asyncio.to_thread(chains.restore)
            with self._status_lock:
                proc = self._proc
                if proc is None or proc.poll() is not None:
                    raise EngineStartFailed(
                        "dockerd exited right after it answered", self.log_tail()
                    )
                with contextlib.suppress(OSError):
                    self.paths.socket.chmod(0o600)
                self._set_status(EngineStatus(EngineState.RUNNING, self.endpoint, "", proc.pid))
        except BaseException as caught:
            if chains is not None:
                chains.end()  # before the clean-up, which takes the host lock itself
            failure = self._os_problem(caught) if isinstance(caught, OSError) else caught
            if isinstance(failure, LifecycleError):
                detail = str(failure)
            else:
                detail = f"{type(failure).__name__}: {failure}"
            problem = await asyncio.shield(asyncio.to_thread(self._abort))
            self._conclude(problem, EngineStatus(EngineState.FAILED, self.endpoint, detail))
            if failure is not caught:
                raise failure from caught
            if isinstance(caught, (LifecycleError, asyncio.CancelledError)) or not isinstance(
                caught, Exception
            ):
                raise
            raise EngineStartFailed(
                f"Starting the engine failed: {detail}", self.log_tail()
            ) from caught
        finally:
            if chains is not None:
                chains.end()
            self._idle.set()
        return self.status

    def _os_problem(self, exc: OSError) -> Exception:
        """A clear :class:`LifecycleError` for a full disk; other OS errors stay as they are."""
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return exc
        where = exc.filename or self.paths.root
        return LifecycleError(
            f"The disk holding {where} is full ({exc.strerror}), so the engine cannot start. "
            f"Free some space there (`df -h {self.paths.root}` shows how much is left), or point "
            "PORTSIDE_HOME at a folder on another disk, then start the engine again."
        )

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - Engine.stop's shape
        """SIGTERM dockerd, SIGKILL it after ``timeout`` s, then clean up mounts, socket, bridge."""
        await self._wait_idle()
        proc = self._proc
        if proc is None:
            if self.status.state is EngineState.FAILED:
                self._set_status(EngineStatus(EngineState.STOPPED, self.endpoint))
            return
        self._idle.clear()
        try:
            with self._status_lock:
                self._expect_exit = True
                self._set_status(EngineStatus(EngineState.STOPPING, self.endpoint, "", proc.pid))
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # the exit is seen by a thread; polling is simplest
            if proc.poll() is None:
                log.warning(
                    "dockerd (pid %s) ignored SIGTERM for %.0f s; killing it", proc.pid, timeout
                )
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await asyncio.to_thread(proc.wait)
            problem = await asyncio.to_thread(self._teardown)
            self._conclude(problem, EngineStatus(EngineState.STOPPED, self.endpoint))
        finally:
            self._idle.set()

    async def settled(self) -> None:
        """Wait until no clean-up is running (after a crash it runs on a watcher thread)."""
        await self._wait_idle()

    async def _wait_idle(self) -> None:
        while not self._idle.is_set():  # noqa: ASYNC110 - a threading.Event, set off-loop
            await asyncio.sleep(0.05)

    def log_tail(self, lines: int = 25) -> str:
        """The engine log's last lines, from the current (or last) run only."""
        return logfile.tail(self.paths.log_file, lines, this_run=True)

    def cleanup_leftovers(self) -> bool:
        """Take the lock and remove what a dead engine left behind (processes, mounts, socket).

        Returns whether an orphaned dockerd of this data root was ended. Raises
        :class:`EngineAlreadyRunning` when a live owner holds the lock.
        """
        self.paths.ensure()
        self._acquire_lock()
        try:
            ended = self._clean_stale()
            self._cleanup()
            # whatever the state file said (running, failed), nothing of this engine is left now
            self._on_status(EngineStatus(EngineState.STOPPED, self.endpoint))
        finally:
            self._release_lock()
        return ended

    # -- steps ----------------------------------------------------------------------------------

    def _command(self) -> tuple[list[str], dict[str, str]]:
        paths = self.paths
        env = dict(os.environ)
        # dockerd 20.10 reads its proxies only from its environment (engine/lifecycle/proxies.py)
        env.update(proxies.environment(proxies.load(paths)))
        flags = [
            f"--data-root={paths.data_root}",
            f"--exec-root={paths.exec_root}",
            f"--pidfile={paths.pidfile}",
            f"--host=unix://{paths.socket}",
            f"--config-file={paths.daemon_json}",
        ]
        if self.rootless:
            found, missing = rootless_requirements()
            if self._dockerd:
                found["dockerd"] = self._dockerd
            if missing:
                raise EngineNotInstalled(
                    "Portside runs the engine rootless for non-root users, and this is missing:\n"
                    + "\n".join(f"  - {line}" for line in missing)
                    + "\nInstall those, or use an engine that already runs by setting DOCKER_HOST "
                    "(for example DOCKER_HOST=unix:///var/run/docker.sock if you may use it)."
                )
            problem = rootless_network_problem(env)
            if problem:
                raise LifecycleError(problem)
            # dockerd-rootless.sh insists on both; RootlessKit keeps its state in TMPDIR
            env["XDG_RUNTIME_DIR"] = str(paths.socket.parent)
            if not os.path.isdir(env.get("HOME", "")):
                with contextlib.suppress(KeyError):
                    env["HOME"] = pwd.getpwuid(os.getuid()).pw_dir
            dirs = [str(Path(p).parent) for p in found.values()]
            env["PATH"] = os.pathsep.join([*dirs, env.get("PATH", ""), *SYSTEM_DIRS])
            return [found["dockerd-rootless.sh"], *flags], env
        dockerd = self._dockerd or find_program("dockerd")
        if not dockerd or not (os.path.isfile(dockerd) and os.access(dockerd, os.X_OK)):
            where = f"No dockerd at {dockerd}. " if self._dockerd else "No dockerd found. "
            searched = ", ".join([*(str(d) for d in bundle_dirs()), "PATH", *SYSTEM_DIRS])
            raise EngineNotInstalled(f"{where}Searched: {searched}.\n{INSTALL_HINT}")
        group = grp.getgrgid(os.getgid()).gr_name
        # the engine's helpers (containerd, runc, docker-proxy) are looked up next to it first
        env["PATH"] = os.pathsep.join(
            [str(Path(dockerd).parent), env.get("PATH", ""), *SYSTEM_DIRS]
        )
        return [dockerd, *flags, f"--group={group}"], env

    def _acquire_lock(self) -> None:
        if self._lock_fd is not None:
            return
        fd = os.open(self.paths.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            found = ownership.owner(self.paths.lock_file)
            holder = found.pid if found and found.pid else "unknown"
            raise EngineAlreadyRunning(
                f"Another Portside engine (pid {holder}) already runs on {self.paths.data_root}. "
                "Stop it with `portside engine stop` (or quit the Portside app that runs it), "
                "or set PORTSIDE_HOME to use a separate engine folder."
            ) from None
        with contextlib.suppress(OSError):  # a hint for people only: the lock is what counts
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def _clean_stale(self) -> bool:
        """With the lock held: end orphaned dockerds of this data root, drop stale files.

        Returns whether an orphaned dockerd was ended.
        """
        paths = self.paths
        try:
            pid = int(paths.pidfile.read_text().strip() or "0")
        except (OSError, ValueError):
            pid = 0
        # the pidfile's pid only if it really is this data root's dockerd, and any other dockerd
        # whose command line names this data root (a pidfile can be stale or gone)
        orphans = set(procs.dockerds_of(paths.data_root))
        if pid and procs.pid_alive(pid) and procs.is_dockerd_of(pid, paths.data_root):
            orphans.add(pid)
        if orphans:
            # nobody holds the lock, so these outlived their owner: they are ours to end
            log.warning("ending orphaned dockerd %s of %s", sorted(orphans), paths.data_root)
            procs.terminate(sorted(orphans), timeout=20.0)
        traces = (paths.pidfile, paths.socket, paths.exec_root)
        if any(t.exists() for t in traces) or procs.mounts_under([paths.data_root]):
            self._cleanup()  # an earlier run did not end cleanly
        else:
            self._delete_bridge()
        return bool(orphans)

    def _prepare_config(self) -> dict[str, Any] | None:
        """daemon.json completed with the engine's bridge; None when it is not valid JSON.

        An invalid file is left alone: dockerd then fails with its own, precise message.
        """
        path = self.paths.daemon_json
        existing: dict[str, Any] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                return None
            if not isinstance(loaded, dict):
                return None
            existing = loaded
        else:
            existing = {} if self._iptables else {"iptables": False, "ip-masq": False}
        needs_subnet = "fixed-cidr" not in existing and not self.rootless and self._subnet is None
        config = complete_daemon_config(
            existing,
            rootless=self.rootless,
            bridge=self._bridge or netconf.bridge_name_for(self.paths.data_root),
            subnet=self._subnet,
            used=netconf.used_networks() if needs_subnet else None,
        )
        if config != existing or not path.exists():
            write_json_atomic(path, config, backup=True)
        return config

    def _shared_chains(self, config: Mapping[str, Any]) -> iptables.SharedChains | None:
        """The guard over the host's shared iptables chains, when this dockerd will touch them."""
        bridge = config.get("bridge")
        if (
            self.rootless
            or config.get("iptables", True) is False
            or not isinstance(bridge, str)
            or not iptables.available()
        ):
            return None
        return iptables.SharedChains(bridge, subnet_of(config))

    def _prepare_network(self, config: Mapping[str, Any]) -> None:
        bridge = config.get("bridge")
        if self.rootless or not isinstance(bridge, str) or bridge in ("", "none"):
            return
        cidr = config.get("fixed-cidr")
        if not isinstance(cidr, str):
            return  # the user manages this bridge's addresses
        try:
            subnet = ipaddress.IPv4Network(cidr, strict=False)
        except ValueError:
            return  # dockerd reports the bad value in its own words
        netconf.ensure_bridge(bridge, subnet)
        self._bridge_in_use = bridge

    def _spawn(self, argv: list[str], env: dict[str, str]) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with logfile.open_private(self.paths.log_file) as handle:
            handle.write(f"{logfile.START_MARKER}{stamp}: starting {' '.join(argv)}\n".encode())
        proc, self._log_writer = child.spawn_logged(argv, self.paths.log_file, env=env)
        self._expect_exit = False
        self._proc = proc
        threading.Thread(
            target=self._watch, args=(proc,), name=f"engine-watch:{proc.pid}", daemon=True
        ).start()

    async def _wait_ready(self) -> None:
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.start_timeout
        transport = httpx.AsyncHTTPTransport(uds=str(self.paths.socket))
        async with httpx.AsyncClient(transport=transport, base_url="http://engine", timeout=5) as c:
            while True:
                code = proc.poll()
                if code is not None:
                    self._drain_log()
                    tail = self.log_tail()
                    what = f"dockerd exited with code {code} while starting."
                    errors = rootlesskit_errors(tail) if self.rootless else []
                    if self.rootless:
                        what = (
                            f"Rootless dockerd (RootlessKit) exited with code {code} while starting"
                        )
                        what += (":\n" + "\n".join(f"  {e}" for e in errors)) if errors else "."
                    raise EngineStartFailed(what, tail)
                if self.paths.socket.exists():
                    try:
                        response = await c.get("/_ping")
                        if response.status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                if time.monotonic() > deadline:
                    raise EngineStartFailed(
                        f"dockerd did not answer on {self.paths.socket} within "
                        f"{self.start_timeout:.0f} s.",
                        self.log_tail(),
                    )
                await asyncio.sleep(PING_INTERVAL)

    # -- exits and clean-up ---------------------------------------------------------------------

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        with self._status_lock:
            if self._expect_exit or self._proc is not proc:
                return
            if self.status.state is not EngineState.RUNNING:
                return  # start() notices and reports it
            self._idle.clear()
        self._drain_log()
        detail = (
            f"dockerd (pid {proc.pid}) exited unexpectedly with code {code}.\n\n"
            f"Last lines of the engine log:\n{self.log_tail()}"
        )
        try:
            # report first (the lock is still ours, so the state file says it too), then clean up
            self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, detail, proc.pid))
            problem = self._teardown()
            self._proc = None
            if problem:
                detail += f"\n\nCleaning up after it failed too: {problem}"
                self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, detail, proc.pid))
            self._release_lock()
        finally:
            self._idle.set()

    def _abort(self) -> str:
        proc = self._proc
        if proc is not None:
            self._expect_exit = True
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
        return self._teardown()

    def _teardown(self) -> str:
        """Clean-up after dockerd exited; returns the clean-up error, if any."""
        self._drain_log()
        try:
            self._cleanup()
        except Exception as exc:
            log.exception("cleaning up after the engine failed")
            return str(exc)
        return ""

    def _conclude(self, problem: str, final: EngineStatus) -> None:
        if problem and final.state is EngineState.STOPPED:
            final = EngineStatus(EngineState.FAILED, final.endpoint, f"Clean-up failed: {problem}")
        self._proc = None
        self._set_status(final)
        self._release_lock()

    def _drain_log(self) -> None:
        if self._log_writer is not None:
            self._log_writer.join(2.0)

    def _cleanup(self) -> None:
        """End this engine's leftover processes, unmount its mounts, drop socket/pidfile/bridge."""
        paths = self.paths
        containers = paths.data_root / "containers"
        try:
            ids = [entry.name for entry in containers.iterdir()] if containers.is_dir() else []
        except OSError:
            ids = []
        # the engine is gone, so nothing can stop these gracefully any more
        procs.kill(procs.processes_in_containers(ids))
        procs.terminate(procs.processes_naming([paths.exec_root, paths.data_root]), timeout=5.0)
        if os.geteuid() == 0:
            left = procs.unmount_all([paths.data_root, paths.exec_root])
            if left:
                raise LifecycleError("Could not unmount: " + "; ".join(left))
        if not procs.mounts_under([paths.exec_root]):
            # runtime state only (what a reboot clears); stale pidfiles in it would make the next
            # dockerd wait for a containerd that is merely an unreaped zombie
            shutil.rmtree(paths.exec_root, ignore_errors=True)
        for stale in (paths.socket, paths.pidfile):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        self._delete_bridge()

    def _delete_bridge(self) -> None:
        """Delete this engine's bridge and every iptables rule naming it or its subnet."""
        config = self._configured()
        bridge = self._bridge_in_use or config.get("bridge")
        if bridge and bridge in {self._bridge, netconf.bridge_name_for(self.paths.data_root)}:
            with contextlib.suppress(LifecycleError):
                netconf.delete_bridge(bridge)
            # dockerd leaves its default bridge's rules behind (MASQUERADE, FORWARD, isolation)
            iptables.remove_rules_of(bridge, subnet_of(config))
        self._bridge_in_use = None

    def _configured(self) -> dict[str, Any]:
        if self.rootless or os.geteuid() != 0:
            return {}
        try:
            value = json.loads(self.paths.daemon_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def _on_status(self, status: EngineStatus) -> None:
        if self._lock_fd is None:
            return  # only the lock holder speaks for this engine
        state = {
            "state": status.state.value,
            "endpoint": status.endpoint,
            "pid": status.pid,
            "detail": status.detail,
            "owner": self.owner,
            "owner_pid": os.getpid(),
            "rootless": self.rootless,
            "updated": time.time(),
        }
        try:
            write_json_atomic(self.paths.state_file, state)
        except OSError:
            log.exception("could not write %s", self.paths.state_file)
