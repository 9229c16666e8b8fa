"""The log pane: a bounded plain-text view that keeps up with any log rate by dropping.

Data flow: :func:`follow_logs` (a task on the loop) reads the container's log stream as raw
chunks (``client.containers.log_chunks``), strips the multiplexed frame headers of a whole chunk
at once (:class:`FramePayloads`: only headers are looked at, nothing is decoded) and calls
:meth:`LogPane.feed_bytes` once per chunk — not once per line, which is what made a 250k-lines/s
container fall a minute behind. ``feed_bytes`` only appends the bytes to a bounded buffer and
counts their newlines (C speed): once the buffer holds more than the pane can show
(``LOG_TAIL_LINES``), whole chunks fall off the front and are only counted, never decoded. ONE
timer flushes the buffer every :data:`FLUSH_MS` while data arrives: the kept bytes are decoded
and inserted in one edit, after a "… N lines skipped …" marker when lines were dropped (the
document is cleared first: the batch alone fills the pane). The timer stops as soon as a tick
finds nothing, so the app is idle again the moment the stream goes quiet.
"""

from __future__ import annotations

import asyncio
import codecs
import struct
import time
from collections import deque
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from engine.errors import EngineError, NotFound

LOG_TAIL_LINES = 5000
FLUSH_MS = 100
RESYNC_S = 0.5  # a flooded stream is re-opened at the tail at most this often
# More than this is more than anyone reads, and near what the reader can take through httpx
# (~20k lines/s): follow the tail instead.
FLOOD_LINES_PER_S = 10_000
RESYNC_TAIL = 2000  # lines asked for when re-opening a flooded stream
REOPEN_LIMIT = 50  # follow streams the engine ended early, re-opened per container shown
REOPEN_DELAY_S = 0.1


_HEADER = struct.Struct(">B3xL")  # stream id, padding, payload size


def skipped_marker(n: int, more: bool = False) -> str:
    """The line that stands for dropped lines (``more``: the engine skipped an unknown number)."""
    if more and not n:
        return "… lines skipped: showing the newest …"
    return f"… {'more than ' if more else ''}{n:,} lines skipped …"


class FramePayloads:
    """Multiplexed log frames -> their payload bytes, a whole chunk at a time (pure).

    Only the 8-byte headers are read; payloads are sliced out and joined, stdout and stderr
    alike (the pane shows them interleaved, as ``docker logs`` does in a terminal). An
    unfinished frame waits for the next chunk.
    """

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._rest + chunk if self._rest else bytes(chunk)
        out: list[bytes] = []
        pos, total, unpack = 0, len(data), _HEADER.unpack_from
        while total - pos >= 8:
            _stream, size = unpack(data, pos)
            end = pos + 8 + size
            if end > total:
                break
            out.append(data[pos + 8 : end])
            pos = end
        self._rest = data[pos:]
        return b"".join(out)


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
        self._pieces: deque[bytes] = deque()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._piece_lines: deque[int] = deque()
        self._lines = 0  # newlines in the buffer
        self._dropped = 0  # lines dropped since the last flush
        self._skipped_unknown = False  # the engine skipped lines for us (a re-opened stream)
        self.flooded = False  # the last flush had to drop lines
        self.lines_fed = 0
        self.dropped_total = 0  # for tests and benchmarks
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    def feed(self, text: str) -> None:
        """Buffer a piece of text (a message of ours)."""
        self.feed_bytes(text.encode())

    def feed_bytes(self, data: bytes) -> None:
        """Buffer log bytes (cheap: never decodes, never splits lines, never touches the widget)."""
        if not data:
            return
        n = data.count(b"\n")
        self._pieces.append(data)
        self._piece_lines.append(n)
        self._lines += n
        self.lines_fed += n
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

    def skip_buffer(self) -> None:
        """The stream is re-opened at its tail: what is buffered is superseded (and counted)."""
        self._dropped += self._lines
        self._skipped_unknown = True
        self._pieces.clear()
        self._piece_lines.clear()
        self._lines = 0
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._pieces:
            self.flooded = False
            self._timer.stop()  # runs only while data arrives
            return
        if self._dropped:
            self._decoder.reset()  # the bytes before these were never decoded
        text = self._decoder.decode(b"".join(self._pieces))
        self._pieces.clear()
        self._piece_lines.clear()
        lines, self._lines = self._lines, 0
        dropped, self._dropped = self._dropped, 0
        more, self._skipped_unknown = self._skipped_unknown, False
        self.flooded = dropped > 0
        # When dropping, the pane is cleared and holds the marker, the kept lines and the empty
        # block after the last newline: all within the cap, or the marker itself is trimmed.
        keep = self.cap - 2 if (dropped or more or lines >= self.cap) else self.cap
        if lines > keep:  # one big piece: cut its head (split stops after ``cut`` lines)
            cut = lines - keep
            text = text.split("\n", cut)[-1]
            dropped += cut
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        if dropped or more:
            self.dropped_total += dropped
            # The batch fills the pane by itself: start from a clean document, not trim 5,000
            # blocks one by one.
            self.clear()
            text = skipped_marker(dropped, more) + "\n" + text
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end or dropped or more:
            bar.setValue(bar.maximum())

    def reset(self) -> None:
        self._pieces.clear()
        self._piece_lines.clear()
        self._lines = 0
        self._dropped = 0
        self._skipped_unknown = False
        self.flooded = False
        self._decoder.reset()
        self._timer.stop()
        self.clear()


async def follow_logs(client: Any, cid: str, pane: LogPane, *, tail: int | str) -> None:
    """Feed ``pane`` from the container's log stream until it ends (or the task is cancelled).

    The engine may also end a follow stream early while a flood is written (its json-file
    reader gives up at a half-written line): a stream that ends while the container still runs
    is re-opened at its tail, a bounded number of times.
    """
    reopen = REOPEN_LIMIT
    skipped = False
    try:
        while True:
            if not await _follow_once(client, cid, pane, tail):
                if reopen <= 0 or not await _running(client, cid):
                    if skipped:
                        # A re-opened follow stream can miss the lines written between its
                        # tail and the exit: read the end once more, without following.
                        pane.skip_buffer()
                        await _follow_once(client, cid, pane, RESYNC_TAIL, follow=False)
                    return
                reopen -= 1
                await asyncio.sleep(REOPEN_DELAY_S)
            pane.skip_buffer()
            skipped = True
            tail = min(pane.cap, RESYNC_TAIL)
    except NotFound:
        pane.feed("\n[the container was removed]\n")
    except (EngineError, OSError) as exc:
        pane.feed(f"\n[log stream ended: {exc}]\n")


async def read_end(client: Any, cid: str, pane: LogPane) -> None:
    """Replace the pane's content by the container's last lines (a follow stream got stuck).

    Under a flood the engine's follow stream can stall and never end, even after the container
    exited; the details pane calls this when the row says the container stopped but the stream
    is still open.
    """
    pane.skip_buffer()
    try:
        await _follow_once(client, cid, pane, RESYNC_TAIL, follow=False)
    except NotFound:
        pane.feed("\n[the container was removed]\n")
    except (EngineError, OSError) as exc:
        pane.feed(f"\n[log stream ended: {exc}]\n")


async def _running(client: Any, cid: str) -> bool:
    details = await client.containers.inspect(cid)
    return bool(((getattr(details, "raw", {}) or {}).get("State") or {}).get("Running"))


async def _follow_once(
    client: Any, cid: str, pane: LogPane, tail: int | str, *, follow: bool = True
) -> bool:
    """Read one logs stream; True when it was given up because the pane is flooded.

    A flooded stream is left by cancelling the task that reads it, not by leaving the
    ``async for``: the cancellation arrives inside httpx's own socket read and unwinds every
    generator of the stream in this task, where closing the generators from outside would leave
    httpx's inner ones to the garbage collector (outside any task).
    """
    frames = FramePayloads()
    opened = time.monotonic()
    fed = pane.lines_fed
    flooded = False

    async def read() -> None:
        nonlocal flooded
        async for multiplexed, chunk in client.containers.log_chunks(cid, follow=follow, tail=tail):
            pane.feed_bytes(frames.feed(chunk) if multiplexed else chunk)
            elapsed = time.monotonic() - opened
            if (
                follow
                and elapsed > RESYNC_S
                and (pane.flooded or pane.lines_fed - fed > FLOOD_LINES_PER_S * elapsed)
            ):
                flooded = True
                reader.cancel()

    reader = asyncio.ensure_future(read())
    try:
        await reader
    except asyncio.CancelledError:
        if not flooded or not reader.cancelled():
            raise
    return flooded
