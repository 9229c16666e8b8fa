"""A container's files through the engine's archive endpoints: list, stat, download, upload.

Data flow (all through ``/containers/{id}/archive``, which works on stopped containers too):

- **stat**: ``HEAD`` -> the ``X-Docker-Container-Path-Stat`` header (Go ``os.FileMode`` bits,
  converted here to POSIX mode bits) -> one :class:`Entry`.
- **list a folder**: ``GET`` streams a tar of the folder (over a raw socket,
  :mod:`engine.rawget`, where the endpoint is unix or plain tcp: ~3x faster than httpx for
  big folders; else httpx through :mod:`engine.tarpipe`); a worker thread reads it with
  ``tarfile`` in stream mode, keeping only the headers (name, size, mode, mtime, link target)
  of the folder's direct children and summing the sizes under each child folder; the file data
  is read and dropped, never kept (:mod:`engine.tarpipe` bounds what waits in memory). Chosen
  over ``exec ls``/``find`` because it needs nothing inside the container (no shell, no
  ``stat``: distroless images have neither), works on stopped containers, and gives exact modes,
  times and link targets with no output parsing. Its cost is the folder's whole content
  (``benchmarks/files_listing.py``: ~0.1 s for ``/etc``, ~0.8 s for a folder holding 256 MiB,
  where ``exec ls`` takes ~0.16 s) — the caller shows bytes read and can cancel. The engine
  leaves ``/proc`` and ``/sys`` contents out.
- **download**: ``GET`` streamed into ``tarfile`` extracting into a local folder, through
  :func:`safe_member` (``tarfile.data_filter``: no absolute names, no ``..``, nothing written
  through a link that leaves the folder, no device files); links that point outside the folder
  are skipped and reported, a member that would be written outside aborts the download.
- **upload**: local files and folders -> a tar built in a worker thread into a temporary file
  (owner root, as ``docker cp`` does), then ``PUT`` streamed from it in chunks (progress).

Progress callbacks run on the event loop. No Qt here.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from engine import rawget
from engine.client import EngineClient, build_request, quote_path
from engine.models import parse_time
from engine.tarpipe import pump

CHUNK = 256 * 1024
T = TypeVar("T")
Progress = Callable[[int, int | None], None]  # (bytes done, bytes in all or None)

# Go's os.FileMode type bits -> POSIX S_IF* (the permission bits are the same).
_GO_TYPES = (
    (1 << 31, stat.S_IFDIR),
    (1 << 27, stat.S_IFLNK),
    (1 << 25, stat.S_IFIFO),
    (1 << 24, stat.S_IFSOCK),
)
_GO_DEVICE, _GO_CHAR = 1 << 26, 1 << 21
_GO_SETUID, _GO_SETGID, _GO_STICKY = 1 << 23, 1 << 22, 1 << 20


def posix_mode_from_go(mode: int) -> int:
    """POSIX mode bits (type + permissions) from a Go ``os.FileMode``."""
    out = mode & 0o777
    for bit, kind in _GO_TYPES:
        if mode & bit:
            out |= kind
            break
    else:
        if mode & _GO_DEVICE:
            out |= stat.S_IFCHR if mode & _GO_CHAR else stat.S_IFBLK
        else:
            out |= stat.S_IFREG
    if mode & _GO_SETUID:
        out |= stat.S_ISUID
    if mode & _GO_SETGID:
        out |= stat.S_ISGID
    if mode & _GO_STICKY:
        out |= stat.S_ISVTX
    return out


@dataclass(frozen=True)
class Entry:
    """One file or folder inside a container."""

    name: str
    path: str  # absolute, inside the container
    mode: int  # POSIX: type and permission bits
    size: int  # bytes; for a listed folder, the sum of the files under it
    mtime: float  # seconds since the epoch; -1 when unknown
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.mode)

    @property
    def mode_text(self) -> str:
        """``drwxr-xr-x`` as ``ls -l`` prints it."""
        return stat.filemode(self.mode)


def normalize(path: str) -> str:
    """An absolute, normalised container path (``""`` and ``.`` are ``/``)."""
    return posixpath.normpath("/" + path.strip()).replace("//", "/") or "/"


def parent_of(path: str) -> str:
    return posixpath.dirname(normalize(path)) or "/"


def entry_from_stat(path: str, info: dict[str, Any]) -> Entry:
    """An :class:`Entry` from the archive HEAD's path stat."""
    when = parse_time(str(info.get("mtime") or ""))
    return Entry(
        name=str(info.get("name") or posixpath.basename(path) or "/"),
        path=normalize(path),
        mode=posix_mode_from_go(int(info.get("mode") or 0)),
        size=int(info.get("size") or 0),
        mtime=when.timestamp() if when is not None else -1.0,
        link_target=str(info.get("linkTarget") or ""),
    )


def _tar_mode(member: tarfile.TarInfo) -> int:
    kinds = {
        tarfile.DIRTYPE: stat.S_IFDIR,
        tarfile.SYMTYPE: stat.S_IFLNK,
        tarfile.FIFOTYPE: stat.S_IFIFO,
        tarfile.CHRTYPE: stat.S_IFCHR,
        tarfile.BLKTYPE: stat.S_IFBLK,
    }
    return kinds.get(member.type, stat.S_IFREG) | (member.mode & 0o7777)


def children_from_tar(folder: str, members: Iterable[tarfile.TarInfo]) -> list[Entry]:
    """The direct children of ``folder`` in the engine's tar of it (first member = the folder).

    The engine names members ``<folder's name>/<relative path>`` (``/…`` for ``/``). Sizes of
    child folders are the sums of the regular files under them.
    """
    folder = normalize(folder)
    root: str | None = None
    found: dict[str, Entry] = {}
    sizes: dict[str, int] = {}
    for m in members:
        name = m.name.rstrip("/")
        if root is None:
            root = name
            continue
        if not name.startswith(root):
            continue
        rel = name[len(root) :].lstrip("/")
        if not rel:
            continue
        top, _, rest = rel.partition("/")
        if rest:
            if m.isreg():
                sizes[top] = sizes.get(top, 0) + m.size
            continue
        found[top] = Entry(
            name=top,
            path=posixpath.join(folder, top),
            mode=_tar_mode(m),
            size=m.size if m.isreg() else 0,
            mtime=float(m.mtime),
            link_target=m.linkname if (m.issym() or m.islnk()) else "",
        )
    out = []
    for name, e in found.items():
        if e.is_dir:
            e = Entry(e.name, e.path, e.mode, sizes.get(name, 0), e.mtime, e.link_target)
        out.append(e)
    return sorted(out, key=lambda e: (not e.is_dir, e.name.lower(), e.name))


@dataclass
class DownloadResult:
    """What a download wrote: files and folders extracted, links left out (and why)."""

    target: Path
    extracted: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


class UnsafeArchive(Exception):
    """A member would be written outside the chosen folder (nothing more was extracted)."""


def safe_member(
    member: tarfile.TarInfo, dest: str, result: DownloadResult
) -> tarfile.TarInfo | None:
    """``tarfile.data_filter`` with links that leave the folder skipped instead of fatal."""
    try:
        return tarfile.data_filter(member, dest)
    except (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError):
        result.skipped.append(f"{member.name} -> {member.linkname} (a link out of the folder)")
        return None
    except tarfile.SpecialFileError:
        result.skipped.append(f"{member.name} (a device or pipe)")
        return None
    except tarfile.FilterError as exc:
        raise UnsafeArchive(
            f"The archive wanted to write {member.name!r} outside {dest}: {exc}. "
            "The download stopped there."
        ) from exc


def extract_tar(fileobj: IO[bytes], dest: Path, result: DownloadResult) -> DownloadResult:
    """Extract a tar stream into ``dest`` (blocking; safe against traversal, see module doc)."""
    dest_s = str(dest.resolve())
    dirs: list[tuple[str, int]] = []
    with tarfile.open(fileobj=fileobj, mode="r|") as tar:
        for member in tar:
            safe = safe_member(member, dest_s, result)
            if safe is None:
                continue
            if safe.isdir():  # writable while we fill it; its own mode is set at the end
                dirs.append((os.path.join(dest_s, safe.name), safe.mode or 0o755))
                safe = safe.replace(mode=0o700, deep=False)
            tar.extract(safe, dest_s, set_attrs=True, filter="fully_trusted")
            result.extracted += 1
            result.bytes += safe.size if safe.isreg() else 0
    for path, mode in reversed(dirs):
        os.chmod(path, mode)
    return result


def build_tar(sources: Iterable[Path], out: IO[bytes]) -> None:
    """Write a tar of ``sources`` (files or folders, each under its own name) to ``out``.

    Owners become root (as ``docker cp`` makes them).
    """

    def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for src in sources:
            tar.add(str(src), arcname=src.name, recursive=True, filter=_as_root)


def tar_size_estimate(sources: Iterable[Path]) -> int:
    """About how big :func:`build_tar` of ``sources`` will be (for progress): each entry's
    header and its data padded to 512-byte blocks (PAX headers for long names are extra)."""
    total = 1024
    for src in sources:
        paths = [src]
        if src.is_dir() and not src.is_symlink():
            paths += list(src.rglob("*"))
        for p in paths:
            total += 512
            if p.is_file() and not p.is_symlink():
                total += -(-p.stat().st_size // 512) * 512
    return total


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

    async def listdir(self, folder: str, progress: Progress | None = None) -> list[Entry]:
        """The direct children of ``folder`` (read from the tar's headers; see module doc)."""
        folder = normalize(folder)

        def _read(f: IO[bytes]) -> list[Entry]:
            with tarfile.open(fileobj=f, mode="r|") as tar:
                return children_from_tar(folder, tar)

        return await self._read_tar(
            folder, _read, (lambda n: progress(n, None)) if progress else None
        )

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
        through httpx (TLS) it is built into a temporary file first, then sent from it.
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
