"""The engine log: a size-rotated file fed from dockerd's output pipe, and its tail."""

from __future__ import annotations

import os
import threading
from pathlib import Path

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


class RotatingLogWriter:
    """Copies everything read from ``fd`` into ``path``, rotating it at ``max_bytes``.

    Runs on its own daemon thread, so the pipe is drained even while no event loop runs (a blocked
    pipe would stall dockerd). The thread ends when the write end of the pipe is closed.
    """

    def __init__(self, fd: int, path: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS):
        self._fd = fd
        self._path = path
        self._max_bytes = max_bytes
        self._backups = backups
        self._thread = threading.Thread(target=self._run, name=f"engine-log:{path}", daemon=True)

    def start(self) -> None:
        """Begin copying (rotates first when the existing log is already full)."""
        rotate_if_full(self._path, self._max_bytes, self._backups)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the pipe is drained and closed."""
        self._thread.join(timeout)

    def _run(self) -> None:
        out = open(self._path, "ab", buffering=0)  # noqa: SIM115 - reopened on rotation
        size = out.tell()
        try:
            while True:
                try:
                    chunk = os.read(self._fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                while chunk:
                    room = self._max_bytes - size
                    if room <= 0:
                        out.close()
                        rotate(self._path, self._backups)
                        out = open(self._path, "ab", buffering=0)  # noqa: SIM115
                        size, room = 0, self._max_bytes
                    piece = chunk[:room]
                    if len(chunk) > room and b"\n" in piece:
                        piece = piece[: piece.rindex(b"\n") + 1]  # rotate on a line boundary
                    elif len(chunk) > room and size > 0:
                        piece = b""  # the line would not fit: start a new file for it
                        size = self._max_bytes
                        continue
                    out.write(piece)
                    size += len(piece)
                    chunk = chunk[len(piece) :]
        finally:
            out.close()
            os.close(self._fd)


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
