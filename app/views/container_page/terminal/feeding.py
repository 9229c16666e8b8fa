"""Output into pyte without freezing the window: small chunks at once, floods in timed slices.

Data flow: the widget's ``feed`` hands each chunk of exec output to :meth:`FeedQueue.feed`.
pyte parses ~0.85-2 MB per CPU second (short lines are the slow case), so a 64 KB read parsed
at once would hold the GUI thread up to ~0.08 s, far longer on a busy machine. A small chunk
(typing, a prompt) with nothing queued before it is parsed at once; anything else is queued
and parsed :data:`FEED_SLICE` bytes at a time, for at most :data:`FEED_BUDGET_S` per turn of
the event loop (a zero-interval timer gives the loop back in between). After each batch
``parsed`` runs (the widget schedules its repaint). :attr:`backlog` is what is still unparsed;
the session stops reading from the exec above its own high-water mark and ``drained`` (backlog
below :data:`BACKLOG_LOW`) lets it read on, so a flood slows the program, as any slow terminal
does, and memory stays bounded.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

FEED_SLICE = 512
FEED_BUDGET_S = 0.008
BACKLOG_LOW = 16 * 1024


class FeedQueue(QObject):
    """Feeds a parser in time-boxed slices.

    Signals:
        drained(): the backlog fell below :data:`BACKLOG_LOW`.
    """

    drained = Signal()

    def __init__(
        self,
        parse: Callable[[bytes], None],
        parsed: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._parse = parse
        self._parsed = parsed
        self._pending: deque[bytes] = deque()
        self._backlog = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._parse_some)

    @property
    def backlog(self) -> int:
        """Bytes received but not parsed yet."""
        return self._backlog

    def feed(self, data: bytes) -> None:
        if not self._pending and len(data) <= FEED_SLICE:
            self._parse(data)
            self._parsed()
            return
        self._pending.append(data)
        self._backlog += len(data)
        if not self._timer.isActive():
            self._timer.start()

    def _parse_some(self) -> None:
        deadline = time.perf_counter() + FEED_BUDGET_S
        pending = self._pending
        while pending and time.perf_counter() < deadline:
            chunk = pending[0]
            piece = chunk[:FEED_SLICE]
            if len(chunk) > FEED_SLICE:
                pending[0] = chunk[FEED_SLICE:]
            else:
                pending.popleft()
            self._backlog -= len(piece)
            self._parse(piece)
        self._parsed()
        if pending:
            self._timer.start()
        if self._backlog < BACKLOG_LOW:
            self.drained.emit()
