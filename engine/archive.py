"""A container's files through the engine's archive endpoints: list, stat, download, upload.

Data flow (all through ``/containers/{id}/archive``, which works on stopped containers too; the
pure parts are :mod:`engine.archive_entries` and :mod:`engine.archive_tar`):

- **stat**: ``HEAD`` -> the ``X-Docker-Container-Path-Stat`` header (Go ``os.FileMode`` bits,
  turned into POSIX ones) -> one :class:`Entry`.
- **list a folder**: ``GET`` streams the engine's tar of the folder; a worker thread reads it
  with ``tarfile`` in stream mode, keeping only the headers (name, size, mode, mtime, link
  target) of the direct children and summing the sizes under each child folder; file data is
  read and dropped. It needs nothing inside the container (no shell, no ``ls``: distroless
  images have neither), works on stopped containers and gives exact modes, times and link
  targets — but costs the folder's whole content (``benchmarks/files_listing.py``: ~0.06-0.1 s
  for ``/etc``, ~1 s for a folder holding 256 MiB). So for a RUNNING container the tar is read
  only up to :data:`engine.archive_exec.TAR_LIMIT` (16 MiB); past that the folder is listed by
  ``exec find … -exec stat`` (~0.14 s whatever the size; folder sizes then unknown), and if that
  fails (no ``find``, odd names) the whole tar after all. The engine leaves ``/proc`` and
  ``/sys`` contents out.
- **download**: ``GET`` streamed into ``tarfile`` extracting into a local folder through
  :func:`engine.archive_tar.safe_member` (no absolute names, no ``..``, nothing written through
  a link leaving the folder; such links are skipped and reported). An existing file or folder
  of that name is never overwritten unless asked.
- **upload**: local files and folders -> a tar (owner root, as ``docker cp`` does) written by
  ``tarfile`` on a worker thread straight into a chunked ``PUT``.

Bodies move over a raw socket on the worker thread (:mod:`engine.rawget`, ~3x faster than
httpx here; unix, tcp, TLS and ssh endpoints); an endpoint kind it cannot read goes through
httpx (:mod:`engine.tarpipe` for downloads, a temporary file for uploads). Progress callbacks
run on the event loop; a cancelled call returns only after its worker thread stopped. No Qt
here.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import os
import posixpath
import tarfile
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from pathlib import Path
from typing import IO, TypeVar

from engine import archive_exec, rawget
from engine.archive_entries import (
    Entry,
    children_from_tar,
    entry_from_stat,
    normalize,
    parent_of,
    posix_mode_from_go,
)
from engine.archive_tar import (
    DownloadResult,
    UnsafeArchive,
    _Limited,
    _TooBig,
    build_tar,
    extract_tar,
    safe_member,
    tar_size_estimate,
)
from engine.client import EngineClient, build_request, quote_path
from engine.errors import EngineError
from engine.tarpipe import pump

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
T = TypeVar("T")
Progress = Callable[[int, int | None], None]  # (bytes done, bytes in all or None)


class Archive:
    """One container's files, over the engine client (the I/O shell of this module)."""

    def __init__(self, client: EngineClient, container: str) -> None:
        self.client = client
        self.container = container

    async def stat(self, path: str) -> Entry:
        return entry_from_stat(path, await self.client.containers.stat_path(self.container, path))

    async def _read_tar(
        self, path: str, reader: Callable[[IO[bytes]], T], on_bytes: Callable[[int], None] | None
    ) -> T:
        """``reader(the engine's tar of path)`` on a worker thread: over a raw socket where the
        endpoint allows (:mod:`engine.rawget`, ~3x faster), else through httpx
        (:mod:`engine.tarpipe`)."""
        c = self.client
        if rawget.supported(c.endpoint):
            await c.connect()
            return await rawget.read_get(
                c.endpoint,
                c.api_version,
                f"/containers/{quote_path(self.container)}/archive",
                {"path": path},
                reader,
                on_bytes=on_bytes,
            )
        async with aclosing(self._tar_chunks(path)) as chunks:
            return await pump(chunks, reader, on_bytes=on_bytes)

    async def _tar_chunks(self, path: str) -> AsyncGenerator[bytes, None]:
        c = self.client
        spec = build_request(
            "GET", f"/containers/{quote_path(self.container)}/archive", params={"path": path}
        )
        async with c._stream(spec) as resp, aclosing(c._chunks(resp)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def listdir(
        self, folder: str, progress: Progress | None = None, *, running: bool = False
    ) -> builtins.list[Entry]:
        """The direct children of ``folder`` (read from the tar's headers; see module doc).

        ``running``: the container runs, so a folder whose tar passes
        :data:`engine.archive_exec.TAR_LIMIT` is listed by ``exec find … stat`` instead (folder
        sizes then unknown: -1); if that fails, the whole tar is read after all.
        """
        folder = normalize(folder)
        on_bytes = (lambda n: progress(n, None)) if progress else None

        def _read(limit: int | None) -> Callable[[IO[bytes]], builtins.list[Entry]]:
            def _go(f: IO[bytes]) -> builtins.list[Entry]:
                src: IO[bytes] = _Limited(f, limit) if limit else f  # type: ignore[assignment]
                with tarfile.open(fileobj=src, mode="r|") as tar:
                    return children_from_tar(folder, tar)

            return _go

        if not running:
            return await self._read_tar(folder, _read(None), on_bytes)
        try:
            return await self._read_tar(folder, _read(archive_exec.TAR_LIMIT), on_bytes)
        except _TooBig:
            pass
        try:
            code, out, err = await self.client.execs.run(
                self.container, archive_exec.command(folder), env=archive_exec.ENV
            )
            if code != 0:
                raise archive_exec.Unparsable(f"exit code {code}: {err.strip()[:200]}")
            return archive_exec.parse_listing(folder, out)
        except (archive_exec.Unparsable, EngineError) as exc:
            log.info("listing %s by exec failed (%s); reading its whole tar", folder, exc)
        return await self._read_tar(folder, _read(None), on_bytes)

    async def download(
        self,
        path: str,
        dest_dir: Path,
        progress: Progress | None = None,
        *,
        size: int | None = None,
        replace: bool = False,
    ) -> DownloadResult:
        """Extract ``path`` (a file or folder) into the local folder ``dest_dir``.

        ``size``: the bytes expected (a file's size) for the progress; None for a folder.

        Raises:
            FileExistsError: ``dest_dir`` already has something of that name (unless
                ``replace``: then files are overwritten and folders merged).
        """
        path = normalize(path)
        await asyncio.to_thread(dest_dir.mkdir, parents=True, exist_ok=True)
        result = DownloadResult(target=dest_dir / (posixpath.basename(path) or "root"))
        if not replace and await asyncio.to_thread(os.path.lexists, result.target):
            raise FileExistsError(
                f"{result.target} already exists; nothing was downloaded. Choose another "
                "folder, or move it away first."
            )
        return await self._read_tar(
            path,
            lambda f: extract_tar(f, dest_dir, result),
            (lambda n: progress(n, size)) if progress else None,
        )

    async def upload(
        self, sources: Iterable[Path], folder: str, progress: Progress | None = None
    ) -> int:
        """Copy local files/folders into the container's ``folder``; returns the tar's size.

        Over a raw socket (:func:`engine.rawget.write_put`) the tar streams as it is built;
        through httpx (endpoints rawget cannot read) it is built into a temporary file first.
        """
        folder = normalize(folder)
        srcs = [Path(s) for s in sources]
        path = f"/containers/{quote_path(self.container)}/archive"
        params = {"path": folder, "noOverwriteDirNonDir": "1"}
        c = self.client
        if rawget.supported(c.endpoint):
            estimate = await asyncio.to_thread(tar_size_estimate, srcs)
            await c.connect()
            return await rawget.write_put(
                c.endpoint,
                c.api_version,
                path,
                params,
                lambda out: build_tar(srcs, out),
                on_bytes=(lambda n: progress(n, max(n, estimate))) if progress else None,
            )
        with tempfile.TemporaryFile(prefix="portside-upload-") as tmp:
            await asyncio.to_thread(build_tar, srcs, tmp)
            total = tmp.tell()
            tmp.seek(0)

            async def _body() -> AsyncIterator[bytes]:
                sent = 0
                while chunk := await asyncio.to_thread(tmp.read, CHUNK):
                    sent += len(chunk)
                    yield chunk
                    if progress is not None:
                        progress(sent, total)

            spec = build_request(
                "PUT",
                path,
                params=params,
                headers={"Content-Type": "application/x-tar", "Content-Length": str(total)},
                content=_body(),
            )
            await c._send(spec, read_timeout=None)
        return total


__all__ = [
    "Archive",
    "DownloadResult",
    "Entry",
    "Progress",
    "UnsafeArchive",
    "build_tar",
    "children_from_tar",
    "entry_from_stat",
    "extract_tar",
    "normalize",
    "parent_of",
    "posix_mode_from_go",
    "safe_member",
    "tar_size_estimate",
]
