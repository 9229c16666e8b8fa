"""``VMEngine``: the Docker engine in a Linux VM under QEMU, behind the same ``Engine`` interface.

Start-up, in order (each step a module of this package)::

    plan.make_plan (image, QEMU, ssh, vm.json, accelerators, resources, shares) ─► lock
      ─► disk (root overlay, data disk)
      ─► ssh.ensure_keys + guest.conf (fw_cfg) ─► qemu.build_command ─► spawn QEMU
      ─► (tls mode: QMP's pipe) ─► ready "init" (per accelerator: an accelerated boot that exits
         or is not there in time is ended, and the next one, finally tcg, is tried)
      ─► "sshd" ─► (ssh mode: qmp.QMPClient on its socket, ssh.APIForward)
      ─► "ready" ─► GET /_ping through the forwarded socket (tls mode: 127.0.0.1:<api-port>)
      ─► ports.PortForwarder (engine events → QMP hostfwd) ─► RUNNING

QEMU's stdout and stderr (the serial console and QEMU's own messages) go through a pipe into the
rotated engine log, as dockerd's do for the native engine. A watcher thread notices QEMU's exit at
once; an exit nobody asked for turns the status FAILED with the console's last lines, and the
forward and port forwards are ended on the event loop. ``stop`` presses the ACPI power button
through QMP (the guest stops dockerd and syncs), then quits QEMU and finally kills it when the
timeout passes. One VM folder has one owner: a second start is refused with who holds the lock.

In the ``tls`` API mode (Windows, where Python has no unix sockets; any OS by vm.json ``"api"``)
no unix socket is used on the host: the per-VM certificates (tls.ensure_certs) go to dockerd
through fw_cfg, QEMU forwards 127.0.0.1:<api-port> to dockerd's TLS port, the readiness lines
are read from the console as the log's writer thread passes it on, QMP goes through a pipe
chardev (qmp_pipe.PipeQMPClient) and there is no ssh forward (ssh stays for ``ssh_command``).
The shares are served by Portside's own 9P server (ninep.ShareServer, a thread per share on its
pipe chardev, started right after QEMU and ended once QEMU has exited), not by ``-virtfs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from engine.endpoint import Endpoint
from engine.errors import (
    EngineAlreadyRunning,
    EngineStartFailed,
    LifecycleError,
)
from engine.lifecycle import logfile, proxies
from engine.lifecycle.base import EngineState, EngineStatus
from engine.lifecycle.managed import ManagedEngine
from engine.lifecycle.paths import EnginePaths
from engine.vm import api, disk, qemu
from engine.vm.choice import api_mode
from engine.vm.layout import Resources, VMPaths, VMSettings
from engine.vm.ninep import ShareServer
from engine.vm.plan import (
    BootPlan,
    base_id,
    free_port,
    guest_config,
    machine_spec,
    make_plan,
    tls_dockerd_args,
)
from engine.vm.ports import PortForwarder
from engine.vm.qmp import QMPClient, QMPError, QMPSession
from engine.vm.qmp_pipe import PipeQMPClient, fifo_paths, make_fifos
from engine.vm.ready import BootTimes, ReadyWatcher
from engine.vm.ssh import APIForward, ensure_keys

log = logging.getLogger(__name__)

#: An accelerated boot must reach portside-init within this many seconds, else tcg is tried.
ACCEL_TIMEOUT = 20.0


class VMEngine(ManagedEngine[BootPlan]):
    """A Linux VM under QEMU running dockerd, its API forwarded to a socket of the user's own.

    Args:
        paths: the VM's files (default :meth:`VMPaths.default`).
        arch: the image's architecture (default: the host's).
        settings: CPUs, memory, disk, accelerator (default: ``vm.json`` in the VM folder).
        start_timeout: seconds from QEMU's start to a working ``/_ping``.
        accel_timeout: seconds an accelerated boot has to reach portside-init.
        owner: recorded in the state file ("app", "supervisor", ...).
        accels: the accelerators to try, in order (default: chosen from QEMU and the host).
    """

    name = "Portside VM"
    noun = "VM"
    starting_detail = "Preparing the VM…"
    stopping_detail = "Shutting the VM down…"
    exited_early = "QEMU exited right after the VM was ready"
    watch_name = "vm-watch"

    def __init__(
        self,
        paths: VMPaths | None = None,
        *,
        arch: str | None = None,
        settings: VMSettings | None = None,
        start_timeout: float = 120.0,
        accel_timeout: float = ACCEL_TIMEOUT,
        accels: list[str] | None = None,
        owner: str = "app",
    ) -> None:
        self.paths = paths or VMPaths.default()
        self._arch = arch
        self._settings = settings
        self.start_timeout = start_timeout
        self.accel_timeout = accel_timeout
        self._accels = accels
        self.owner = owner
        self._ready: ReadyWatcher | None = None
        self._qmp: QMPSession | None = None
        self._forward: APIForward | None = None
        self._ports: PortForwarder | None = None
        #: the tls mode's 9P share servers (engine/vm/ninep), one thread per share
        self._share_servers: list[ShareServer] = []
        self.accel: str | None = None
        self.resources: Resources | None = None
        self.boot_times: BootTimes | None = None
        self.ssh_port: int | None = None
        self._notes: list[str] = []
        self._port_notes: set[str] = set()
        self._ssh_program = "ssh"
        #: how the host reaches the API: "ssh" (a unix socket) or "tls" (127.0.0.1:api_port)
        self.api = (
            api_mode(settings.api) if settings is not None else api.configured_mode(self.paths)
        )
        self.api_port: int | None = None
        super().__init__()

    # -- public API -----------------------------------------------------------------------------

    @property
    def engine_paths(self) -> EnginePaths:
        return self.paths.engine

    @property
    def endpoint(self) -> str:
        return api.endpoint_url(self.paths, self.api)

    def client_endpoint(self) -> Endpoint:
        return api.client_endpoint(self.paths, self.api)

    @property
    def qemu_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def forward(self) -> APIForward | None:
        """The API forward (tests and benchmarks run commands in the VM through it)."""
        return self._forward

    @property
    def port_forwarder(self) -> PortForwarder | None:
        return self._ports

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109 - Engine.stop's shape
        """ACPI power button through QMP; quit, then kill QEMU when ``timeout`` passes."""
        await self._stop(timeout)

    def ssh_command(self, *command: str) -> list[str]:
        """argv of an ssh that runs ``command`` in the running VM."""
        from engine.vm.ssh import command_in_vm

        if self._qmp is None or self.ssh_port is None:
            raise LifecycleError("The VM is not running.")
        return command_in_vm(self._ssh_program, self.paths, self.ssh_port, *command)

    def cleanup_leftovers(self) -> None:
        """Take the lock and end a QEMU (and ssh) a dead owner left behind.

        Raises :class:`EngineAlreadyRunning` when a live owner holds the lock.
        """
        self._as_owner(self._end_stale)

    # -- start-up steps (the state machine around them is ManagedEngine's) ----------------------

    def _check(self) -> BootPlan:
        """Everything checked before anything is written: image, programs, settings."""
        settings = self._settings or VMSettings.load(self.paths.settings_file)
        plan = make_plan(self._arch, settings, self._accels)
        self.api = plan.api
        return plan

    def _make_folders(self) -> None:
        self.paths.ensure()

    async def _start_steps(self, plan: BootPlan) -> None:
        await asyncio.to_thread(self._prepare, plan)
        await self._boot(plan)

    def _on_ready(self) -> str:
        return self._detail()

    async def _abort_start(self) -> str:
        await self._shutdown(kill=True)
        return ""

    async def _stop_steps(self, proc: subprocess.Popen[bytes], timeout: float) -> str:  # noqa: ASYNC109
        await self._shutdown(kill=False, timeout=timeout)
        return ""

    def _prepare(self, plan: BootPlan) -> None:
        """(thread) End leftovers, make the disks, keys and guest config."""
        self._end_stale()
        paths, image = self.paths, plan.image
        notes = list(plan.notes)
        if disk.ensure_root_overlay(
            plan.qemu_img, paths.root_disk, paths.root_version, image.rootfs, base_id(image)
        ):
            notes.append(f"root disk made from image {image.version}")
        made = disk.ensure_data_disk(plan.qemu_img, paths.data_disk, plan.resources.disk_gib)
        if made:
            notes.append(made)
        ensure_keys(plan.keygen, paths)
        dockerd_args = ""
        if plan.api == "tls":
            from engine.vm import tls  # cryptography: loaded only in this mode

            tls.ensure_certs(paths.tls_dir)
            moved_from = api.saved_port(paths)
            self.api_port = api.ensure_port(paths, check_free=True)
            if moved_from is not None and moved_from != self.api_port:
                notes.append(f"127.0.0.1:{moved_from} is taken by another program; the engine "
                             f"API moved to 127.0.0.1:{self.api_port}")
            dockerd_args = tls_dockerd_args()
        tmp = paths.guest_config.with_name(".guest.conf.tmp")
        env = proxies.environment(proxies.for_vm_guest(proxies.load(paths.engine)))
        config = guest_config(
            plan.shares, dockerd_args, env=env, swap_mib=plan.resources.swap_mib
        )
        tmp.write_text(config, encoding="utf-8")
        os.replace(tmp, paths.guest_config)
        (paths.root / "ssh.log").write_bytes(b"")
        self._notes = notes

    async def _boot(self, plan: BootPlan) -> None:
        """Spawn QEMU with each accelerator in turn until one reaches init; then wait for ready."""
        deadline = time.monotonic() + self.start_timeout
        accels = plan.accels
        self.resources = plan.resources
        for note in self._notes:
            self._note(note)
        for index, accel in enumerate(accels):
            last = index == len(accels) - 1
            self.accel = accel
            self._booting(accel)
            self.ssh_port = free_port()
            spec = machine_spec(plan, accel, self.paths, self.ssh_port, self.api_port)
            self._spawn(qemu.build_command(plan.qemu, spec), spec)
            limit = deadline if last else min(deadline, time.monotonic() + self.accel_timeout)
            problem = await self._open_pipe(spec.qmp_pipe, limit) if spec.qmp_pipe else ""
            problem = problem or await self._wait_for("init", limit)
            if not problem:
                break
            if last:
                raise EngineStartFailed(problem, self.log_tail())
            self._note(f"{problem} With {accel}; trying {accels[index + 1]} instead.")
            await self._shutdown(kill=True)
        self._booting(accel, "Linux is up; starting its services")
        problem = await self._wait_for("sshd", deadline)
        if problem:
            raise EngineStartFailed(problem, self.log_tail())
        self._booting(accel, "starting Docker in the VM")
        assert self.ssh_port is not None
        self._ssh_program = plan.ssh
        if self._qmp is None:
            assert spec.qmp_socket is not None
            self._qmp = await QMPClient.connect(spec.qmp_socket)
        if plan.api == "ssh":
            self._forward = APIForward(plan.ssh, self.paths, self.ssh_port, self._note)
            await self._forward.start(max(5.0, deadline - time.monotonic()))
        problem = await self._wait_for("ready", deadline)
        if problem:
            raise EngineStartFailed(problem, self.log_tail())
        await self._ping(deadline)
        assert self.boot_times is not None
        self.boot_times.pinged = time.monotonic() - self.boot_times.started
        self._note(f"VM ready: {self.boot_times.summary()}")
        self._ports = PortForwarder(self._qmp, self.client_endpoint(), self._on_ports)
        self._ports.start()

    async def _open_pipe(self, target: str, deadline: float) -> str:
        """Connect QMP's pipe right after QEMU's start ('' when done; else why not): a Windows
        QEMU waits for the pipe's client before it runs the machine."""
        proc = self._proc
        assert proc is not None
        try:
            self._qmp = await PipeQMPClient.connect(
                target, max(1.0, deadline - time.monotonic()),
                alive=lambda: proc.returncode is None,
            )  # fmt: skip
        except QMPError as exc:
            self._drain_log()
            return f"QEMU's QMP pipe did not open: {exc}"
        return ""

    def _booting(self, accel: str, step: str = "") -> None:
        """The STARTING status line at each readiness milestone (a TCG boot takes 6-15 s: the
        wizard and the footer show it moving on, not one line the whole time)."""
        text = f"Booting the Linux VM (QEMU, {qemu.describe_accel(accel)})"
        self._set_status(EngineStatus(
            EngineState.STARTING, self.endpoint, f"{text}: {step}…" if step else f"{text}…"
        ))

    def _spawn(self, argv: list[str], spec: qemu.MachineSpec) -> None:
        """Start QEMU; its readiness lines come from the port's socket, or else from the console
        (handed over by the engine log's writer thread)."""
        for stale in (self.paths.qmp_socket, self.paths.ready_socket):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        if spec.qmp_pipe is not None and sys.platform != "win32":
            make_fifos(Path(spec.qmp_pipe))
        if sys.platform != "win32":
            for target in spec.share_pipes.values():
                make_fifos(Path(target))
        started = time.monotonic()
        self._ready = ReadyWatcher(spec.ready_socket, started)
        self.boot_times = self._ready.times
        self._ready.start()
        console = self._ready.feed_threadsafe if spec.ready_socket is None else None
        self._spawn_logged(argv, on_output=console)
        self._start_share_servers(spec)

    def _start_share_servers(self, spec: qemu.MachineSpec) -> None:
        """The tls mode's shares: their 9P servers connect right away (a Windows QEMU waits for
        a client on each pipe chardev before it runs the machine)."""
        proc = self._proc
        assert proc is not None
        folders = {s.tag: s.host_path for s in spec.shares}
        for tag, target in spec.share_pipes.items():
            server = ShareServer(target, folders[tag], alive=lambda: proc.returncode is None)
            server.start()
            self._share_servers.append(server)

    async def _wait_for(self, kind: str, deadline: float) -> str:
        """'' once the guest says ``kind``; else why not (QEMU exited, failed line, timeout)."""
        ready, proc = self._ready, self._proc
        assert ready is not None and proc is not None
        waiter = asyncio.ensure_future(ready.wait(kind))
        try:
            while not waiter.done():
                code = proc.returncode
                if code is not None:
                    self._drain_log()
                    return f"QEMU exited with code {code} while the VM booted."
                if time.monotonic() > deadline:
                    return (
                        f"The VM did not get to '{kind}' within "
                        f"{deadline - ready.times.started:.0f} s of QEMU's start."
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), 0.1)
        finally:
            waiter.cancel()
        if waiter.result() == "failed":
            return f"The engine in the VM failed to start: {ready.failure}"
        return ""

    async def _ping(self, deadline: float) -> None:
        def timed_out() -> EngineStartFailed:
            said = f" ssh said: {self._forward.error_tail()}" if self._forward else ""
            return EngineStartFailed(
                f"The VM's engine did not answer on {self.endpoint}.{said}", self.log_tail()
            )

        await self._wait_for_ping(deadline, 0.05, lambda: None, timed_out)

    # -- status ---------------------------------------------------------------------------------

    def _detail(self) -> str:
        """The RUNNING status line: what runs, with which accelerator and resources."""
        parts = [f"Linux VM (QEMU, {qemu.describe_accel(self.accel or '?')})"]
        if self.resources is not None:
            parts.append(
                f"{self.resources.cpus} CPU{'s' if self.resources.cpus > 1 else ''}, "
                f"{self.resources.memory_mib / 1024:g} GiB"
            )
        if self.boot_times is not None and self.boot_times.pinged is not None:
            parts.append(f"ready in {self.boot_times.pinged:.1f} s")
        text = " · ".join(parts)
        if self._ports is not None and self._ports.problems:
            text += "\n" + "\n".join(self._ports.problems.values())
        return text

    def _on_ports(self) -> None:
        if self._ports is not None:
            for problem in self._ports.problems.values():
                if problem not in self._port_notes:
                    self._note(problem)  # once per problem, in the engine log too
            self._port_notes = set(self._ports.problems.values())
        status = self.status
        if status.state is EngineState.RUNNING:
            self._set_status(
                EngineStatus(status.state, status.endpoint, self._detail(), status.pid)
            )

    def _note(self, text: str) -> None:
        """A line of Portside's own in the engine log (between the console's lines)."""
        log.info("%s", text)
        with (
            contextlib.suppress(OSError),
            logfile.open_private(self.paths.engine.log_file) as handle,
        ):
            handle.write(f"[portside] {text}\n".encode())

    def _state_extra(self) -> dict[str, Any]:
        return {"vm": True, "accel": self.accel, "ssh_port": self.ssh_port, "api": self.api}

    # -- lock -----------------------------------------------------------------------------------

    def _refusal(self, fd: int) -> EngineAlreadyRunning:
        holder = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
        return EngineAlreadyRunning(
            f"The Portside VM in {self.paths.root} already runs (owner pid {holder}). Stop it "
            "with `portside engine stop --vm` (or quit the Portside app that runs it), or set "
            "PORTSIDE_HOME to use a separate engine folder."
        )

    # -- ending ---------------------------------------------------------------------------------

    async def _shutdown(self, *, kill: bool, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """End the ports, the forward and QEMU (power button first unless ``kill``).

        Every step is bounded: a stop always ends, with QEMU killed at worst. QEMU's exit is read
        from ``returncode``, which the watcher thread sets (``poll()`` would race its ``wait()``).
        """
        proc = self._proc
        if proc is not None:
            self._expect_exit = True
        ports, self._ports = self._ports, None
        forward, self._forward = self._forward, None
        qmp, self._qmp = self._qmp, None
        for step, what in ((ports, "the port forwards"), (forward, "the ssh forward")):
            if step is not None:
                try:
                    await asyncio.wait_for(step.stop(), 15)
                except TimeoutError:
                    self._note(f"ending {what} took over 15 s; going on")
        if proc is not None and proc.returncode is None and not kill:
            if qmp is not None:
                try:
                    await qmp.powerdown()
                except QMPError as exc:
                    self._note(f"the power button did not work ({exc})")
            if not await _exited(proc, timeout):
                self._note(f"the VM did not power off within {timeout:.0f} s; ending QEMU")
                if qmp is not None:
                    await qmp.quit()
                await _exited(proc, 5)
        if qmp is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(qmp.close(), 5)
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            if not await _exited(proc, 30):
                self._note(f"QEMU (pid {proc.pid}) did not end after SIGKILL")
        if self._ready is not None:
            await self._ready.close()
            self._ready = None
        await self._stop_share_servers()
        self._drain_log()
        for stale in (self.paths.qmp_socket, self.paths.ready_socket, self.paths.qemu_pidfile,
                      *fifo_paths(self.paths.qmp_pipe)):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        self._proc = None

    async def _stop_share_servers(self) -> None:
        """(QEMU has exited: the guest has nothing left to ask) End the 9P share servers and
        remove their FIFOs."""
        servers, self._share_servers = self._share_servers, []
        for server in servers:
            await asyncio.to_thread(server.stop)
            if server.problem:
                self._note(f"the share {server.server.fids.root} ended: {server.problem}")
            if sys.platform != "win32":
                for fifo in fifo_paths(Path(str(server.target))):
                    with contextlib.suppress(FileNotFoundError):
                        fifo.unlink()

    def _crashed(self, proc: subprocess.Popen[bytes], code: int) -> None:
        detail = (
            f"The VM's QEMU (pid {proc.pid}) exited unexpectedly "
            f"({_exit_text(code)}).\n\nLast lines of the VM console:\n{self.log_tail()}"
        )
        self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, detail, proc.pid))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                asyncio.run_coroutine_threadsafe(self._after_crash(), loop)
                return
            except RuntimeError:
                pass
        self._forget_crash()

    async def _after_crash(self) -> None:
        try:
            await self._shutdown(kill=True)
        finally:
            self._forget_crash()

    def _forget_crash(self) -> None:
        self._proc = None
        self._release_lock()
        self._idle.set()

    def _end_stale(self) -> None:
        """(lock held) A QEMU of this VM that outlived its owner is ours to end."""
        from engine.lifecycle import procs

        try:
            pid = int(self.paths.qemu_pidfile.read_text().strip() or "0")
        except (OSError, ValueError):
            pid = 0
        argv = " ".join(procs.cmdline(pid)) if pid and procs.pid_alive(pid) else ""
        if str(self.paths.root_disk) in argv:
            log.warning("ending the VM's orphaned QEMU (pid %s)", pid)
            procs.terminate([pid], timeout=5.0)
        if sys.platform.startswith("linux"):  # procs reads /proc
            procs.terminate(procs.processes_naming([self.paths.ssh_control]), timeout=5.0)
        for stale in (
            self.paths.qemu_pidfile,
            self.paths.qmp_socket,
            self.paths.ready_socket,
            self.paths.ssh_control,
            self.paths.socket,
            *fifo_paths(self.paths.qmp_pipe),
            *self.paths.run.glob("share-*.pipe.in"),
            *self.paths.run.glob("share-*.pipe.out"),
        ):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()



async def _exited(proc: subprocess.Popen[bytes], timeout: float) -> bool:  # noqa: ASYNC109
    """Wait up to ``timeout`` s for the watcher thread to see ``proc`` exit."""
    deadline = time.monotonic() + timeout
    while proc.returncode is None and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # the exit is seen by a thread; polling is simplest
    return proc.returncode is not None


def _exit_text(code: int) -> str:
    if code < 0:
        import signal

        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
