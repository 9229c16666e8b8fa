"""The start/stop skeleton every engine whose process Portside runs shares (dockerd, QEMU).

:class:`NativeEngine` (``native.py``) and :class:`VMEngine` (``engine/vm/engine.py``) differ in
their steps only; the state machine around the steps is this one::

    start():  wait until no start/stop/crash clean-up runs ─► RUNNING already? return it
              ─► a process still there (starting or stopping)? refuse
              ─► _check() (nothing written yet) ─► folders ─► the lock (one owner per engine)
                 (a LifecycleError here turns FAILED and is raised)
              ─► STARTING ─► _start_steps(plan) ─► under the status lock: the process still
                 runs? ─► RUNNING
              any failure ─► _abort_start() (shielded from cancellation) ─► FAILED with the
              error ─► re-raised; an error of no known kind as EngineStartFailed
    _stop():  wait until idle ─► no process: a FAILED engine turns STOPPED ─► STOPPING (its exit
              now expected) ─► _stop_steps() ─► STOPPED (FAILED when the clean-up failed)
    _watch(): (a thread per process) an exit nobody asked for while RUNNING ─► _crashed()

``_idle`` (a ``threading.Event``) is clear while a start, a stop or a crash's clean-up runs; the
watcher thread clears it too, which is why it is not an ``asyncio`` primitive. The lock file, the
state file (written under the status lock on every change) and the engine log are the
:class:`EnginePaths` of :attr:`ManagedEngine.engine_paths`; ``_spawn_logged`` starts the process
into that log and ``_wait_for_ping`` polls ``/_ping`` on its socket, both for the steps.
Nothing here is Unix-only at import time (the VM engine runs on Windows too).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import httpx

from engine.errors import EngineAlreadyRunning, EngineStartFailed, LifecycleError
from engine.lifecycle import child, logfile
from engine.lifecycle.base import Engine, EngineState, EngineStatus
from engine.lifecycle.jsonfiles import write_json_atomic
from engine.lifecycle.paths import EnginePaths

log = logging.getLogger(__name__)

PlanT = TypeVar("PlanT")
T = TypeVar("T")


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when someone else holds it."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class ManagedEngine(Engine, Generic[PlanT]):
    """An engine process Portside starts, owns through a lock file, watches and stops.

    A subclass sets ``owner`` and what its paths need, then calls ``super().__init__()``, and
    supplies its steps: :meth:`_check`, :meth:`_make_folders`, :meth:`_start_steps` (which calls
    :meth:`_spawn_logged`), :meth:`_abort_start`, :meth:`_stop_steps`, :meth:`_crashed`,
    :meth:`_refusal`; its public ``stop`` calls :meth:`_stop` with its own default timeout.
    ``PlanT`` is what :meth:`_check` hands to :meth:`_start_steps`.
    """

    manages_process = True
    owner: str
    #: what messages call this engine ("The engine is already starting…").
    noun = "engine"
    #: the STARTING and STOPPING statuses' detail.
    starting_detail = ""
    stopping_detail = ""
    #: the start's error when the process exits between answering and RUNNING.
    exited_early = "The engine's process exited right after it answered"
    #: the watcher thread's name, before ``:<pid>``.
    watch_name = "engine-watch"
    #: the errors of :meth:`_check`, the folders and the lock that turn the status FAILED.
    check_errors: tuple[type[Exception], ...] = (LifecycleError,)

    def __init__(self) -> None:
        super().__init__()
        self._status = EngineStatus(EngineState.STOPPED, self.endpoint)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_writer: logfile.RotatingLogWriter | None = None
        self._lock_fd: int | None = None
        self._expect_exit = False
        self._idle = threading.Event()
        self._idle.set()

    # -- public API -----------------------------------------------------------------------------

    @property
    @abstractmethod
    def engine_paths(self) -> EnginePaths:
        """The engine's socket, log, lock and state files."""

    @property
    def endpoint(self) -> str:
        """``unix:///.../docker.sock`` of this engine."""
        return self.engine_paths.endpoint

    async def start(self) -> EngineStatus:
        """Start the engine and wait until it answers; raises a :class:`LifecycleError`."""
        await self._wait_idle()
        if self.status.state is EngineState.RUNNING:
            return self.status
        if self._proc is not None:
            raise LifecycleError(f"The {self.noun} is already starting or stopping; wait for it.")
        self._remember_loop()
        try:
            plan = self._check()
            self._make_folders()
            self._acquire_lock()
        except self.check_errors as exc:
            error = self._translate(exc)
            self._set_status(EngineStatus(EngineState.FAILED, self.endpoint, str(error)))
            if error is exc:
                raise
            raise error from exc
        self._idle.clear()
        try:
            starting = EngineStatus(EngineState.STARTING, self.endpoint, self.starting_detail)
            self._set_status(starting)
            await self._start_steps(plan)
            with self._status_lock:
                proc = self._proc
                if proc is None or self._process_ended(proc):
                    raise EngineStartFailed(self.exited_early, self.log_tail())
                detail = self._on_ready()
                self._set_status(EngineStatus(EngineState.RUNNING, self.endpoint, detail, proc.pid))
        except BaseException as caught:
            failure = self._translate(caught)
            if isinstance(failure, LifecycleError):
                detail = str(failure)
            else:
                detail = f"{type(failure).__name__}: {failure}"
            problem = await asyncio.shield(self._abort_start())
            self._conclude(EngineStatus(EngineState.FAILED, self.endpoint, detail), problem)
            if failure is not caught:
                raise failure from caught
            if isinstance(caught, (LifecycleError, asyncio.CancelledError)) or not isinstance(
                caught, Exception
            ):
                raise
            raise EngineStartFailed(
                f"Starting the {self.noun} failed: {detail}", self.log_tail()
            ) from caught
        finally:
            self._idle.set()
        return self.status

    async def settled(self) -> None:
        """Wait until no start, stop or crash clean-up is running."""
        await self._wait_idle()

    def log_tail(self, lines: int = 25) -> str:
        """The engine log's last lines, from the current (or last) run only."""
        return logfile.tail(self.engine_paths.log_file, lines, this_run=True)

    # -- the steps a subclass supplies ----------------------------------------------------------

    @abstractmethod
    def _check(self) -> PlanT:
        """Everything checked before anything is written; raises a :class:`LifecycleError`."""

    @abstractmethod
    def _make_folders(self) -> None:
        """Create the engine's folders."""

    @abstractmethod
    async def _start_steps(self, plan: PlanT) -> None:
        """With the lock held and the status STARTING: prepare, spawn, wait until it answers."""

    @abstractmethod
    async def _abort_start(self) -> str:
        """End what a failed start left running; returns the clean-up's error, if any."""

    @abstractmethod
    async def _stop_steps(self, proc: subprocess.Popen[bytes], timeout: float) -> str:  # noqa: ASYNC109
        """End the running ``proc`` and clean up; returns the clean-up's error, if any."""

    @abstractmethod
    def _crashed(self, proc: subprocess.Popen[bytes], code: int) -> None:
        """(watcher thread, ``_idle`` clear) ``proc`` exited unasked while RUNNING: report it
        FAILED, clean up, release the lock, and finally set ``_idle``."""

    @abstractmethod
    def _refusal(self, fd: int) -> EngineAlreadyRunning:
        """The error for a lock someone else holds (``fd``: the lock file, still open)."""

    def _translate(self, exc: BaseException) -> BaseException:
        """The error to report for ``exc`` (e.g. a clearer one for a full disk)."""
        return exc

    def _process_ended(self, proc: subprocess.Popen[bytes]) -> bool:
        """Whether ``proc`` has exited (as the watcher thread saw it)."""
        return proc.returncode is not None

    def _on_ready(self) -> str:
        """(status lock held) Just before RUNNING; returns the RUNNING status's detail."""
        return ""

    def _state_extra(self) -> dict[str, Any]:
        """This engine's own keys of the state file."""
        return {}

    # -- the skeleton's parts -------------------------------------------------------------------

    async def _stop(self, timeout: float) -> None:  # noqa: ASYNC109 - Engine.stop's shape
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
                stopping = EngineStatus(
                    EngineState.STOPPING, self.endpoint, self.stopping_detail, proc.pid
                )
                self._set_status(stopping)
            problem = await self._stop_steps(proc, timeout)
            self._conclude(EngineStatus(EngineState.STOPPED, self.endpoint), problem)
        finally:
            self._idle.set()

    async def _wait_idle(self) -> None:
        while not self._idle.is_set():  # noqa: ASYNC110 - a threading.Event, set off-loop
            await asyncio.sleep(0.05)

    def _spawn_logged(
        self,
        argv: list[str],
        env: dict[str, str] | None = None,
        on_output: Callable[[bytes], None] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` into the engine log (after a start marker) and watch its exit;
        ``on_output`` also sees its output (on the log writer's thread)."""
        log_file = self.engine_paths.log_file
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with logfile.open_private(log_file) as handle:
            handle.write(f"{logfile.START_MARKER}{stamp}: starting {' '.join(argv)}\n".encode())
        proc, self._log_writer = child.spawn_logged(argv, log_file, env=env, on_output=on_output)
        self._expect_exit = False
        self._proc = proc
        threading.Thread(
            target=self._watch, args=(proc,), name=f"{self.watch_name}:{proc.pid}", daemon=True
        ).start()
        return proc

    async def _wait_for_ping(
        self,
        deadline: float,
        interval: float,
        still_starting: Callable[[], None],
        timed_out: Callable[[], EngineStartFailed],
    ) -> None:
        """``GET /_ping`` on the engine's endpoint until it answers 200.

        Before each try ``still_starting()`` raises when the process is gone; past ``deadline``
        (``time.monotonic()``) ``timed_out()`` is raised.
        """
        endpoint = self.client_endpoint()
        socket = self.engine_paths.socket
        async with httpx.AsyncClient(
            transport=endpoint.transport(), base_url=endpoint.base_url, timeout=5
        ) as c:
            while True:
                still_starting()
                if endpoint.scheme != "unix" or socket.exists():
                    try:
                        response = await c.get("/_ping")
                        if response.status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                if time.monotonic() > deadline:
                    raise timed_out()
                await asyncio.sleep(interval)

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        with self._status_lock:
            if self._expect_exit or self._proc is not proc:
                return
            if self.status.state is not EngineState.RUNNING:
                return  # start() notices and reports it
            self._idle.clear()
        self._drain_log()
        self._crashed(proc, code)

    def _conclude(self, final: EngineStatus, problem: str = "") -> None:
        if problem and final.state is EngineState.STOPPED:
            final = EngineStatus(EngineState.FAILED, final.endpoint, f"Clean-up failed: {problem}")
        self._proc = None
        self._set_status(final)
        self._release_lock()

    def _drain_log(self) -> None:
        if self._log_writer is not None:
            self._log_writer.join(2.0)

    def _as_owner(self, clean: Callable[[], T]) -> T:
        """Take the lock, run ``clean`` (which removes what a dead engine left behind), record
        the engine STOPPED and let go of the lock. Raises :class:`EngineAlreadyRunning` when a
        live owner holds it."""
        self._make_folders()
        self._acquire_lock()
        try:
            result = clean()
            # whatever the state file said (running, failed), nothing of this engine is left now
            self._on_status(EngineStatus(EngineState.STOPPED, self.endpoint))
        finally:
            self._release_lock()
        return result

    # -- lock and state file --------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        if self._lock_fd is not None:
            return
        lock_file = self.engine_paths.lock_file
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        if not try_lock(fd):
            try:
                refusal = self._refusal(fd)
            finally:
                os.close(fd)
            raise refusal
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
            **self._state_extra(),
            "updated": time.time(),
        }
        state_file = self.engine_paths.state_file
        try:
            write_json_atomic(state_file, state)
        except OSError:
            log.exception("could not write %s", state_file)
