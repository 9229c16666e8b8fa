"""The 9P2000.L requests, answered against one host folder: ``FileServer.handle(T) -> R``.

One call per message, no threads and no transport here (``transport`` feeds it from the pipe;
the unit tests feed it bytes directly)::

    bytes ─► proto.parse_header ─► handler(Reader) ─► fids.FidTable (confined paths)
                                                  ─► os.lstat / os.open / os.read / os.replace ...
          ◄─ proto.message(R-type, tag, Writer)  or  Rlerror(Linux errno) for NinePError/OSError

Served: version (msize negotiation), attach, walk, getattr, setattr (mode, owner where allowed,
size, times), lopen, lcreate, read, write, readdir, clunk, remove, mkdir, unlinkat, renameat,
rename, statfs, fsync, symlink, readlink, link, lock/getlock (always granted: locks are the
guest's business), flush (requests are answered in order, so nothing is pending). xattrwalk,
xattrcreate and auth answer EOPNOTSUPP, mknod EPERM. Files are opened with the host's own flag
values (Linux's in the message are mapped) and O_NOFOLLOW; a symlink is never opened or walked
through. Owners: the host's uid/gid on POSIX (as ``-virtfs security_model=none`` shows them),
root on Windows; a chown that the host refuses is ignored, as that security model does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
import time
from collections.abc import Callable

from engine.vm.ninep import proto
from engine.vm.ninep.fids import Fid, FidTable, check_name, is_link, qid_of
from engine.vm.ninep.proto import NinePError, Reader, Writer

log = logging.getLogger(__name__)

#: Rread/Rwrite overhead: header[7] count[4]
_IO_HEADER = 11
_EXTRA_OPEN_FLAGS = (
    getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOINHERIT", 0)
)
_UTIME_NOFOLLOW = os.utime in os.supports_follow_symlinks


def host_open_flags(flags: int) -> int:
    """The host's ``os.open`` flags for a Tlopen/Tlcreate's Linux flags (creation excluded)."""
    out = {0: os.O_RDONLY, 1: os.O_WRONLY}.get(flags & proto.L_O_ACCMODE, os.O_RDWR)
    if flags & proto.L_O_TRUNC:
        out |= os.O_TRUNC
    if flags & proto.L_O_APPEND:
        out |= os.O_APPEND
    return out | _EXTRA_OPEN_FLAGS


class FileServer:
    """A 9P2000.L server for one host folder; :meth:`handle` answers one message."""

    def __init__(self, root: str) -> None:
        self.fids = FidTable(root)
        self.msize = proto.MAX_MSIZE
        self._handlers: dict[int, Callable[[Reader], Writer | None]] = {
            proto.TVERSION: self._version,
            proto.TAUTH: self._unsupported,
            proto.TATTACH: self._attach,
            proto.TWALK: self._walk,
            proto.TGETATTR: self._getattr,
            proto.TSETATTR: self._setattr,
            proto.TLOPEN: self._lopen,
            proto.TLCREATE: self._lcreate,
            proto.TREAD: self._read,
            proto.TWRITE: self._write,
            proto.TREADDIR: self._readdir,
            proto.TCLUNK: self._clunk,
            proto.TREMOVE: self._remove,
            proto.TMKDIR: self._mkdir,
            proto.TUNLINKAT: self._unlinkat,
            proto.TRENAMEAT: self._renameat,
            proto.TRENAME: self._rename,
            proto.TSTATFS: self._statfs,
            proto.TFSYNC: self._fsync,
            proto.TSYMLINK: self._symlink,
            proto.TREADLINK: self._readlink,
            proto.TLINK: self._link,
            proto.TLOCK: self._lock,
            proto.TGETLOCK: self._getlock,
            proto.TFLUSH: self._flush,
            proto.TXATTRWALK: self._unsupported,
            proto.TXATTRCREATE: self._unsupported,
            proto.TMKNOD: self._mknod,
        }

    def handle(self, raw: bytes | memoryview) -> bytes:
        """The answer to one whole T-message (always a message: errors are Rlerror)."""
        try:
            size, kind, tag = proto.parse_header(raw)
        except proto.ProtocolError:
            return proto.lerror(proto.NOTAG, proto.EPROTO)
        handler = self._handlers.get(kind)
        if handler is None:
            return proto.lerror(tag, proto.EOPNOTSUPP)
        try:
            body = handler(Reader(memoryview(raw)[proto.HEADER.size : size]))
        except NinePError as exc:
            return proto.lerror(tag, exc.code)
        except OSError as exc:
            return proto.lerror(tag, proto.linux_errno(exc))
        except proto.ProtocolError:
            return proto.lerror(tag, proto.EPROTO)
        except (ValueError, OverflowError):  # e.g. a time or size the host cannot represent
            return proto.lerror(tag, proto.EINVAL)
        except Exception:  # a bug must not end the share: only this request fails
            log.exception("9P request %d failed", kind)
            return proto.lerror(tag, proto.EIO)
        return proto.message(kind + 1, tag, body)

    def close(self) -> None:
        """Close every open file (the session ends)."""
        self.fids.clear()

    # -- helpers --------------------------------------------------------------------------------

    def _path(self, entry: Fid) -> str:
        return self.fids.host_path(entry.parts)

    def _child(self, dfid: int, name: str) -> tuple[tuple[str, ...], str]:
        parts = (*self.fids.get(dfid).parts, check_name(name))
        return parts, self.fids.host_path(parts)

    def _stat(self, entry: Fid) -> os.stat_result:
        return os.fstat(entry.fd) if entry.fd is not None else os.lstat(self._path(entry))

    # -- session --------------------------------------------------------------------------------

    def _version(self, r: Reader) -> Writer:
        msize, version = r.u32(), r.string()
        self.fids.clear()
        self.msize = max(proto.MIN_MSIZE, min(msize, proto.MAX_MSIZE))
        return (
            Writer()
            .u32(self.msize)
            .string(proto.VERSION if version.startswith(proto.VERSION) else "unknown")
        )

    def _attach(self, r: Reader) -> Writer:
        fid, _afid, _uname, _aname = r.u32(), r.u32(), r.string(), r.string()
        self.fids.add(fid, Fid(()))
        return Writer().qid(qid_of(os.lstat(self.fids.root)))

    def _flush(self, r: Reader) -> None:
        r.u16()  # requests are answered one by one: the old one was answered already

    def _unsupported(self, r: Reader) -> None:
        raise NinePError(proto.EOPNOTSUPP, "not supported")

    def _mknod(self, r: Reader) -> None:
        raise NinePError(proto.EPERM, "device and FIFO nodes are not made in a shared folder")

    def _walk(self, r: Reader) -> Writer:
        fid, newfid, count = r.u32(), r.u32(), r.u16()
        names = [r.string() for _ in range(count)]
        source = self.fids.get(fid)
        if newfid != fid:
            try:
                self.fids.get(newfid)
            except NinePError:
                pass
            else:
                raise NinePError(proto.EBADF, f"fid {newfid} is in use")
        steps = self.fids.walk(source.parts, names) if names else []
        answer = Writer().u16(len(steps))
        for parts, st in steps:
            answer.qid(qid_of(st, parts))
        if len(steps) == len(names):
            target = steps[-1][0] if steps else source.parts
            if newfid == fid:
                source.parts = target
            else:
                self.fids.add(newfid, Fid(target))
        return answer

    def _clunk(self, r: Reader) -> None:
        self.fids.clunk(r.u32())

    # -- attributes -----------------------------------------------------------------------------

    def _getattr(self, r: Reader) -> Writer:
        entry = self.fids.get(r.u32())
        r.u64()  # request mask: the basic set is always sent
        st = self._stat(entry)
        windows = sys.platform == "win32"
        blocks = getattr(st, "st_blocks", None)
        answer = Writer().u64(proto.GETATTR_BASIC).qid(qid_of(st, entry.parts))
        answer.u32(st.st_mode).u32(0 if windows else st.st_uid).u32(0 if windows else st.st_gid)
        answer.u64(st.st_nlink).u64(getattr(st, "st_rdev", 0)).u64(st.st_size)
        answer.u64(getattr(st, "st_blksize", 4096))
        answer.u64(blocks if blocks is not None else (st.st_size + 511) // 512)
        for ns in (st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns):
            answer.u64(ns // 1_000_000_000).u64(ns % 1_000_000_000)
        return answer.u64(0).u64(0).u64(0).u64(0)  # btime, gen, data_version

    def _setattr(self, r: Reader) -> None:
        entry = self.fids.get(r.u32())
        valid, mode, uid, gid, size = r.u32(), r.u32(), r.u32(), r.u32(), r.u64()
        atime = r.u64() * 1_000_000_000 + r.u64()
        mtime = r.u64() * 1_000_000_000 + r.u64()
        path = self._path(entry)
        st = self._stat(entry)
        try:  # the path now, not the open file: a guest may have swapped it for a link since
            link = is_link(os.lstat(path))
        except FileNotFoundError:
            link = False  # removed while open: only the open file is changed below
        if valid & proto.SETATTR_MODE and not link:
            if entry.fd is not None and hasattr(os, "fchmod"):
                os.fchmod(entry.fd, mode & 0o7777)
            else:
                os.chmod(path, mode & 0o7777)
        if valid & (proto.SETATTR_UID | proto.SETATTR_GID) and sys.platform != "win32":
            # a user's QEMU cannot give files away either (security_model=none ignores it)
            with contextlib.suppress(PermissionError):
                os.lchown(path, uid if valid & proto.SETATTR_UID else -1,
                          gid if valid & proto.SETATTR_GID else -1)  # fmt: skip
        if valid & proto.SETATTR_SIZE:
            if link or stat.S_ISDIR(st.st_mode):
                raise NinePError(proto.EINVAL, "only a file's size can be set")
            if entry.fd is not None:
                os.ftruncate(entry.fd, size)
            else:
                os.truncate(path, size)
        if valid & (proto.SETATTR_ATIME | proto.SETATTR_MTIME):
            now = time.time_ns()
            if not valid & proto.SETATTR_ATIME:
                atime = st.st_atime_ns
            elif not valid & proto.SETATTR_ATIME_SET:
                atime = now
            if not valid & proto.SETATTR_MTIME:
                mtime = st.st_mtime_ns
            elif not valid & proto.SETATTR_MTIME_SET:
                mtime = now
            if _UTIME_NOFOLLOW:
                os.utime(path, ns=(atime, mtime), follow_symlinks=False)
            elif not link:
                os.utime(path, ns=(atime, mtime))

    def _statfs(self, r: Reader) -> Writer:
        path = self._path(self.fids.get(r.u32()))
        answer = Writer().u32(proto.V9FS_MAGIC)
        if hasattr(os, "statvfs"):
            vfs = os.statvfs(path)
            answer.u32(vfs.f_bsize).u64(vfs.f_blocks).u64(vfs.f_bfree).u64(vfs.f_bavail)
            answer.u64(vfs.f_files).u64(vfs.f_ffree).u64(vfs.f_fsid).u32(vfs.f_namemax)
        else:  # pragma: no cover - Windows
            import shutil

            usage, block = shutil.disk_usage(path), 4096
            answer.u32(block).u64(usage.total // block).u64(usage.free // block)
            answer.u64(usage.free // block).u64(0).u64(0).u64(0).u32(255)
        return answer

    # -- files ----------------------------------------------------------------------------------

    def _lopen(self, r: Reader) -> Writer:
        entry, flags = self.fids.get(r.u32()), r.u32()
        path = self._path(entry)
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise NinePError(proto.ELOOP, "a symlink is not opened by the server")
        if entry.fd is not None:
            os.close(entry.fd)
            entry.fd = None
        if stat.S_ISDIR(st.st_mode) or is_link(st):
            entry.entries = None  # listed at the first Treaddir
        elif flags & proto.L_O_DIRECTORY:
            raise NinePError(proto.ENOTDIR, "not a directory")
        else:
            entry.fd = os.open(path, host_open_flags(flags))
        entry.opened = True
        return Writer().qid(qid_of(st, entry.parts)).u32(0)  # iounit 0: msize decides

    def _lcreate(self, r: Reader) -> Writer:
        dfid, name, flags, mode, _gid = r.u32(), r.string(), r.u32(), r.u32(), r.u32()
        parts, path = self._child(dfid, name)
        entry = self.fids.get(dfid)
        how = host_open_flags(flags) | os.O_CREAT | (os.O_EXCL if flags & proto.L_O_EXCL else 0)
        fd = os.open(path, how, mode & 0o7777)
        if entry.fd is not None:
            os.close(entry.fd)
        entry.parts, entry.fd, entry.opened, entry.entries = parts, fd, True, None
        return Writer().qid(qid_of(os.fstat(fd), parts)).u32(0)

    def _open_fd(self, entry: Fid) -> int:
        if entry.fd is None:
            raise NinePError(proto.EISDIR if entry.opened else proto.EBADF, "no open file")
        return entry.fd

    def _read(self, r: Reader) -> Writer:
        entry, offset, count = self.fids.get(r.u32()), r.u64(), r.u32()
        fd = self._open_fd(entry)
        count = min(count, self.msize - _IO_HEADER)
        os.lseek(fd, offset, os.SEEK_SET)
        chunks: list[bytes] = []
        got = 0
        while got < count:
            chunk = os.read(fd, count - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return Writer().u32(got).data(b"".join(chunks))

    def _write(self, r: Reader) -> Writer:
        entry, offset, count = self.fids.get(r.u32()), r.u64(), r.u32()
        data = r.data(count)
        fd = self._open_fd(entry)
        os.lseek(fd, offset, os.SEEK_SET)
        done = 0
        while done < count:
            done += os.write(fd, data[done:])
        return Writer().u32(done)

    def _fsync(self, r: Reader) -> None:
        entry = self.fids.get(r.u32())
        r.u32()  # datasync: a full fsync is never wrong
        if entry.fd is not None:
            os.fsync(entry.fd)

    def _readdir(self, r: Reader) -> Writer:
        entry, offset, count = self.fids.get(r.u32()), r.u64(), r.u32()
        if entry.fd is not None:
            raise NinePError(proto.ENOTDIR, "not a directory")
        if entry.entries is None or offset == 0:
            entry.entries = self._listing(entry)
        count = min(count, self.msize - _IO_HEADER)
        body = Writer()
        for index in range(offset, len(entry.entries)):
            qid, kind, name = entry.entries[index]
            record = Writer().qid(qid).u64(index + 1).u8(kind).string(name)
            if body.size() + record.size() > count:
                break
            body.parts.extend(record.parts)
        return Writer().u32(body.size()).data(b"".join(body.parts))

    def _listing(self, entry: Fid) -> list[tuple[tuple[int, int, int], int, str]]:
        """``.``, ``..`` and the folder's entries, as (qid, dirent type, name)."""
        path = self._path(entry)
        st = os.lstat(path)
        if is_link(st) or not stat.S_ISDIR(st.st_mode):  # replaced by a link since its Tlopen
            raise NinePError(proto.ENOTDIR, f"{path} is no longer a folder of the share")
        here = qid_of(st, entry.parts)
        parent = qid_of(os.lstat(self.fids.host_path(entry.parts[:-1])), entry.parts[:-1])
        found = [(here, proto.DT_DIR, "."), (parent, proto.DT_DIR, "..")]
        with os.scandir(path) as listing:
            for item in listing:
                if item.is_symlink():
                    qtype, dtype = proto.QTSYMLINK, proto.DT_LNK
                elif item.is_dir(follow_symlinks=False):
                    qtype, dtype = proto.QTDIR, proto.DT_DIR
                elif item.is_file(follow_symlinks=False):
                    qtype, dtype = proto.QTFILE, proto.DT_REG
                else:
                    qtype, dtype = proto.QTFILE, proto.DT_UNKNOWN
                ino = item.inode() or (hash((*entry.parts, item.name)) & 0xFFFFFFFFFFFFFFFF)
                found.append(((qtype, 0, ino), dtype, item.name))
        return found

    # -- names ----------------------------------------------------------------------------------

    def _mkdir(self, r: Reader) -> Writer:
        dfid, name, mode, _gid = r.u32(), r.string(), r.u32(), r.u32()
        parts, path = self._child(dfid, name)
        os.mkdir(path, mode & 0o7777)
        return Writer().qid(qid_of(os.lstat(path), parts))

    def _symlink(self, r: Reader) -> Writer:
        dfid, name, target, _gid = r.u32(), r.string(), r.string(), r.u32()
        if not target or "\0" in target:
            raise NinePError(proto.EINVAL, "bad symlink target")
        parts, path = self._child(dfid, name)
        os.symlink(target, path)  # kept as text: the guest resolves it, the server never does
        return Writer().qid(qid_of(os.lstat(path), parts))

    def _readlink(self, r: Reader) -> Writer:
        entry = self.fids.get(r.u32())
        return Writer().string(os.readlink(self._path(entry)))

    def _link(self, r: Reader) -> None:
        dfid, fid, name = r.u32(), r.u32(), r.string()
        source = self._path(self.fids.get(fid))
        _, path = self._child(dfid, name)
        if os.link in os.supports_follow_symlinks:
            os.link(source, path, follow_symlinks=False)  # a link to the symlink itself
        elif is_link(os.lstat(source)):  # never a hard link to what a symlink points at
            raise NinePError(proto.EPERM, "a symlink is not hard-linked here")
        else:
            os.link(source, path)

    def _unlinkat(self, r: Reader) -> None:
        dfid, name, flags = r.u32(), r.string(), r.u32()
        _, path = self._child(dfid, name)
        if flags & proto.L_AT_REMOVEDIR:
            os.rmdir(path)
            return
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and not is_link(st):
            raise NinePError(proto.EISDIR, "a directory is removed with AT_REMOVEDIR")
        os.unlink(path)

    def _remove(self, r: Reader) -> None:
        fid = r.u32()
        entry = self.fids.get(fid)
        try:
            if not entry.parts:
                raise NinePError(proto.EBUSY, "the shared folder itself is not removed")
            path = self._path(entry)
            st = os.lstat(path)
            if stat.S_ISDIR(st.st_mode) and not is_link(st):
                os.rmdir(path)
            else:
                os.unlink(path)
        finally:
            self.fids.clunk(fid)  # Tremove clunks the fid even when it fails

    def _move(self, old: tuple[str, ...], new: tuple[str, ...]) -> None:
        if not old:
            raise NinePError(proto.EINVAL, "the shared folder itself is not renamed")
        os.replace(self.fids.host_path(old), self.fids.host_path(new))
        self.fids.rename_paths(old, new)

    def _renameat(self, r: Reader) -> None:
        olddir, oldname, newdir, newname = r.u32(), r.string(), r.u32(), r.string()
        old, _ = self._child(olddir, oldname)
        new, _ = self._child(newdir, newname)
        self._move(old, new)

    def _rename(self, r: Reader) -> None:
        fid, dfid, name = r.u32(), r.u32(), r.string()
        new, _ = self._child(dfid, name)
        self._move(self.fids.get(fid).parts, new)

    # -- locks (granted: the guest's kernel keeps its own lock state) ---------------------------

    def _lock(self, r: Reader) -> Writer:
        self.fids.get(r.u32())
        return Writer().u8(proto.LOCK_SUCCESS)

    def _getlock(self, r: Reader) -> Writer:
        self.fids.get(r.u32())
        r.u8()
        start, length, proc_id, client = r.u64(), r.u64(), r.u32(), r.string()
        return Writer().u8(proto.F_UNLCK).u64(start).u64(length).u32(proc_id).string(client)
