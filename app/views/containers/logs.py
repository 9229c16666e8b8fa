"""The log pane: a bounded plain-text view fed by a container's log stream.

The stream reader (a task on the loop, see :mod:`app.views.containers.details`) calls
:meth:`LogPane.feed` with each decoded piece; the pane buffers pieces and appends them once per
timer tick, keeping at most ``LOG_TAIL_LINES`` lines.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

LOG_TAIL_LINES = 5000


class LogPane(QPlainTextEdit):
    """A bounded log view: keeps the last LOG_TAIL_LINES lines, appends in batches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(LOG_TAIL_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = self.font()
        font.setFamily("monospace")
        font.setStyleHint(font.StyleHint.Monospace)
        self.setFont(font)
        self._buffer: list[str] = []
        self._buffered = 0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.flush)

    def feed(self, text: str) -> None:
        self._buffer.append(text)
        self._buffered += len(text)
        if self._buffered > 4_000_000:  # a flood: keep only the tail we would show anyway
            joined = "".join(self._buffer)
            self._buffer = ["\n".join(joined.splitlines()[-LOG_TAIL_LINES:]) + "\n"]
            self._buffered = len(self._buffer[0])
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        if not self._buffer:
            self._timer.stop()  # runs only while data arrives
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end:
            bar.setValue(bar.maximum())

    def reset(self) -> None:
        self._buffer.clear()
        self._buffered = 0
        self._timer.stop()
        self.clear()
