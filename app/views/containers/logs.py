"""The log pane: a bounded plain-text view that keeps up with any log rate by dropping.

Data flow: :func:`follow_logs` (a task on the loop) reads the container's log stream and calls
:meth:`LogPane.feed` with each decoded piece. ``feed`` only appends the piece to a bounded
buffer and counts its newlines (C speed): once the buffer holds more than the pane can show
(``LOG_TAIL_LINES``), whole pieces fall off the front and are only counted. ONE timer flushes the
buffer every :data:`FLUSH_MS` while data arrives: the kept lines are joined and inserted in one
edit, after a "… N lines skipped …" marker when lines were dropped (the document is cleared
first: the batch alone fills the pane). The timer stops as soon as a tick finds nothing, so the
app is idle again the moment the stream goes quiet.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from engine.errors import EngineError, NotFound

LOG_TAIL_LINES = 5000
FLUSH_MS = 100


def skipped_marker(n: int) -> str:
    return f"… {n:,} lines skipped …"


class LogPane(QPlainTextEdit):
    """A bounded log view: keeps the last ``cap`` lines, appends in batches, drops a flood."""

    def __init__(self, parent: QWidget | None = None, *, cap: int = LOG_TAIL_LINES) -> None:
        super().__init__(parent)
        self.cap = cap
        self.setReadOnly(True)
        self.setMaximumBlockCount(cap)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setUndoRedoEnabled(False)
        font = self.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.setFont(font)
        self._pieces: deque[str] = deque()
        self._piece_lines: deque[int] = deque()
        self._lines = 0  # newlines in the buffer
        self._dropped = 0  # lines dropped since the last flush
        self.dropped_total = 0  # for tests and benchmarks
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    def feed(self, text: str) -> None:
        """Buffer a piece of log text (cheap: never splits lines, never touches the widget)."""
        n = text.count("\n")
        self._pieces.append(text)
        self._piece_lines.append(n)
        self._lines += n
        # Whole pieces the pane could not show anyway fall off the front, only counted.
        while len(self._pieces) > 1 and self._lines - self._piece_lines[0] >= self.cap:
            self._pieces.popleft()
            gone = self._piece_lines.popleft()
            self._lines -= gone
            self._dropped += gone
        if not self._timer.isActive():
            self._timer.start()

    @property
    def buffered_lines(self) -> int:
        return self._lines

    def flush(self) -> None:
        if not self._pieces:
            self._timer.stop()  # runs only while data arrives
            return
        text = "".join(self._pieces)
        self._pieces.clear()
        self._piece_lines.clear()
        lines, self._lines = self._lines, 0
        dropped, self._dropped = self._dropped, 0
        keep = self.cap - 1 if (dropped or lines >= self.cap) else self.cap
        if lines > keep:  # one big piece: cut its head (split stops after ``cut`` lines)
            cut = lines - keep
            text = text.split("\n", cut)[-1]
            dropped += cut
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        if dropped:
            self.dropped_total += dropped
            # The batch fills the pane by itself: start from a clean document, not trim 5,000
            # blocks one by one.
            self.clear()
            text = skipped_marker(dropped) + "\n" + text
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end or dropped:
            bar.setValue(bar.maximum())

    def reset(self) -> None:
        self._pieces.clear()
        self._piece_lines.clear()
        self._lines = 0
        self._dropped = 0
        self._timer.stop()
        self.clear()


async def follow_logs(client: Any, cid: str, pane: LogPane, *, tail: int | str) -> None:
    """Feed ``pane`` from the container's log stream until it ends (or the task is cancelled)."""
    try:
        async for _kind, text in client.containers.logs(cid, follow=True, tail=tail):
            pane.feed(text)
    except NotFound:
        pane.feed("\n[the container was removed]\n")
    except (EngineError, OSError) as exc:
        pane.feed(f"\n[log stream ended: {exc}]\n")
