"""9P2000.L wire format: message numbers, a reader and a writer, qids, and Linux errno numbers.

Pure functions and small classes, no I/O::

    bytes of one T-message ─► parse_header ─► (size, type, tag) ─► Reader(body).u32()/.string()...
    handler's answer ─► Writer().u32(...).qid(...) ─► message(type, tag, writer) ─► bytes

Every message is ``size[4] type[1] tag[2] body`` in little-endian; strings are ``len[2]`` then
UTF-8. Errors travel as ``Rlerror ecode[4]`` with a *Linux* errno number: the guest is Linux, and
the host's numbers differ on Windows and macOS, so :func:`linux_errno` maps the host's
``errno`` names to Linux's values through a fixed table.
"""

from __future__ import annotations

import errno
import struct

#: The protocol version served; anything else is answered with "unknown".
VERSION = "9P2000.L"
#: The largest message this server takes (the guest asks ``msize``; the smaller one wins).
MAX_MSIZE = 1024 * 1024
#: The smallest msize worth serving (a header plus a few names).
MIN_MSIZE = 4096
#: size[4] type[1] tag[2]
HEADER = struct.Struct("<IBH")
#: The tag of Tversion.
NOTAG = 0xFFFF
#: "no fid" (Tattach's afid).
NOFID = 0xFFFFFFFF

# message types (T = request, R = T + 1)
TLERROR, RLERROR = 6, 7
TSTATFS, RSTATFS = 8, 9
TLOPEN, RLOPEN = 12, 13
TLCREATE, RLCREATE = 14, 15
TSYMLINK, RSYMLINK = 16, 17
TMKNOD, RMKNOD = 18, 19
TRENAME, RRENAME = 20, 21
TREADLINK, RREADLINK = 22, 23
TGETATTR, RGETATTR = 24, 25
TSETATTR, RSETATTR = 26, 27
TXATTRWALK, RXATTRWALK = 30, 31
TXATTRCREATE, RXATTRCREATE = 32, 33
TREADDIR, RREADDIR = 40, 41
TFSYNC, RFSYNC = 50, 51
TLOCK, RLOCK = 52, 53
TGETLOCK, RGETLOCK = 54, 55
TLINK, RLINK = 70, 71
TMKDIR, RMKDIR = 72, 73
TRENAMEAT, RRENAMEAT = 74, 75
TUNLINKAT, RUNLINKAT = 76, 77
TVERSION, RVERSION = 100, 101
TAUTH, RAUTH = 102, 103
TATTACH, RATTACH = 104, 105
TFLUSH, RFLUSH = 108, 109
TWALK, RWALK = 110, 111
TREAD, RREAD = 116, 117
TWRITE, RWRITE = 118, 119
TCLUNK, RCLUNK = 120, 121
TREMOVE, RREMOVE = 122, 123

# qid types
QTDIR = 0x80
QTSYMLINK = 0x02
QTFILE = 0x00

# Tsetattr's valid bits
SETATTR_MODE = 0x1
SETATTR_UID = 0x2
SETATTR_GID = 0x4
SETATTR_SIZE = 0x8
SETATTR_ATIME = 0x10
SETATTR_MTIME = 0x20
SETATTR_CTIME = 0x40
SETATTR_ATIME_SET = 0x80
SETATTR_MTIME_SET = 0x100

#: Rgetattr's valid mask for what this server fills in (P9_GETATTR_BASIC)
GETATTR_BASIC = 0x7FF

#: Linux open(2) flags in Tlopen/Tlcreate (the host's os.O_* values differ on Windows/macOS)
L_O_ACCMODE = 0o3
L_O_WRONLY = 0o1
L_O_RDWR = 0o2
L_O_CREAT = 0o100
L_O_EXCL = 0o200
L_O_TRUNC = 0o1000
L_O_APPEND = 0o2000
L_O_DIRECTORY = 0o200000
#: Tunlinkat's flag: remove a directory
L_AT_REMOVEDIR = 0x200
#: Linux dirent types (Rreaddir)
DT_UNKNOWN, DT_DIR, DT_REG, DT_LNK = 0, 4, 8, 10
#: Rgetlock's "no conflicting lock" (F_UNLCK); Rlock's success
F_UNLCK = 2
LOCK_SUCCESS = 0
#: The magic number statfs reports for v9fs
V9FS_MAGIC = 0x01021997

#: Linux's errno numbers by name (asm-generic/errno-base.h, errno.h)
LINUX_ERRNO = {
    "EPERM": 1, "ENOENT": 2, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "EBADF": 9, "EAGAIN": 11,
    "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18,
    "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24,
    "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
    "EPIPE": 32, "ERANGE": 34, "EDEADLK": 35, "ENAMETOOLONG": 36, "ENOLCK": 37, "ENOSYS": 38,
    "ENOTEMPTY": 39, "ELOOP": 40, "ENODATA": 61, "EPROTO": 71, "EOVERFLOW": 75, "EILSEQ": 84,
    "ENOTSUP": 95, "EOPNOTSUPP": 95, "EDQUOT": 122,
}  # fmt: skip
EPERM, ENOENT, EIO, EBADF = 1, 2, 5, 9
EEXIST, ENOTDIR, EISDIR, EINVAL = 17, 20, 21, 22
ENOTEMPTY, ELOOP, EPROTO, EOPNOTSUPP = 39, 40, 71, 95
ERANGE, EBUSY = 34, 16

#: host errno value -> Linux errno value (built from the host's own ``errno`` names)
_HOST_TO_LINUX = {
    getattr(errno, name): number for name, number in LINUX_ERRNO.items() if hasattr(errno, name)
}


def linux_errno(exc: OSError) -> int:
    """The Linux errno number for a host ``OSError`` (EIO when it has none we know)."""
    if exc.errno is None:
        return EIO
    return _HOST_TO_LINUX.get(exc.errno, EIO)


class ProtocolError(Exception):
    """A message that does not parse (answered with Rlerror EPROTO when its tag is known)."""


class NinePError(Exception):
    """A request that fails: answered with ``Rlerror(errno)`` (a Linux number)."""

    def __init__(self, code: int, why: str = "") -> None:
        super().__init__(why or f"errno {code}")
        self.code = code


class Reader:
    """Reads the fields of one message body in order; short bodies raise ProtocolError."""

    def __init__(self, body: bytes | memoryview) -> None:
        self._body = memoryview(body)
        self._at = 0

    def _take(self, size: int) -> memoryview:
        end = self._at + size
        if end > len(self._body):
            raise ProtocolError("message too short")
        part = self._body[self._at : end]
        self._at = end
        return part

    def u8(self) -> int:
        return int(self._take(1)[0])

    def u16(self) -> int:
        value: int = struct.unpack("<H", self._take(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack("<I", self._take(4))[0]
        return value

    def u64(self) -> int:
        value: int = struct.unpack("<Q", self._take(8))[0]
        return value

    def string(self) -> str:
        raw = bytes(self._take(self.u16()))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NinePError(LINUX_ERRNO["EILSEQ"], "a name that is not UTF-8") from exc

    def data(self, size: int) -> memoryview:
        return self._take(size)

    def qid(self) -> tuple[int, int, int]:
        return self.u8(), self.u32(), self.u64()


class Writer:
    """Builds a message body field by field (chainable)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def u8(self, value: int) -> Writer:
        self.parts.append(struct.pack("<B", value & 0xFF))
        return self

    def u16(self, value: int) -> Writer:
        self.parts.append(struct.pack("<H", value & 0xFFFF))
        return self

    def u32(self, value: int) -> Writer:
        self.parts.append(struct.pack("<I", value & 0xFFFFFFFF))
        return self

    def u64(self, value: int) -> Writer:
        self.parts.append(struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))
        return self

    def string(self, value: str) -> Writer:
        raw = value.encode("utf-8", "surrogateescape")
        self.parts.append(struct.pack("<H", len(raw)) + raw)
        return self

    def data(self, value: bytes) -> Writer:
        self.parts.append(value)
        return self

    def qid(self, qid: tuple[int, int, int]) -> Writer:
        self.parts.append(struct.pack("<BIQ", *qid))
        return self

    def size(self) -> int:
        return sum(len(p) for p in self.parts)


def message(kind: int, tag: int, body: Writer | None = None) -> bytes:
    """A whole message: header and body."""
    parts = body.parts if body is not None else []
    size = HEADER.size + sum(len(p) for p in parts)
    return HEADER.pack(size, kind, tag) + b"".join(parts)


def parse_header(raw: bytes | memoryview) -> tuple[int, int, int]:
    """(size, type, tag) of a message's first 7 bytes."""
    if len(raw) < HEADER.size:
        raise ProtocolError("message shorter than its header")
    size, kind, tag = HEADER.unpack_from(raw)
    if size < HEADER.size:
        raise ProtocolError(f"message size {size} is smaller than its header")
    return size, kind, tag


def lerror(tag: int, code: int) -> bytes:
    """``Rlerror`` with a Linux errno number."""
    return message(RLERROR, tag, Writer().u32(code))
