"""Local tar work for the Files tab (pure, blocking; run on worker threads by
:mod:`engine.archive`): extracting a download safely, building an upload, and cutting a listing
short when a folder's tar is too big.

Extraction goes through :func:`safe_member` (``tarfile.data_filter``: no absolute names, no
``..``, nothing written through a link that leaves the folder, no device files): links that
point outside the folder are skipped and reported, a member that would be written outside
aborts with :class:`UnsafeArchive`. Uploads are tars owned by root, as ``docker cp`` makes them.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


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


class _TooBig(Exception):
    """The tar passed the byte limit of a listing (see :meth:`Archive.listdir`)."""


class _Limited:
    """A read-only file that raises :class:`_TooBig` once more than ``limit`` bytes were read."""

    def __init__(self, f: IO[bytes], limit: int) -> None:
        self._f = f
        self._left = limit

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._left -= len(data)
        if self._left < 0:
            raise _TooBig
        return data
