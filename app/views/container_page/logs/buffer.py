"""The bounded store of log lines behind a log view (pure Python, no Qt).

Lines arrive from the stream callback in batches (:meth:`LogBuffer.add`, cheap: two ``extend``
calls); the view's flush timer takes what is pending (:meth:`LogBuffer.take`) and draws it. Both
the store and the pending list hold at most ``cap`` lines: under a flood the oldest lines fall
off the store (``deque(maxlen=cap)``) and off the pending list, and ``take`` says so, so the view
redraws from the store instead of appending more than it can hold. Memory is bounded by the cap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

DEFAULT_CAP = 10_000
NOTICE = 0  # the stream of our own notices ("the container stopped")

Line = tuple[Any, ...]  # (timestamp, stream, text) or (timestamp, stream, text, source)


class LogBuffer:
    """The last ``cap`` lines, and the ones not drawn yet."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = max(1, cap)
        self.lines: deque[Line] = deque(maxlen=self.cap)
        self._pending: list[Line] = []
        self._overflow = False
        self.received = 0  # lines added since the start (for "load earlier")
        self.dropped = 0  # lines that fell off the store

    def add(self, lines: list[Line]) -> None:
        over = len(self.lines) + len(lines) - self.cap
        if over > 0:
            self.dropped += over
        self.lines.extend(lines)
        self._pending.extend(lines)
        self.received += len(lines)
        if len(self._pending) > self.cap:
            del self._pending[: len(self._pending) - self.cap]
            self._overflow = True

    @property
    def pending_count(self) -> int:
        """How many of the newest lines are not drawn yet (after an overflow: none is, but the
        store is all new lines then, and the view shows them rather than nothing)."""
        return 0 if self._overflow else len(self._pending)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending) or self._overflow

    def take(self, limit: int = 0) -> tuple[list[Line], bool]:
        """What to draw next: up to ``limit`` pending lines (0: all), and True when the view must
        start over (the store changed under it: the lines returned, and the ones still pending
        after them, are then the whole store)."""
        overflow, self._overflow = self._overflow, False
        if overflow:
            self._pending = list(self.lines)
        if limit and len(self._pending) > limit:
            pending = self._pending[:limit]
            del self._pending[:limit]
        else:
            pending, self._pending = self._pending, []
        return pending, overflow

    def prepend(self, lines: Iterable[Line]) -> int:
        """Put older lines before the first one; the cap grows to keep them (the user asked)."""
        older = list(lines)
        if not older:
            return 0
        if len(self.lines) + len(older) > self.cap:
            self.set_cap(len(self.lines) + len(older))
        self.lines.extendleft(reversed(older))
        return len(older)

    def set_cap(self, cap: int) -> None:
        """A new cap; a smaller one drops the oldest lines now."""
        self.cap = max(1, cap)
        kept = list(self.lines)[-self.cap :]
        self.dropped += len(self.lines) - len(kept)
        self.lines = deque(kept, maxlen=self.cap)
        self._pending = []
        self._overflow = True

    def clear(self) -> None:
        self.lines.clear()
        self._pending = []
        self._overflow = True

    def first_timestamp(self) -> str:
        for line in self.lines:
            if line[1] != NOTICE and line[0]:
                return str(line[0])
        return ""
