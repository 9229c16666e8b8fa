"""The engine log: a size-rotated file fed from dockerd's output pipe, and its tail."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

#: engine.log grows to this size, then becomes engine.log.1 (and .1 -> .2, ...).
MAX_BYTES = 10 * 1024 * 1024
#: How many rotated files are kept (engine.log.1 .. engine.log.N).
BACKUPS = 3


def rotate(path: Path, backups: int = BACKUPS) -> None:
    """Shift ``path`` to ``path.1`` (and ``.1`` to ``.2`` ...), dropping the oldest."""
    for index in range(backups, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        newer = path if index == 1 else path.with_name(f"{path.name}.{index - 1}")
        if newer.exists():
            os.replace(newer, older)


def rotate_if_full(path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> bool:
    """Rotate ``path`` when it has reached ``max_bytes``; returns whether it did."""
    try:
        full = path.stat().st_size >= max_bytes
    except FileNotFoundError:
        return False
    if full:
        rotate(path, backups)
    return full


def open_private(path: Path) -> BinaryIO:
    """``path`` opened for appending, unbuffered, readable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    # a file from an older version may still be 0644; another user's is not ours to change
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab", buffering=0)


class RotatingLogWriter:
    """Copies everything read from ``fd`` into ``path``, rotating it at ``max_bytes``.

    Runs on its own daemon thread, so the pipe is drained even while no event loop runs (a blocked
    pipe would stall dockerd). The thread ends when the write end of the pipe is closed.

    A write that fails (a full disk, a quota) never ends the thread: the pipe is still drained,
    what could not be written is counted, and with the next output after space returns the log
    gets a line saying how much was lost (after ending a line the failure cut short).
    """

    def __init__(
        self,
        fd: int,
        path: Path,
        *,
        max_bytes: int = MAX_BYTES,
        backups: int = BACKUPS,
        on_output: Callable[[bytes], None] | None = None,
    ):
        self._fd = fd
        #: also handed every chunk read, on this thread (the VM's console readiness lines)
        self._on_output = on_output
        self._path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._out: BinaryIO | None = None
        self._size = 0
        self._lost = 0
        self._why = ""
        self._cut = False  # the file ends inside a line
        self._thread = threading.Thread(target=self._run, name=f"engine-log:{path}", daemon=True)

    def start(self) -> None:
        """Begin copying (rotates first when the existing log is already full)."""
        with contextlib.suppress(OSError):
            rotate_if_full(self._path, self._max_bytes, self._backups)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the pipe is drained and closed."""
        self._thread.join(timeout)

    @property
    def lost(self) -> int:
        """Bytes of output not (yet) accounted for in the log because writing failed."""
        return self._lost

    def _run(self) -> None:
        try:
            while True:
                try:
                    chunk = os.read(self._fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self._feed(chunk)
                if self._on_output is not None:
                    try:
                        self._on_output(chunk)
                    except Exception:  # a reader's bug must not stop the log (or block the pipe)
                        log.exception("the engine output reader failed")
                        self._on_output = None
        finally:
            if self._out is not None:
                self._out.close()
            os.close(self._fd)

    def _feed(self, chunk: bytes) -> None:
        if self._lost:
            note = f"[portside: {self._lost} bytes of engine output lost: {self._why}]\n"
            unwritten = self._write((b"\n" if self._cut else b"") + note.encode())
            if unwritten:
                self._lost += len(chunk)
                return
            self._lost = 0
        while chunk:
            room = self._max_bytes - self._size
            if room <= 0:
                if self._out is not None:
                    self._out.close()
                    self._out = None
                try:
                    rotate(self._path, self._backups)
                except OSError as exc:
                    self._why = exc.strerror or str(exc)
                self._size, room = 0, self._max_bytes
            piece = chunk[:room]
            if len(chunk) > room and b"\n" in piece:
                piece = piece[: piece.rindex(b"\n") + 1]  # rotate on a line boundary
            elif len(chunk) > room and self._size > 0:
                self._size = self._max_bytes  # the line would not fit: start a new file for it
                continue
            unwritten = self._write(piece)
            if unwritten:
                self._lost += unwritten + len(chunk) - len(piece)
                return
            chunk = chunk[len(piece) :]

    def _write(self, data: bytes) -> int:
        """Write all of ``data``; returns how many bytes could not be written."""
        view = memoryview(data)
        while view:
            try:
                if self._out is None:
                    self._out = open_private(self._path)
                    self._size = self._out.seek(0, os.SEEK_END)
                written = self._out.write(view) or 0
            except OSError as exc:
                self._why = exc.strerror or str(exc)
                return len(view)
            if written:
                self._cut = view[written - 1] != ord("\n")
                self._size += written
            view = view[written:]
        return 0


#: Portside writes this before each dockerd start, so a start's own lines can be told apart.
START_MARKER = "--- portside "


def tail(path: Path, lines: int = 25, *, this_run: bool = False) -> str:
    """The last ``lines`` lines of the log (reaching into ``path.1`` when the log just rotated).

    With ``this_run``, nothing before the last start marker (the previous runs' lines).
    """
    chunks: list[bytes] = []
    for candidate in (path, path.with_name(f"{path.name}.1")):
        try:
            with open(candidate, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 65536))
                chunks.insert(0, handle.read())
        except FileNotFoundError:
            continue
        if b"".join(chunks).count(b"\n") > lines:
            break
    text = b"".join(chunks).decode("utf-8", errors="replace")
    selected = text.splitlines()
    if this_run:
        marks = [i for i, line in enumerate(selected) if line.startswith(START_MARKER)]
        if marks:
            selected = selected[marks[-1] + 1 :]
    return "\n".join(selected[-lines:])
