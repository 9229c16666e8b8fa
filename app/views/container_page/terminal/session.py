"""One interactive exec with a TTY: the I/O between a terminal widget and a container's shell.

Data flow (all on the qasync loop, started through ``ctx.runner``): :meth:`TerminalSession.start`
creates the exec (``POST /containers/{id}/exec`` with a TTY and stdin, ``TERM=xterm-256color``),
starts it over the hijacked connection (:class:`engine.hijack.ExecSession`), sets its size, then
reads raw TTY bytes and emits each chunk as ``output`` (the widget feeds pyte and batches the
repaints). Keys arrive through :meth:`write` into a queue that one writer task drains, so bytes
reach the shell in order however fast they are typed. :meth:`resize` is debounced
(:data:`RESIZE_DEBOUNCE_MS`) into ``POST /exec/{id}/resize``. When the stream ends the exit code
is read (``GET /exec/{id}/json``) and ``ended`` carries a message that says what happened: the
shell is missing (126/127), the user does not exist, the container is not running, or the shell
exited.

Closing: the engine does NOT end an exec when its connection closes (the shell would live on in
the container), so :meth:`close` (or the app quitting) also hangs up the session inside the
container: every exec gets a random ``PORTSIDE_TERMINAL_ID`` in its environment, and a short
second exec sends SIGHUP (then SIGKILL) to every process that carries it — the shell and
whatever it started (``top``, ``vi``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from engine.errors import Conflict, EngineAPIError, NotFound, PortsideError

log = logging.getLogger(__name__)

RESIZE_DEBOUNCE_MS = 80
#: Unparsed output (bytes) in the widget above which the session stops reading.
BACKLOG_HIGH = 64 * 1024
TOKEN_VAR = "PORTSIDE_TERMINAL_ID"

#: SIGHUP to every process whose environment has the token (``$1``), then SIGKILL to those
#: still alive after ~1 s (``top`` only looks at its signals between refreshes). Zombies count
#: as gone: in a container without an init, PID 1 may never reap an orphan.
HANGUP_SCRIPT = """
found() {
  for d in /proc/[0-9]*; do
    tr "\\000" "\\n" < "$d/environ" 2>/dev/null | grep -qx "$1" && echo "${d#/proc/}"
  done
}
alive() {
  for q in $1; do
    grep -q "^State:[[:space:]]*[^Z]" "/proc/$q/status" 2>/dev/null && echo "$q"
  done
}
p=$(found "$1")
[ -n "$p" ] || exit 0
kill -HUP $p 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do
  p=$(alive "$p")
  [ -n "$p" ] || exit 0
  sleep 0.1
done
kill -KILL $p 2>/dev/null
exit 0
"""

#: Keep hang-up tasks alive after their terminal is gone.
_BACKGROUND: set[asyncio.Task[Any]] = set()


def create_error_message(exc: BaseException) -> str:
    """What to tell the user when the engine refuses to create the exec."""
    text = str(exc)
    if isinstance(exc, Conflict) or (isinstance(exc, EngineAPIError) and exc.status == 409):
        if "paused" in text.lower():
            return "The container is paused. Resume it to open a terminal."
        return "The container is not running. Start it to open a terminal."
    if isinstance(exc, NotFound):
        return "The container no longer exists."
    return f"Could not open a terminal: {text}"


def exit_message(code: int | None, tail: bytes, command: Sequence[str], user: str) -> str:
    """What to tell the user when the exec ended (``tail``: its last output bytes)."""
    text = tail.decode("utf-8", "replace").lower()
    program = command[0] if command else "sh"
    if code in (126, 127) and "unable to find user" in text:
        return (
            f"There is no user “{user}” in this container. Leave User empty for the "
            "image's default user, or give a name or UID from its /etc/passwd."
        )
    if code in (126, 127) and ("not found" in text or "no such file" in text):
        return (
            f"“{program}” is not in this container (exit code {code}). Choose another shell: "
            "sh is in most images, bash only in some."
        )
    if code == 126:
        return f"“{program}” could not be started (exit code 126: permission denied?)."
    if code is None:
        return "The terminal was disconnected."
    if code == 0:
        return "The shell exited."
    return f"The shell exited with code {code}."


@dataclass(frozen=True)
class ShellTarget:
    """What a terminal runs: a command in a container, as a user ("" for the image's own).

    The pane keeps one and hands it to every session it starts (Reconnect starts the same).
    """

    container_id: str
    command: tuple[str, ...] = ("sh",)
    user: str = ""
    #: the container's name when known (the engine switch's question says it), else ""
    name: str = ""

    @classmethod
    def of(cls, container_id: str, command: Sequence[str], user: str = "",
           name: str = "") -> ShellTarget:
        """From the Terminal tab's boxes: no command means ``sh``; the user without blanks."""
        return cls(container_id, tuple(command) or ("sh",), user.strip(), name)


class TerminalSession(QObject):
    """A shell in a container over one exec (TTY, stdin attached).

    Signals:
        output(bytes): raw TTY output, chunk by chunk.
        started(): the exec runs; the widget may take keys.
        ended(str): the exec is over (or never started); the message says why.
    """

    output = Signal(bytes)
    started = Signal()
    ended = Signal(str)

    def __init__(self, ctx: Any, target: ShellTarget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.target = target
        self.token = secrets.token_hex(8)
        self.exec_id: str | None = None
        self.exit_code: int | None = None
        self.running = False
        self.resizes_sent: list[tuple[int, int]] = []
        #: How far the terminal is behind (its unparsed bytes); the pane connects the widget.
        self.backlog: Callable[[], int] = lambda: 0
        self._drained = asyncio.Event()
        self._size = (24, 80)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._task: asyncio.Task[Any] | None = None
        self._closed = False
        self._ended = False
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(RESIZE_DEBOUNCE_MS)
        self._resize_timer.timeout.connect(self._send_resize)

    # -- control ------------------------------------------------------------------------------
    def start(self, rows: int, columns: int) -> None:
        """Create and start the exec with this terminal size."""
        self._size = (rows, columns)
        self._task = self._ctx.runner.run(
            self._run,
            key=f"terminal.{self.token}",
            title="Terminal",
            on_error=self._failed,
            work=f"Terminal ({' '.join(self.target.command)}) in "
            + (self.target.name or f"container {self.target.container_id[:12]}"),
        )

    def write(self, data: bytes) -> None:
        """Queue bytes for the shell's stdin (kept in order; typed-ahead keys wait for start)."""
        if not self._closed and not self._ended:
            self._queue.put_nowait(data)

    def drained(self) -> None:
        """The terminal caught up (its backlog is low): reading may go on."""
        self._drained.set()

    def resize(self, rows: int, columns: int) -> None:
        """The widget's new size; reaches the exec after a short quiet period."""
        self._size = (rows, columns)
        if self.running:
            self._resize_timer.start()

    def close(self) -> None:
        """End the terminal: close the stream and hang up the processes in the container."""
        if self._closed:
            return
        self._closed = True
        if shiboken6.isValid(self._resize_timer):
            self._resize_timer.stop()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        client = self._ctx.client
        if self.exec_id is not None and not self._ended and client is not None:
            task = asyncio.ensure_future(
                hang_up(client, self.target.container_id, self.token, self.target.user)
            )
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
            hold = getattr(self._ctx, "hold_client", None)
            if hold is not None:  # an engine switch waits for the hang-up before closing
                hold(task)

    # -- the exec -----------------------------------------------------------------------------
    async def _run(self) -> None:
        client = self._ctx.client
        if client is None:
            self._end("Not connected to the engine.")
            return
        try:
            self.exec_id = await client.execs.create(
                self.target.container_id,
                list(self.target.command),
                tty=True,
                stdin=True,
                env=["TERM=xterm-256color", f"{TOKEN_VAR}={self.token}"],
                user=self.target.user or None,
            )
        except EngineAPIError as exc:
            self._end(create_error_message(exc))
            return
        session = client.execs.start(self.exec_id, tty=True, stdin=True)
        writer: asyncio.Task[None] | None = None
        tail = b""
        try:
            await session.open()
            self.running = True
            with contextlib.suppress(EngineAPIError):
                await self._apply_size(client)
            self.started.emit()
            writer = asyncio.ensure_future(self._write_loop(session))
            async for frame in session.frames():
                tail = (tail + frame.data)[-1024:]
                if not shiboken6.isValid(self):  # its pane was deleted without close()
                    return
                self.output.emit(frame.data)
                while self.backlog() > BACKLOG_HIGH:
                    # the widget is behind: stop reading, so the program's TTY fills and it
                    # waits, as it would for a slow terminal (memory stays bounded too)
                    self._drained.clear()
                    await self._drained.wait()
            self.running = False
            try:
                self.exit_code = await session.exit_code(max_wait=3.0)
            except EngineAPIError:
                self.exit_code = None
            self._end(exit_message(self.exit_code, tail, self.target.command, self.target.user))
        except asyncio.CancelledError:
            if not self._closed and not self._ended:
                # Cancelled without close(): the app is quitting (AppContext.shutdown cancels
                # every runner task, then waits a moment for them before closing the client).
                # Hang up now, while the client is still there, or the shell outlives the app.
                # Best effort: whatever goes wrong while quitting is not worth a dialog.
                with contextlib.suppress(Exception):
                    await hang_up(client, self.target.container_id, self.token, self.target.user)
            raise
        finally:
            self.running = False
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, PortsideError, OSError):
                    await writer
            with contextlib.suppress(PortsideError, OSError):
                await session.aclose()

    async def _write_loop(self, session: Any) -> None:
        while True:
            data = await self._queue.get()
            while not self._queue.empty():
                data += self._queue.get_nowait()
            await session.write(data)

    async def _apply_size(self, client: Any) -> None:
        rows, columns = self._size
        if self.exec_id is None:
            return
        await client.execs.resize(self.exec_id, rows, columns)
        self.resizes_sent.append((rows, columns))

    def _send_resize(self) -> None:
        client = self._ctx.client
        if client is None or not self.running or self._closed:
            return

        async def _go() -> None:
            try:
                await self._apply_size(client)
            except EngineAPIError as exc:  # the exec ended meanwhile: nothing to resize
                log.debug("terminal resize failed: %s", exc)

        self._ctx.runner.run(_go, key=f"terminal.resize.{self.token}", title="Resize terminal")

    def _end(self, message: str) -> None:
        if self._ended:
            return
        self._ended = True
        self.running = False
        if not self._closed and shiboken6.isValid(self):
            self.ended.emit(message)

    def _failed(self, exc: BaseException) -> bool:
        """Errors of the stream (engine gone, connection broken) end the terminal in place."""
        if isinstance(exc, PortsideError | OSError):
            self._end(f"The terminal was disconnected: {exc}")
            return True
        return False


async def hang_up(client: Any, container_id: str, token: str, user: str = "") -> None:
    """SIGHUP (then SIGKILL) every process of one terminal inside the container.

    A process's environment is readable by its own user (root too needs CAP_SYS_PTRACE for
    others', which containers do not get), so the script runs as the terminal's user and then
    as root (for whatever became root through su). Needs ``sh``, ``tr`` and ``grep`` in the
    container; without them the processes stay (logged).
    """
    for who in dict.fromkeys([user or None, "0"]):
        try:
            code, _out, err = await client.execs.run(
                container_id,
                ["sh", "-c", HANGUP_SCRIPT, "sh", f"{TOKEN_VAR}={token}"],
                user=who,
            )
        except PortsideError as exc:  # container stopped or gone: its processes are gone too
            log.debug("terminal hang-up skipped: %s", exc)
            return
        if code != 0:
            log.warning("ending a terminal's processes failed (exit %s): %s", code, err.strip())
