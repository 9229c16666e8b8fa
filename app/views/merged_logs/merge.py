"""A :class:`~app.views.container_page.logs.buffer.LogBuffer` kept in time order across sources.

Each container's stream delivers its own lines in time order, but two streams' batches arrive in
any order (the first tail of one container comes before the other's). Lines are tuples
``(timestamp, stream, text, source)`` with the engine's fixed-width RFC 3339 timestamps, so
string order is time order. A batch that starts at or after the newest line held is appended
(the common case while following); an earlier ("late") batch waits until the view's next draw,
where all late lines are merged in one pass (``heapq.merge`` of two sorted runs) and the view
redraws. So out-of-order arrivals cost one merge per draw tick, not one per batch.
"""

from __future__ import annotations

import heapq
from collections import deque
from operator import itemgetter

from app.views.container_page.logs.buffer import Line, LogBuffer

_TS = itemgetter(0)


class MergedBuffer(LogBuffer):
    """The last ``cap`` lines of several sources, in time order."""

    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self._late: list[Line] = []

    def add(self, lines: list[Line]) -> None:
        if not lines:
            return
        if not self.lines or lines[0][0] >= self.lines[-1][0]:
            super().add(lines)
        else:
            self._late.extend(lines)

    @property
    def has_pending(self) -> bool:
        return bool(self._late) or super().has_pending

    def take(self, limit: int = 0) -> tuple[list[Line], bool]:
        if self._late:
            late, self._late = sorted(self._late, key=_TS), []
            merged = list(heapq.merge(self.lines, late, key=_TS))
            self.received += len(late)
            self.dropped += max(0, len(merged) - self.cap)
            self.lines = deque(merged[-self.cap :], maxlen=self.cap)
            self._overflow = True  # the view starts over from the merged store
        return super().take(limit)

    def clear(self) -> None:
        self._late = []
        super().clear()
