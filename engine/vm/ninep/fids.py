"""The fid table and the confinement of every path to the shared folder.

A fid (the guest's handle on a file) is kept as the path *components* below the shared folder's
root, never as a host path string, so nothing the guest sends can name a file outside it::

    Twalk names ─► check_name (no separators, no NUL; ".." above the root stays at the root)
      ─► each step lstat'ed: only a real directory is walked through (a symlink is a leaf: the
         guest reads the link and resolves it in its own file system; the server never follows it)
      ─► Fid(parts) ─► host_path(parts) = root / parts ─► os calls (lstat, open with O_NOFOLLOW)

A rename moves the paths of the fids below it (as QEMU's server does), so a guest's open file or
directory fid keeps naming the same file. Windows: ``\\`` and ``:`` are separators or stream
names there and are refused in names; a reparse point (junction, symlink) is never walked
through.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from dataclasses import dataclass, field

from engine.vm.ninep import proto
from engine.vm.ninep.proto import NinePError

#: Characters never allowed in one name (a separator on some host would leave the folder).
_BAD_CHARS = ("/", "\0", "\\", ":") if sys.platform == "win32" else ("/", "\0")
_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT


@dataclass
class Fid:
    """One fid: where it points below the root, and what is open on it."""

    parts: tuple[str, ...]
    #: an open file's descriptor (files only; directories are listed, never opened)
    fd: int | None = None
    opened: bool = False
    #: the directory's entries, taken at the first Treaddir (offset = index + 1)
    entries: list[tuple[tuple[int, int, int], int, str]] | None = field(default=None)


def check_name(name: str) -> str:
    """A single name the guest sends (create, mkdir, rename, link, ...): not empty, no
    separator, not ``.``/``..``."""
    if not name or name in (".", "..") or any(c in name for c in _BAD_CHARS):
        raise NinePError(proto.EINVAL, f"bad name {name!r}")
    return name


def is_link(st: os.stat_result) -> bool:
    """A symlink, or on Windows any reparse point (never walked through)."""
    if stat.S_ISLNK(st.st_mode):
        return True
    return bool(getattr(st, "st_file_attributes", 0) & _REPARSE_POINT)


def qid_of(st: os.stat_result, parts: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """(type, version, path) from ``st_ino`` and ``st_mtime`` (a hash of the path where the
    file system has no inode numbers)."""
    if stat.S_ISLNK(st.st_mode):
        kind = proto.QTSYMLINK
    elif stat.S_ISDIR(st.st_mode):
        kind = proto.QTDIR
    else:
        kind = proto.QTFILE
    path = st.st_ino or (hash(parts) & 0xFFFFFFFFFFFFFFFF)
    return kind, int(st.st_mtime) & 0xFFFFFFFF, path


class FidTable:
    """The fids of one session, over one shared folder."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._fids: dict[int, Fid] = {}

    def host_path(self, parts: tuple[str, ...]) -> str:
        """The host path of ``parts``, after checking that no folder on the way is a link.

        A fid keeps its path, and the guest may since have replaced a folder on it with a
        symlink (remove the folder, Tsymlink its name): the host's own path lookup would follow
        that link out of the share. Requests are served one at a time, so nothing changes
        between this check and the call that uses the path. The last part is the caller's:
        it is opened with O_NOFOLLOW or lstat'ed, and served as a link.
        """
        path = self.root
        for index, part in enumerate(parts):
            path = os.path.join(path, part)
            if index < len(parts) - 1:
                try:
                    st = os.lstat(path)
                except OSError as exc:
                    raise NinePError(proto.ENOENT, f"{path}: {exc.strerror}") from exc
                if is_link(st) or not stat.S_ISDIR(st.st_mode):
                    raise NinePError(proto.ENOTDIR, f"{path} is no longer a folder of the share")
        return path

    def get(self, fid: int) -> Fid:
        try:
            return self._fids[fid]
        except KeyError:
            raise NinePError(proto.EBADF, f"unknown fid {fid}") from None

    def add(self, fid: int, entry: Fid) -> None:
        if fid in self._fids:
            raise NinePError(proto.EBADF, f"fid {fid} is in use")
        self._fids[fid] = entry

    def clunk(self, fid: int) -> Fid:
        entry = self._fids.pop(fid, None)
        if entry is None:
            raise NinePError(proto.EBADF, f"unknown fid {fid}")
        close(entry)
        return entry

    def clear(self) -> None:
        for entry in self._fids.values():
            close(entry)
        self._fids.clear()

    def walk(
        self, start: tuple[str, ...], names: list[str]
    ) -> list[tuple[tuple[str, ...], os.stat_result]]:
        """The path and lstat of each step of a walk; stops at the first step that fails
        (raises when it is the first). ``..`` at the root stays at the root."""
        steps: list[tuple[tuple[str, ...], os.stat_result]] = []
        parts = start
        prev: os.stat_result | None = None
        for name in names:
            try:
                if prev is None:
                    prev = os.lstat(self.host_path(parts))
                if not stat.S_ISDIR(prev.st_mode) or is_link(prev):
                    raise NinePError(proto.ENOTDIR, "only a directory is walked through")
                if name == "..":
                    nxt = parts[:-1]  # the root's parent is the root
                elif name == ".":
                    nxt = parts
                else:
                    nxt = (*parts, check_name(name))
                st = os.lstat(self.host_path(nxt))
            except (OSError, NinePError):
                if not steps:
                    raise
                break
            steps.append((nxt, st))
            parts, prev = nxt, st
        return steps

    def rename_paths(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        """After a rename of ``old`` to ``new``: the fids at or below ``old`` follow it."""
        size = len(old)
        for entry in self._fids.values():
            if entry.parts[:size] == old:
                entry.parts = new + entry.parts[size:]


def close(entry: Fid) -> None:
    if entry.fd is not None:
        fd, entry.fd = entry.fd, None
        with contextlib.suppress(OSError):
            os.close(fd)
    entry.opened = False
    entry.entries = None
