"""Local tar work for the Files tab (pure, blocking; run on worker threads by
:mod:`engine.archive`): extracting a download safely, building an upload, and cutting a listing
short when a folder's tar is too big.

Extraction goes through :func:`safe_member` (``tarfile.data_filter``: no absolute names, no
``..``, nothing written through a link that leaves the folder, no device files): links that
point outside the folder are skipped and reported, a member that would be written outside
aborts with :class:`UnsafeArchive`. Uploads are tars owned by root, as ``docker cp`` makes them.
"""

from __future__ import annotations

import copy
import os
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass
class DownloadResult:
    """What a download wrote: files and folders extracted, links left out (and why)."""

    target: Path
    extracted: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


class UnsafeArchive(Exception):
    """A member would be written outside the chosen folder (nothing more was extracted)."""


class _LinkOut(Exception):
    pass


class _Special(Exception):
    pass


#: Python 3.11.4+ has the extraction filters (PEP 706); Debian 12's 3.11.2 does not.
HAS_FILTERS = hasattr(tarfile, "data_filter")
#: members are already filtered by safe_member; newer Pythons would warn without a filter
EXTRACT_ARGS: dict[str, Any] = {"filter": "fully_trusted"} if HAS_FILTERS else {}


def _replace(member: tarfile.TarInfo, **attrs: object) -> tarfile.TarInfo:
    if HAS_FILTERS:
        return member.replace(**attrs, deep=False)  # type: ignore[arg-type]
    new = copy.copy(member)
    for key, value in attrs.items():
        setattr(new, key, value)
    return new


def _inside(path: str, dest: str) -> bool:
    return os.path.commonpath([os.path.realpath(path), dest]) == dest


def _data_filter(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """What ``tarfile.data_filter`` does (CPython 3.11.4's rules), for Pythons without it:
    names and links must stay inside ``dest``, no device files, no set-id bits, no owners."""
    name = member.name.lstrip("/" + os.sep)
    if os.path.isabs(name) or not _inside(os.path.join(dest, name), dest):
        raise UnsafeArchive(f"{member.name!r} is outside the folder")
    mode = member.mode & 0o755
    if member.isreg() or member.islnk():
        if not mode & 0o100:
            mode &= ~0o111
        mode |= 0o600
    elif member.isdir():
        mode = 0o755 if mode is None else mode | 0o700
    elif not member.issym():
        raise _Special
    if member.islnk() or member.issym():
        if os.path.isabs(member.linkname):
            raise _LinkOut
        base = os.path.dirname(name) if member.issym() else ""
        if not _inside(os.path.join(dest, base, member.linkname), dest):
            raise _LinkOut
    return _replace(member, name=name, mode=mode, uid=os.getuid(), gid=os.getgid(),
                    uname="", gname="")


def safe_member(
    member: tarfile.TarInfo, dest: str, result: DownloadResult
) -> tarfile.TarInfo | None:
    """``tarfile.data_filter`` with links that leave the folder skipped instead of fatal."""
    link_out: tuple[type[BaseException], ...] = (_LinkOut,)
    special: tuple[type[BaseException], ...] = (_Special,)
    if HAS_FILTERS:
        link_out += (tarfile.AbsoluteLinkError, tarfile.LinkOutsideDestinationError)
        special += (tarfile.SpecialFileError,)
    try:
        if HAS_FILTERS:
            return tarfile.data_filter(member, dest)
        return _data_filter(member, dest)
    except link_out:
        result.skipped.append(f"{member.name} -> {member.linkname} (a link out of the folder)")
        return None
    except special:
        result.skipped.append(f"{member.name} (a device or pipe)")
        return None
    except UnsafeArchive as exc:
        raise UnsafeArchive(
            f"The archive wanted to write {member.name!r} outside {dest}: {exc}. "
            "The download stopped there."
        ) from exc
    except Exception as exc:
        if HAS_FILTERS and isinstance(exc, tarfile.FilterError):
            raise UnsafeArchive(
                f"The archive wanted to write {member.name!r} outside {dest}: {exc}. "
                "The download stopped there."
            ) from exc
        raise


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
                safe = _replace(safe, mode=0o700)
            tar.extract(safe, dest_s, set_attrs=True, **EXTRACT_ARGS)
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
