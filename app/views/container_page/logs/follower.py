"""One container's log streams, across starts, stops and restarts (a plain object on the loop).

Data flow: :meth:`LogFollower.start` inspects the container; :meth:`container_changed` (the page
calls it after every engine event, with a fresh inspect) decides what to read:

- running and no stream for this run -> a follow stream (:func:`engine.log_stream.read_logs`,
  ``timestamps=1``): the last ``tail`` lines the first time, afterwards everything ``since`` the
  last timestamp seen (a restart loses nothing and repeats nothing: lines at or before that
  timestamp that were already delivered are dropped);
- running -> stopped: a notice "stopped (exit code N)"; if the engine's follow stream has not
  ended 1.5 s later (it can stall under a flood) it is cancelled and the end read once;
- ``None``: a notice that the container was removed; nothing more is read.

A follow stream that the engine ends while the container still runs is re-opened ``since`` the
last timestamp (a bounded number of times). Lines go to ``on_lines`` one batch per socket read;
notices to ``on_notice``. :meth:`load_earlier` reads the lines before the first one shown.
Every task is an asyncio task on the qasync loop; :meth:`close` cancels them all.
"""

from __future__ import annotations

import asyncio
import datetime
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from engine.errors import EngineError, NotFound
from engine.log_stream import LogLine, parse_timestamp, read_logs, timestamp_arg
from engine.models import ContainerDetails

DEFAULT_TAIL = 1000
REOPEN_LIMIT = 20
REOPEN_DELAY_S = 0.2
STALL_GRACE_S = 1.5


def now_timestamp() -> str:
    """The current time as the engine writes timestamps (nine fraction digits, UTC)."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


class LogFollower:
    """Reads one container's logs for a view, following it through restarts."""

    def __init__(
        self,
        ctx: Any,
        container_id: str,
        on_lines: Callable[[list[LogLine]], None],
        on_notice: Callable[[str], None],
        *,
        tail: int | str = DEFAULT_TAIL,
    ) -> None:
        self.ctx = ctx
        self.container_id = container_id
        self.tail = tail
        self._on_lines = on_lines
        self._on_notice = on_notice
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stream: asyncio.Task[None] | None = None
        self._run = ""  # StartedAt of the run the stream follows
        self._running: bool | None = None  # as last inspected
        self._removed = False
        self._closed = False
        self._reopen = REOPEN_LIMIT
        self.last_ts = ""
        self._last_seen: set[tuple[int, str]] = set()  # lines delivered at last_ts
        self.received = 0
        self.state = "starting"  # "following", "stopped", "removed", "error"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Inspect the container and start reading (the page's container_changed may come too)."""

        async def first() -> None:
            try:
                details = await self.ctx.client.containers.inspect(self.container_id)
            except NotFound:
                details = None
            if self._running is None and not self._removed:
                self.container_changed(details)

        self._spawn(first())

    def close(self) -> None:
        """Cancel every task and stream; idempotent."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._stream = None

    @property
    def streaming(self) -> bool:
        return self._stream is not None and not self._stream.done()

    def container_changed(self, details: ContainerDetails | None) -> None:
        if self._closed or self._removed:
            return
        if details is None:
            self._removed = True
            self.state = "removed"
            self._on_notice("The container was removed.")
            self.close()
            return
        was_running = self._running
        self._running = details.running
        if details.running:
            new_run = details.started_at != self._run
            if was_running is False or (was_running and new_run and self._run):
                self._on_notice(f"The container started ({_local(details.started_at)}).")
            if new_run or not self.streaming:
                self._run = details.started_at
                self._reopen = REOPEN_LIMIT
                self._open(follow=True, tty=details.tty)
            self.state = "following"
            return
        self.state = "stopped"
        if was_running is None:  # first look: read what there is
            self._open(follow=False, tty=details.tty)
            self._on_notice(_stopped_text(details, "is not running"))
        elif was_running:
            self._on_notice(_stopped_text(details, "stopped"))
            if self.streaming:
                self._spawn(self._read_end_if_stalled(details.tty))

    # -- streams -------------------------------------------------------------------------------

    def _open(self, *, follow: bool, tty: bool) -> None:
        if self._stream is not None:
            self._stream.cancel()
        since = timestamp_arg(self.last_ts) if self.last_ts else None
        tail: int | str = "all" if since else self.tail
        self._stream = self._spawn(self._read(follow=follow, tty=tty, since=since, tail=tail))

    async def _read(self, *, follow: bool, tty: bool, since: str | None, tail: int | str) -> None:
        client = self.ctx.client
        if client is None:
            self._on_notice("Not connected to the engine.")
            return
        try:
            await read_logs(
                client,
                self.container_id,
                self._receive,
                follow=follow,
                tail=tail,
                since=since,
                tty=tty,
            )
        except NotFound:
            self._removed = True
            self.state = "removed"
            self._on_notice("The container was removed.")
            return
        except (EngineError, OSError) as exc:
            self.state = "error"
            self._on_notice(f"The log stream ended: {exc}")
            return
        if follow and self._running and not self._closed:
            # The stream ends when the container stops; the page's container_changed may come
            # later (or never, in a view without a page): look now.
            try:
                details = await client.containers.inspect(self.container_id)
            except NotFound:
                details = None
            if details is None or not details.running or details.started_at != self._run:
                self._stream = None
                self.container_changed(details)
                return
            # Still the same run: the engine gave up early (its json-file reader can, under a
            # flood). Re-open since the last line, a bounded number of times.
            if self._reopen <= 0:
                return
            self._reopen -= 1
            await asyncio.sleep(REOPEN_DELAY_S)
            if self._running and not self._closed:
                since = timestamp_arg(self.last_ts) if self.last_ts else None
                current = asyncio.current_task()
                self._stream = self._spawn(
                    self._read(follow=True, tty=tty, since=since, tail="all" if since else 0)
                )
                if current is not None:
                    self._tasks.discard(current)

    async def _read_end_if_stalled(self, tty: bool) -> None:
        await asyncio.sleep(STALL_GRACE_S)
        if self.streaming and not self._running:
            self._open(follow=False, tty=tty)

    def _receive(self, lines: list[LogLine]) -> None:
        last = self.last_ts
        if last and lines[0][0] <= last:  # a re-opened stream repeats lines at its `since`
            seen = self._last_seen
            lines = [
                line
                for line in lines
                if line[0] > last or (line[0] == last and (line[1], line[2]) not in seen)
            ]
            if not lines:
                return
        newest = lines[-1][0]
        if newest != last:
            self._last_seen = set()
        for line in reversed(lines):
            if line[0] != newest:
                break
            self._last_seen.add((line[1], line[2]))
        self.last_ts = newest
        self.received += len(lines)
        self._on_lines(lines)

    # -- earlier lines -------------------------------------------------------------------------

    def load_earlier(
        self,
        first_ts: str,
        first_lines: set[tuple[int, str]],
        count: int,
        on_done: Callable[[list[LogLine]], None],
        *,
        have: int,
        tty: bool = False,
    ) -> None:
        """Read up to ``count`` lines before ``first_ts`` and hand them to ``on_done``.

        ``first_lines`` are the lines shown with that very timestamp (not repeated); ``have`` is
        how many log lines are held from the first one on. The engine applies ``tail`` before
        ``until``, so the tail asked for covers those plus ``count`` (and some written since);
        if that was not enough, the whole log is read keeping only the last ``count`` lines.
        """
        client = self.ctx.client
        until = timestamp_arg(first_ts)
        if client is None or until is None:
            on_done([])
            return

        async def read() -> None:
            for tail in (have + count + 100, "all"):
                got: deque[LogLine] = deque(maxlen=None if tail != "all" else count + 1000)
                await read_logs(
                    client,
                    self.container_id,
                    got.extend,
                    tail=tail,
                    until=until,
                    tty=tty,
                )
                before = [
                    line
                    for line in got
                    if line[0] < first_ts or (line[0] == first_ts and line[1:] not in first_lines)
                ]
                if len(before) >= count or tail == "all" or len(got) < int(tail):
                    on_done(before[-count:])
                    return

        self._spawn(read(), on_error=lambda exc: self._on_notice(f"Could not load: {exc}"))

    # -- tasks ---------------------------------------------------------------------------------

    def _spawn(
        self,
        coro: Coroutine[Any, Any, None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if t.cancelled() or self._closed:
                return
            exc = t.exception()
            if exc is None:
                return
            if isinstance(exc, RuntimeError) and "already deleted" in str(exc):
                self.close()  # the view went away without close_tab (its window was deleted)
                return
            if on_error is not None:
                on_error(exc)
            else:
                self._on_notice(f"Reading the logs failed: {exc}")

        task.add_done_callback(done)
        return task


def _local(rfc3339: str) -> str:
    seconds = parse_timestamp(rfc3339) if rfc3339 and not rfc3339.startswith("0001") else None
    if seconds is None:
        return "time unknown"
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def _stopped_text(details: ContainerDetails, verb: str) -> str:
    when = _local(details.finished_at)
    return f"The container {verb} (exit code {details.exit_code}, {when})."
