"""A byte pipe from an async producer (an HTTP body) to a blocking reader thread (``tarfile``).

Why: ``tarfile`` reads a stream synchronously (``mode="r|"``), the engine's archive body arrives
as async chunks on the event loop. :func:`pump` runs both: the loop side puts chunks into
:class:`ChunkPipe` (at most ``max_chunks`` waiting, so memory stays bounded whatever the size of
the archive), a worker thread (``asyncio.to_thread``) reads them as a file. Whichever side
stops first ends the other: the reader finishing (or failing, e.g. a refused path) makes the
producer stop reading the body; the producer failing or being cancelled (the user's Cancel)
makes the reader's next ``read`` raise :class:`PipeClosed`, so no thread is left blocked.
"""

from __future__ import annotations

import asyncio
import io
import queue
from collections.abc import AsyncIterator, Callable
from typing import IO, TypeVar

T = TypeVar("T")


class PipeClosed(Exception):
    """The producer stopped (cancelled or failed) before the end of the stream."""


_EOF = object()


class ChunkPipe(io.RawIOBase):
    """The reader's side: a read-only, non-seekable file fed with chunks."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_chunks: int = 16) -> None:
        super().__init__()
        self._loop = loop
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._space = asyncio.Semaphore(max_chunks)
        self._chunk = b""
        self._pos = 0
        self.reader_done = False  # set (on the loop) once the reader stopped
        self._eof = False

    # -- producer side (event loop) -------------------------------------------------------
    async def put(self, chunk: bytes) -> bool:
        """Queue one chunk; False when the reader has stopped (stop producing)."""
        if self.reader_done:
            return False
        await self._space.acquire()
        if self.reader_done:
            return False
        self._queue.put(chunk)
        return True

    def finish(self, error: BaseException | None = None) -> None:
        """No more chunks: EOF for the reader, or ``error`` raised at its next read."""
        self._queue.put(_EOF if error is None else error)

    # -- reader side (worker thread) -------------------------------------------------------
    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._chunk):
            if self._eof:
                return 0
            item = self._queue.get()
            if item is _EOF:
                self._eof = True
                return 0
            if isinstance(item, BaseException):
                self._eof = True
                raise PipeClosed(str(item) or type(item).__name__) from item
            assert isinstance(item, bytes)
            self._chunk, self._pos = item, 0
            self._loop.call_soon_threadsafe(self._space.release)
        n = min(len(buffer), len(self._chunk) - self._pos)
        buffer[:n] = self._chunk[self._pos : self._pos + n]
        self._pos += n
        return n

    def _reader_stopped(self) -> None:
        self.reader_done = True
        for _ in range(64):  # wake a producer waiting for space
            self._space.release()


async def pump(
    chunks: AsyncIterator[bytes],
    reader: Callable[[IO[bytes]], T],
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> T:
    """Feed ``chunks`` to ``reader(file)`` running in a worker thread; return its result.

    ``on_bytes(total so far)`` is called on the loop after each chunk (progress).
    """
    loop = asyncio.get_running_loop()
    pipe = ChunkPipe(loop)
    stream: IO[bytes] = io.BufferedReader(pipe, buffer_size=256 * 1024)

    def _read() -> T:
        try:
            return reader(stream)
        finally:
            loop.call_soon_threadsafe(pipe._reader_stopped)

    worker = asyncio.ensure_future(asyncio.to_thread(_read))
    total = 0
    try:
        async for chunk in chunks:
            if not await pipe.put(chunk):
                break
            total += len(chunk)
            if on_bytes is not None:
                on_bytes(total)
    except BaseException as exc:  # cancelled or the body failed: end the reader too
        pipe.finish(exc)
        await asyncio.shield(asyncio.wait([worker]))
        if worker.done() and not worker.cancelled():
            worker.exception()  # retrieved; the producer's error is the one that matters
        raise
    pipe.finish()
    return await worker
