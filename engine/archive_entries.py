"""What one file inside a container is (pure): :class:`Entry`, built from the archive HEAD's
path stat (Go ``os.FileMode`` bits turned into POSIX ones) or from the headers of the engine's
tar of a folder (:func:`children_from_tar`), plus container path helpers. Used by
:mod:`engine.archive`, :mod:`engine.archive_exec` and the Files tab's model.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.models import parse_time

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
