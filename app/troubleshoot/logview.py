"""A live, bounded view of the engine log, and saving it (secrets redacted).

Data flow: on :meth:`LogTail.set_path` the last ``INITIAL_LINES`` lines are read
(``engine.lifecycle.logfile.tail``, which reaches into ``engine.log.1`` after a rotation). A
``QFileSystemWatcher`` watches the file and its folder (inotify on Linux: no polling); a change
schedules one read 100 ms later (a burst of writes is one read), which appends the bytes written
since the last read — at most ``MAX_READ`` of them — and starts again from the top of a new file
when the log was rotated (other inode) or truncated. The view keeps at most ``MAX_LINES`` lines
(``QPlainTextEdit.maximumBlockCount``), so a chatty engine cannot grow it without bound.
Everything runs on the GUI thread; each read is a seek and one bounded ``read``.

"Save log…" writes ``engine.log.1`` + ``engine.log`` through the diagnostics bundle's redaction
step, so a saved log can be shared like a bundle.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QTimer
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from engine.diagnostics.redact import redact_text
from engine.lifecycle import logfile

INITIAL_LINES = 500
MAX_LINES = 3000
MAX_READ = 1024 * 1024


class LogTail(QPlainTextEdit):
    """The last lines of one log file, following new lines while ``follow`` is on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        # dockerd's lines are long (logfmt with paths): wrapped, they read without side-scrolling
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setAccessibleName("Engine log")
        self.follow = True
        self.path: Path | None = None
        self.reads = 0
        self._pos = 0
        self._inode: int | None = None
        self._partial = b""
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._schedule)
        self._watcher.directoryChanged.connect(self._schedule)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self.read_new)

    def set_path(self, path: Path | None) -> None:
        """Show ``path``'s last lines and follow it (None: nothing to show)."""
        watched = self._watcher.files() + self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        self.path = path
        self._partial = b""
        if path is None:
            self.setPlainText("")
            return
        if path.parent.is_dir():
            self._watcher.addPath(str(path.parent))
        self.reload()

    def reload(self) -> None:
        """Read the last lines again from the top."""
        path = self.path
        if path is None:
            return
        try:
            info = path.stat()
        except OSError:
            self.setPlainText(f"(no engine log yet: {path})")
            self._pos, self._inode = 0, None
            return
        self.setPlainText(logfile.tail(path, INITIAL_LINES))
        self._pos, self._inode, self._partial = info.st_size, info.st_ino, b""
        self._watch_file()
        self._scroll_to_end()

    def _watch_file(self) -> None:
        if self.path is not None and str(self.path) not in self._watcher.files():
            self._watcher.addPath(str(self.path))  # again after a rotation dropped it

    def _schedule(self, *_args: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def read_new(self) -> None:
        """Append what was written since the last read (from the top of a rotated file)."""
        path = self.path
        if path is None:
            return
        try:
            info = path.stat()
        except OSError:
            return
        if self._inode is None:
            self.setPlainText("")
        if info.st_ino != self._inode or info.st_size < self._pos:
            self._pos, self._inode, self._partial = 0, info.st_ino, b""
        self._watch_file()
        if info.st_size == self._pos:
            return
        start = max(self._pos, info.st_size - MAX_READ)
        try:
            with open(path, "rb") as handle:
                handle.seek(start)
                data = handle.read(info.st_size - start)
        except OSError:
            return
        self.reads += 1
        skipped = start - self._pos
        self._pos = start + len(data)
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if not cut:
            return
        lines = data[:cut - 1].decode("utf-8", errors="replace").split("\n")
        if len(lines) >= MAX_LINES:  # more than the view keeps: drop them here, not in Qt
            dropped, lines = lines[:1 - MAX_LINES], lines[1 - MAX_LINES:]
            skipped += sum(len(line.encode()) + 1 for line in dropped)
        at_end = self._at_end()
        if skipped:
            self.appendPlainText(f"[… {skipped} bytes not shown …]")
        self.appendPlainText("\n".join(lines))
        if self.follow and at_end:
            self._scroll_to_end()

    def _at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def _scroll_to_end(self) -> None:
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.moveCursor(QTextCursor.MoveOperation.StartOfBlock)
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())


def save_log(source: Path, target: Path) -> int:
    """Write ``source.1`` + ``source`` redacted to ``target`` (atomically); returns its size."""
    parts = []
    for path in (source.with_name(source.name + ".1"), source):
        try:
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
        except FileNotFoundError:
            continue
    if not parts:
        raise FileNotFoundError(2, "No engine log yet", str(source))
    data = redact_text("".join(parts)).encode("utf-8")
    tmp = target.with_name(f".{target.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)
