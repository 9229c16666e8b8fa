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
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import (
    EngineAlreadyRunning,
    EngineNotInstalled,
    EngineStartFailed,
    LifecycleError,
)
from engine.lifecycle import iptables, netconf, ownership, procs, proxies
from engine.lifecycle.base import EngineState, EngineStatus
from engine.lifecycle.jsonfiles import complete_daemon_config as complete_daemon_config
from engine.lifecycle.jsonfiles import read_state as read_state
from engine.lifecycle.jsonfiles import subnet_of
from engine.lifecycle.jsonfiles import write_json_atomic as write_json_atomic
from engine.lifecycle.managed import ManagedEngine
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


class NativeEngine(ManagedEngine[tuple[list[str], dict[str, str]]]):
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
    exited_early = "dockerd exited right after it answered"
    check_errors = (LifecycleError, OSError)

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
        self._bridge_in_use: str | None = None
        super().__init__()

    # -- public API -----------------------------------------------------------------------------

    @property
    def engine_paths(self) -> EnginePaths:
        return self.paths

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - Engine.stop's shape
        """SIGTERM dockerd, SIGKILL it after ``timeout`` s, then clean up mounts, socket, bridge."""
        await self._stop(timeout)

    def cleanup_leftovers(self) -> bool:
        """Take the lock and remove what a dead engine left behind (processes, mounts, socket).

        Returns whether an orphaned dockerd of this data root was ended. Raises
        :class:`EngineAlreadyRunning` when a live owner holds the lock.
        """

        def clean() -> bool:
            ended = self._clean_stale()
            self._cleanup()
            return ended

        return self._as_owner(clean)

    # -- start and stop (the state machine around them is ManagedEngine's) ----------------------

    def _check(self) -> tuple[list[str], dict[str, str]]:
        return self._command()

    def _make_folders(self) -> None:
        self.paths.ensure()

    def _translate(self, exc: BaseException) -> BaseException:
        return self._os_problem(exc) if isinstance(exc, OSError) else exc

    async def _start_steps(self, plan: tuple[list[str], dict[str, str]]) -> None:
        argv, env = plan
        chains: iptables.SharedChains | None = None
        try:
            await asyncio.to_thread(self._clean_stale)
            config = self._prepare_config()
            if config is not None:
                chains = self._shared_chains(config)
                if chains is not None:  # other engines' starts wait, theirs waits for them
                    await asyncio.to_thread(chains.begin, self.start_timeout)
                await asyncio.to_thread(self._prepare_network, config)
            self._spawn_logged(argv, env)
            await self._wait_ready()
            if chains is not None:
                await asyncio.to_thread(chains.restore)
        finally:
            if chains is not None:
                chains.end()  # before a failed start's clean-up, which takes the host lock itself

    def _process_ended(self, proc: subprocess.Popen[bytes]) -> bool:
        return proc.poll() is not None

    def _on_ready(self) -> str:
        with contextlib.suppress(OSError):
            self.paths.socket.chmod(0o600)
        return ""

    async def _abort_start(self) -> str:
        return await asyncio.to_thread(self._abort)

    async def _stop_steps(self, proc: subprocess.Popen[bytes], timeout: float) -> str:  # noqa: ASYNC109
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
        return await asyncio.to_thread(self._teardown)

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

    def _refusal(self, fd: int) -> EngineAlreadyRunning:
        found = ownership.owner(self.paths.lock_file)
        holder = found.pid if found and found.pid else "unknown"
        return EngineAlreadyRunning(
            f"Another Portside engine (pid {holder}) already runs on {self.paths.data_root}. "
            "Stop it with `portside engine stop` (or quit the Portside app that runs it), "
            "or set PORTSIDE_HOME to use a separate engine folder."
        )

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

    async def _wait_ready(self) -> None:
        proc = self._proc
        assert proc is not None

        def still_starting() -> None:
            code = proc.poll()
            if code is None:
                return
            self._drain_log()
            tail = self.log_tail()
            what = f"dockerd exited with code {code} while starting."
            errors = rootlesskit_errors(tail) if self.rootless else []
            if self.rootless:
                what = f"Rootless dockerd (RootlessKit) exited with code {code} while starting"
                what += (":\n" + "\n".join(f"  {e}" for e in errors)) if errors else "."
            raise EngineStartFailed(what, tail)

        def timed_out() -> EngineStartFailed:
            return EngineStartFailed(
                f"dockerd did not answer on {self.paths.socket} within "
                f"{self.start_timeout:.0f} s.",
                self.log_tail(),
            )

        deadline = time.monotonic() + self.start_timeout
        await self._wait_for_ping(deadline, PING_INTERVAL, still_starting, timed_out)

    # -- exits and clean-up ---------------------------------------------------------------------

    def _crashed(self, proc: subprocess.Popen[bytes], code: int) -> None:
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

    def _state_extra(self) -> dict[str, Any]:
        return {"rootless": self.rootless}
