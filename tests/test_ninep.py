"""Portside's 9P2000.L file server (engine/vm/ninep/) driven by real 9P messages in-process.

Each test builds T-messages byte by byte with the protocol's own writer, hands them to a
``FileServer`` over a temporary folder and reads the R-messages back; the files are checked on
the real file system. The last tests run the same server over real FIFOs (the POSIX pipe
chardev's transport), with this test playing QEMU's side.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from engine.vm import pipes
from engine.vm.ninep import proto
from engine.vm.ninep.proto import Reader, Writer
from engine.vm.ninep.server import FileServer
from engine.vm.ninep.transport import ShareServer, share_args

ROOT_FID = 1
L_O_RDONLY, L_O_WRONLY, L_O_RDWR = 0, 1, 2


class Lerror(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"Rlerror {code} ({errno.errorcode.get(code, '?')})")
        self.code = code


class Client:
    """The guest's side, one request at a time."""

    def __init__(self, server: FileServer) -> None:
        self.server = server
        self.tag = 0
        self.next_fid = 100

    def call(self, kind: int, body: Writer) -> Reader:
        self.tag += 1
        answer = self.server.handle(proto.message(kind, self.tag, body))
        size, rkind, tag = proto.parse_header(answer)
        assert size == len(answer) and tag == self.tag
        reader = Reader(answer[proto.HEADER.size :])
        if rkind == proto.RLERROR:
            raise Lerror(reader.u32())
        assert rkind == kind + 1
        return reader

    def fid(self) -> int:
        self.next_fid += 1
        return self.next_fid

    def version(self, msize: int = 65536, version: str = "9P2000.L") -> tuple[int, str]:
        r = self.call(proto.TVERSION, Writer().u32(msize).string(version))
        return r.u32(), r.string()

    def attach(self) -> tuple[int, int, int]:
        self.version()
        body = Writer().u32(ROOT_FID).u32(proto.NOFID).string("root").string("").u32(0)
        return self.call(proto.TATTACH, body).qid()

    def walk(
        self, *names: str, fid: int = ROOT_FID, newfid: int | None = None
    ) -> tuple[int, list[tuple[int, int, int]]]:
        newfid = self.fid() if newfid is None else newfid
        body = Writer().u32(fid).u32(newfid).u16(len(names))
        for name in names:
            body.string(name)
        r = self.call(proto.TWALK, body)
        return newfid, [r.qid() for _ in range(r.u16())]

    def open(self, *names: str, flags: int = L_O_RDONLY) -> int:
        fid, _ = self.walk(*names)
        self.call(proto.TLOPEN, Writer().u32(fid).u32(flags))
        return fid

    def read(self, fid: int, offset: int = 0, count: int = 65536) -> bytes:
        r = self.call(proto.TREAD, Writer().u32(fid).u64(offset).u32(count))
        return bytes(r.data(r.u32()))

    def write(self, fid: int, data: bytes, offset: int = 0) -> int:
        body = Writer().u32(fid).u64(offset).u32(len(data)).data(data)
        return self.call(proto.TWRITE, body).u32()

    def create(self, name: str, data: bytes = b"", dir_fid: int = ROOT_FID) -> int:
        fid, _ = self.walk(fid=dir_fid)
        body = Writer().u32(fid).string(name).u32(L_O_RDWR | proto.L_O_CREAT).u32(0o640).u32(0)
        self.call(proto.TLCREATE, body)
        if data:
            self.write(fid, data)
        return fid

    def readdir(self, *names: str, count: int = 8192) -> list[tuple[str, int]]:
        fid = self.open(*names)
        found: list[tuple[str, int]] = []
        offset = 0
        while True:
            r = self.call(proto.TREADDIR, Writer().u32(fid).u64(offset).u32(count))
            data = Reader(r.data(r.u32()))
            got = 0
            try:
                while True:
                    data.qid()
                    offset = data.u64()
                    kind = data.u8()
                    found.append((data.string(), kind))
                    got += 1
            except proto.ProtocolError:
                pass
            if not got:
                break
        self.clunk(fid)
        return found

    def getattr(self, fid: int) -> dict[str, int]:
        r = self.call(proto.TGETATTR, Writer().u32(fid).u64(proto.GETATTR_BASIC))
        valid, qid = r.u64(), r.qid()
        mode, uid, gid, nlink, _rdev, size = r.u32(), r.u32(), r.u32(), r.u64(), r.u64(), r.u64()
        r.u64(), r.u64()
        atime, _ = r.u64(), r.u64()
        mtime, _ = r.u64(), r.u64()
        return {
            "valid": valid,
            "qtype": qid[0],
            "ino": qid[2],
            "mode": mode,
            "uid": uid,
            "gid": gid,
            "nlink": nlink,
            "size": size,
            "atime": atime,
            "mtime": mtime,
        }

    def clunk(self, fid: int) -> None:
        self.call(proto.TCLUNK, Writer().u32(fid))


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "hello.txt").write_bytes(b"hello from the host\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.txt").write_bytes(b"deep")
    (tmp_path / "outside.txt").write_bytes(b"secret outside the share")
    return folder


@pytest.fixture
def client(share: Path) -> Client:
    c = Client(FileServer(str(share)))
    c.attach()
    return c


# -- the wire format --------------------------------------------------------------------------


def test_encoding_round_trips_every_field_type() -> None:
    raw = proto.message(proto.TWALK, 7, Writer().u8(3).u16(513).u32(70000).u64(1 << 40)
                        .string("näme").qid((0x80, 5, 99)).data(b"xyz"))  # fmt: skip
    size, kind, tag = proto.parse_header(raw)
    assert (size, kind, tag) == (len(raw), proto.TWALK, 7)
    r = Reader(raw[7:])
    assert (r.u8(), r.u16(), r.u32(), r.u64()) == (3, 513, 70000, 1 << 40)
    assert r.string() == "näme" and r.qid() == (0x80, 5, 99) and bytes(r.data(3)) == b"xyz"
    with pytest.raises(proto.ProtocolError):
        r.u8()
    assert raw[:4] == len(raw).to_bytes(4, "little")  # little-endian, size first


def test_errors_are_linux_numbers_whatever_the_host() -> None:
    assert proto.linux_errno(OSError(errno.ENOENT, "x")) == 2
    assert proto.linux_errno(OSError(errno.ENOTEMPTY, "x")) == 39  # 66 on macOS, 41 on Windows
    assert proto.linux_errno(OSError(errno.ELOOP, "x")) == 40  # 62 on macOS
    assert proto.linux_errno(OSError(errno.EOPNOTSUPP, "x")) == 95  # 102 on macOS
    assert proto.linux_errno(OSError(None, "no number")) == proto.EIO
    assert proto.linux_errno(OSError(424242, "unknown")) == proto.EIO


def test_garbage_and_unknown_messages_get_rlerror(client: Client) -> None:
    assert proto.parse_header(client.server.handle(b"\x01\x00"))[1] == proto.RLERROR
    answer = client.server.handle(proto.message(99, 5, Writer()))
    assert proto.parse_header(answer)[1:] == (proto.RLERROR, 5)
    assert Reader(answer[7:]).u32() == proto.EOPNOTSUPP
    short = proto.message(proto.TWALK, 6, Writer().u32(ROOT_FID))  # newfid and names missing
    assert Reader(client.server.handle(short)[7:]).u32() == proto.EPROTO


# -- session ----------------------------------------------------------------------------------


def test_version_negotiates_msize_and_refuses_other_versions(share: Path) -> None:
    c = Client(FileServer(str(share)))
    assert c.version(8 * 1024 * 1024) == (proto.MAX_MSIZE, "9P2000.L")
    assert c.version(65536) == (65536, "9P2000.L")
    assert c.version(65536, "9P2000.u")[1] == "unknown"
    assert c.version(65536, "9P2000")[1] == "unknown"


def test_version_resets_the_fids(client: Client) -> None:
    client.version()
    with pytest.raises(Lerror) as caught:
        client.walk()
    assert caught.value.code == proto.EBADF


# -- walking and confinement ------------------------------------------------------------------


def test_walk_read_and_getattr(client: Client, share: Path) -> None:
    fid, qids = client.walk("sub", "deep.txt")
    assert [q[0] for q in qids] == [proto.QTDIR, proto.QTFILE]
    assert qids[1][2] == (share / "sub" / "deep.txt").stat().st_ino  # qid path = st_ino
    client.call(proto.TLOPEN, Writer().u32(fid).u32(L_O_RDONLY))
    assert client.read(fid) == b"deep"
    assert client.read(fid, offset=2, count=1) == b"e"
    assert client.read(fid, offset=100) == b""
    attrs = client.getattr(fid)
    assert attrs["size"] == 4 and stat.S_ISREG(attrs["mode"]) and attrs["nlink"] == 1
    assert attrs["mtime"] == int((share / "sub" / "deep.txt").stat().st_mtime)
    if sys.platform != "win32":
        assert attrs["uid"] == os.getuid()


def test_walk_stops_at_the_first_missing_name(client: Client) -> None:
    with pytest.raises(Lerror) as caught:
        client.walk("nope")
    assert caught.value.code == proto.ENOENT
    newfid, qids = client.walk("sub", "nope")  # partial: one qid, newfid not made
    assert len(qids) == 1
    with pytest.raises(Lerror):
        client.getattr(newfid)


def test_dotdot_never_leaves_the_shared_folder(client: Client, share: Path) -> None:
    root_qid = client.attach()
    _, qids = client.walk("..")
    assert qids == [root_qid]
    _, qids = client.walk("..", "..", "..", "sub", "..", "..")
    assert qids[-1] == root_qid and client.readdir() == client.readdir()
    # outside.txt exists next to the share: the walk stops at it, no fid is made
    newfid, qids = client.walk("..", "outside.txt")
    assert qids == [root_qid]
    with pytest.raises(Lerror):
        client.getattr(newfid)
    for bad in ("../outside.txt", "sub/deep.txt", "a\0b", ""):
        with pytest.raises(Lerror) as caught:
            client.walk(bad)
        assert caught.value.code == proto.EINVAL
    with pytest.raises(Lerror):  # nor by creating through a name with a separator
        client.create("../escaped.txt")
    assert not (share.parent / "escaped.txt").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need a privilege on Windows")
def test_a_symlink_out_of_the_share_is_served_as_a_link_never_followed(
    client: Client, share: Path
) -> None:
    (share / "escape").symlink_to(share.parent)  # a directory outside the share
    (share / "secret").symlink_to(share.parent / "outside.txt")
    fid, qids = client.walk("escape")
    assert qids[0][0] == proto.QTSYMLINK
    assert stat.S_ISLNK(client.getattr(fid)["mode"])
    r = client.call(proto.TREADLINK, Writer().u32(fid))
    assert r.string() == str(share.parent)  # the guest resolves it in its own file system
    newfid, qids = client.walk("escape", "outside.txt")  # not walked through
    assert len(qids) == 1
    with pytest.raises(Lerror):
        client.getattr(newfid)
    link_fid, _ = client.walk("secret")
    with pytest.raises(Lerror) as caught:
        client.call(proto.TLOPEN, Writer().u32(link_fid).u32(L_O_RDONLY))
    assert caught.value.code == proto.ELOOP
    assert ("escape", proto.DT_LNK) in client.readdir()


def test_a_stale_fid_cannot_reach_through_a_link_put_in_its_folders_place(
    client: Client, share: Path
) -> None:
    """A guest keeps a fid of a folder, removes the folder and puts a symlink to somewhere
    outside the share under its name: creating, opening or listing through the old fid must
    not follow that link on the host."""
    outside = share.parent / "outside-dir"
    outside.mkdir()
    client.call(proto.TMKDIR, Writer().u32(ROOT_FID).string("d").u32(0o755).u32(0))
    stale, _ = client.walk("d")
    client.call(proto.TUNLINKAT, Writer().u32(ROOT_FID).string("d").u32(proto.L_AT_REMOVEDIR))
    client.call(proto.TSYMLINK, Writer().u32(ROOT_FID).string("d").string(str(outside)).u32(0))
    with pytest.raises(Lerror) as caught:
        client.create("planted.txt", b"x", dir_fid=stale)
    assert caught.value.code in (proto.ELOOP, proto.ENOTDIR)
    with pytest.raises(Lerror):
        client.call(proto.TMKDIR, Writer().u32(stale).string("m").u32(0o755).u32(0))
    with pytest.raises(Lerror):
        client.walk("x", fid=stale)
    assert list(outside.iterdir()) == []
    (outside / "secret.txt").write_text("not yours")
    with pytest.raises(Lerror):
        client.walk("secret.txt", fid=stale)
    # the same with a folder opened for listing before its swap: no names from outside
    client.call(proto.TMKDIR, Writer().u32(ROOT_FID).string("e").u32(0o755).u32(0))
    listed = client.open("e")
    client.call(proto.TUNLINKAT, Writer().u32(ROOT_FID).string("e").u32(proto.L_AT_REMOVEDIR))
    client.call(proto.TSYMLINK, Writer().u32(ROOT_FID).string("e").string(str(outside)).u32(0))
    with pytest.raises(Lerror) as caught:
        client.call(proto.TREADDIR, Writer().u32(listed).u64(0).u32(8192))
    assert caught.value.code == proto.ENOTDIR
    # and a file opened before its swap: a chmod through the fid never reaches the link's target
    target = outside / "secret.txt"
    target.chmod(0o600)
    opened = client.create("f.txt", b"data")
    (share / "f.txt").unlink()
    (share / "f.txt").symlink_to(target)
    body = Writer().u32(opened).u32(proto.SETATTR_MODE).u32(0o777).u32(0).u32(0).u64(0)
    client.call(proto.TSETATTR, body.u64(0).u64(0).u64(0).u64(0))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- files and folders ------------------------------------------------------------------------


def test_create_write_and_read_back(client: Client, share: Path) -> None:
    fid = client.create("new.bin")
    data = os.urandom(200_000)
    done = 0
    while done < len(data):  # in msize-sized pieces, as the guest does
        done += client.write(fid, data[done : done + 60000], offset=done)
    assert (share / "new.bin").read_bytes() == data
    assert stat.S_IMODE((share / "new.bin").stat().st_mode) == 0o640 & ~_umask()
    got = b"".join(client.read(fid, offset=o, count=60000) for o in range(0, len(data), 60000))
    assert got == data
    client.call(proto.TFSYNC, Writer().u32(fid).u32(0))
    client.clunk(fid)
    with pytest.raises(Lerror) as caught:
        client.create("new.bin")  # O_CREAT without O_EXCL opens; with O_EXCL it is refused
        fid, _ = client.walk()
        body = (
            Writer()
            .u32(fid)
            .string("new.bin")
            .u32(L_O_RDWR | proto.L_O_CREAT | proto.L_O_EXCL)
            .u32(0o600)
            .u32(0)
        )
        client.call(proto.TLCREATE, body)
    assert caught.value.code == proto.EEXIST


def test_open_flags_are_linux_values(client: Client, share: Path) -> None:
    fid = client.open("hello.txt", flags=L_O_WRONLY | proto.L_O_TRUNC)
    assert (share / "hello.txt").read_bytes() == b""
    client.write(fid, b"one")
    with pytest.raises(Lerror) as caught:
        client.read(fid)  # write-only
    assert caught.value.code == proto.EBADF
    append = client.open("hello.txt", flags=L_O_WRONLY | proto.L_O_APPEND)
    client.write(append, b"two", offset=0)
    assert (share / "hello.txt").read_bytes() == b"onetwo"


def test_readdir_lists_everything_in_pieces(client: Client, share: Path) -> None:
    many = share / "many"
    many.mkdir()
    names = {f"file-{n:04d}-{'x' * (n % 40)}" for n in range(700)}
    for name in names:
        (many / name).write_bytes(b"")
    (many / "folder").mkdir()
    listed = client.readdir("many", count=2000)  # many Treaddir calls, offsets carried on
    assert len(listed) == len(names) + 3
    assert {n for n, _ in listed} == names | {".", "..", "folder"}
    kinds = dict(listed)
    assert kinds["folder"] == proto.DT_DIR and kinds[next(iter(names))] == proto.DT_REG


def test_mkdir_rename_and_remove(client: Client, share: Path) -> None:
    r = client.call(proto.TMKDIR, Writer().u32(ROOT_FID).string("made").u32(0o755).u32(0))
    assert r.qid()[0] == proto.QTDIR and (share / "made").is_dir()
    made, _ = client.walk("made")
    inner = client.create("inner.txt", b"inside", dir_fid=made)
    # renameat moves the folder; the open fid inside follows it (as QEMU's server does)
    client.call(proto.TRENAMEAT, Writer().u32(ROOT_FID).string("made").u32(ROOT_FID)
                .string("moved"))  # fmt: skip
    assert (share / "moved" / "inner.txt").read_bytes() == b"inside"
    assert not (share / "made").exists()
    client.write(inner, b"INSIDE")
    assert client.getattr(inner)["size"] == 6
    assert (share / "moved" / "inner.txt").read_bytes() == b"INSIDE"
    # Trename (fid based) onto an existing file replaces it, as rename(2) does
    hello, _ = client.walk("hello.txt")
    client.call(proto.TRENAME, Writer().u32(hello).u32(made).string("inner.txt"))
    assert (share / "moved" / "inner.txt").read_bytes() == b"hello from the host\n"
    with pytest.raises(Lerror) as caught:  # a folder with files is not removed
        client.call(proto.TUNLINKAT, Writer().u32(ROOT_FID).string("moved")
                    .u32(proto.L_AT_REMOVEDIR))  # fmt: skip
    assert caught.value.code == proto.ENOTEMPTY
    with pytest.raises(Lerror) as caught:  # nor as a file
        client.call(proto.TUNLINKAT, Writer().u32(ROOT_FID).string("moved").u32(0))
    assert caught.value.code == proto.EISDIR
    client.call(proto.TUNLINKAT, Writer().u32(made).string("inner.txt").u32(0))
    client.call(proto.TUNLINKAT, Writer().u32(ROOT_FID).string("moved")
                .u32(proto.L_AT_REMOVEDIR))  # fmt: skip
    assert not (share / "moved").exists()
    gone, _ = client.walk("sub", "deep.txt")
    client.call(proto.TREMOVE, Writer().u32(gone))
    assert not (share / "sub" / "deep.txt").exists()
    with pytest.raises(Lerror):
        client.getattr(gone)  # Tremove clunked it
    with pytest.raises(Lerror) as caught:
        client.call(proto.TRENAMEAT, Writer().u32(ROOT_FID).string("nope").u32(ROOT_FID)
                    .string("x"))  # fmt: skip
    assert caught.value.code == proto.ENOENT


def test_setattr_mode_size_and_times(client: Client, share: Path) -> None:
    fid, _ = client.walk("hello.txt")
    when = 1_600_000_000

    def setattr(valid: int, mode: int = 0, size: int = 0, mtime: int = 0) -> None:
        body = Writer().u32(fid).u32(valid).u32(mode).u32(0).u32(0).u64(size)
        client.call(proto.TSETATTR, body.u64(when).u64(0).u64(mtime).u64(500))

    setattr(proto.SETATTR_MODE, mode=0o600)
    assert stat.S_IMODE((share / "hello.txt").stat().st_mode) == 0o600
    setattr(proto.SETATTR_SIZE, size=5)
    assert (share / "hello.txt").read_bytes() == b"hello"
    setattr(proto.SETATTR_SIZE, size=8)
    assert (share / "hello.txt").read_bytes() == b"hello\0\0\0"
    setattr(proto.SETATTR_ATIME | proto.SETATTR_ATIME_SET | proto.SETATTR_MTIME
            | proto.SETATTR_MTIME_SET, mtime=when + 60)  # fmt: skip
    st = (share / "hello.txt").stat()
    assert (int(st.st_atime), st.st_mtime_ns) == (when, (when + 60) * 10**9 + 500)
    before = time.time()
    setattr(proto.SETATTR_MTIME)  # without _SET: now
    assert (share / "hello.txt").stat().st_mtime >= before - 1
    assert int((share / "hello.txt").stat().st_atime) == when  # atime untouched
    setattr(proto.SETATTR_UID | proto.SETATTR_GID)  # refused by the host: ignored, as QEMU does
    dir_fid, _ = client.walk("sub")
    with pytest.raises(Lerror) as caught:
        client.call(proto.TSETATTR, Writer().u32(dir_fid).u32(proto.SETATTR_SIZE).u32(0).u32(0)
                    .u32(0).u64(1).u64(0).u64(0).u64(0).u64(0))  # fmt: skip
    assert caught.value.code == proto.EINVAL


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need a privilege on Windows")
def test_symlink_readlink_and_link(client: Client, share: Path) -> None:
    body = Writer().u32(ROOT_FID).string("ln").string("/etc/passwd").u32(0)
    assert client.call(proto.TSYMLINK, body).qid()[0] == proto.QTSYMLINK
    assert os.readlink(share / "ln") == "/etc/passwd"  # stored as text, never resolved here
    fid, _ = client.walk("ln")
    assert client.call(proto.TREADLINK, Writer().u32(fid)).string() == "/etc/passwd"
    hello, _ = client.walk("hello.txt")
    client.call(proto.TLINK, Writer().u32(ROOT_FID).u32(hello).string("hard.txt"))
    assert (share / "hard.txt").stat().st_ino == (share / "hello.txt").stat().st_ino
    assert client.getattr(hello)["nlink"] == 2


def test_values_the_host_cannot_take_are_einval_not_a_dead_server(client: Client) -> None:
    fid, _ = client.walk("hello.txt")
    huge = Writer().u32(fid).u32(proto.SETATTR_MTIME | proto.SETATTR_MTIME_SET).u32(0).u32(0)
    huge.u32(0).u64(0).u64(0).u64(0).u64(1 << 63).u64(0)  # mtime far past what the host holds
    with pytest.raises(Lerror) as caught:
        client.call(proto.TSETATTR, huge)
    assert caught.value.code == proto.EINVAL
    assert client.getattr(fid)["size"] == len(b"hello from the host\n")  # still serving


def test_statfs_locks_flush_and_the_unsupported(client: Client) -> None:
    r = client.call(proto.TSTATFS, Writer().u32(ROOT_FID))
    assert r.u32() == proto.V9FS_MAGIC and r.u32() > 0 and r.u64() > 0
    fid = client.open("hello.txt")
    lock = Writer().u32(fid).u8(1).u32(0).u64(0).u64(0).u32(42).string("guest")
    assert client.call(proto.TLOCK, lock).u8() == proto.LOCK_SUCCESS
    r = client.call(proto.TGETLOCK, Writer().u32(fid).u8(1).u64(3).u64(9).u32(42).string("g"))
    assert (r.u8(), r.u64(), r.u64(), r.u32(), r.string()) == (proto.F_UNLCK, 3, 9, 42, "g")
    client.call(proto.TFLUSH, Writer().u16(1))
    with pytest.raises(Lerror) as caught:
        client.call(proto.TXATTRWALK, Writer().u32(fid).u32(client.fid()).string("user.x"))
    assert caught.value.code == proto.EOPNOTSUPP
    with pytest.raises(Lerror) as caught:
        client.call(proto.TMKNOD, Writer().u32(ROOT_FID).string("dev").u32(0o20644).u32(1)
                    .u32(3).u32(0))  # fmt: skip
    assert caught.value.code == proto.EPERM
    client.clunk(fid)
    with pytest.raises(Lerror) as caught:
        client.clunk(fid)
    assert caught.value.code == proto.EBADF


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- over the POSIX pipe chardev's transport ----------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are the POSIX transport")
def test_share_server_over_fifos(share: Path, tmp_path: Path) -> None:
    target = tmp_path / "share-home.pipe"
    port = "virtserialport,chardev=share-home,name=org.portside.9p.home"
    assert share_args("home", target)[-1] == port
    to_qemu, from_qemu = pipes.make_fifos(target)
    # QEMU's side: both FIFOs open read-write (as QEMU opens them)
    qemu_in = os.open(to_qemu, os.O_RDWR)
    qemu_out = os.open(from_qemu, os.O_RDWR)
    server = ShareServer(target, str(share), open_timeout=10)
    server.start()
    try:
        assert server.connected.wait(10)
        tag = 0

        def call(kind: int, body: Writer) -> Reader:
            nonlocal tag
            tag += 1
            os.write(qemu_out, proto.message(kind, tag, body))
            head = b""
            while len(head) < 7:
                head += os.read(qemu_in, 7 - len(head))
            size, rkind, rtag = proto.parse_header(head)
            rest = b""
            while len(rest) < size - 7:
                rest += os.read(qemu_in, size - 7 - len(rest))
            assert (rkind, rtag) == (kind + 1, tag)
            return Reader(rest)

        r = call(proto.TVERSION, Writer().u32(1 << 20).string("9P2000.L"))
        assert (r.u32(), r.string()) == (proto.MAX_MSIZE, "9P2000.L")
        call(proto.TATTACH, Writer().u32(1).u32(proto.NOFID).string("u").string("").u32(0))
        call(proto.TWALK, Writer().u32(1).u32(2).u16(1).string("hello.txt"))
        call(proto.TLOPEN, Writer().u32(2).u32(0))
        # two requests in one write: answered in order
        os.write(qemu_out, proto.message(proto.TREAD, 50, Writer().u32(2).u64(0).u32(5))
                 + proto.message(proto.TREAD, 51, Writer().u32(2).u64(6).u32(4)))  # fmt: skip
        answers = b""
        while len(answers) < 2 * 11 + 9:
            answers += os.read(qemu_in, 100)
        assert answers[11:16] == b"hello" and answers[16 + 11 :] == b"from"
        assert server.requests == 6
    finally:
        server.stop()
        for fd in (qemu_in, qemu_out):
            os.close(fd)
    assert not server.running and server.problem == ""


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are the POSIX transport")
def test_share_server_ends_when_qemu_closes(share: Path, tmp_path: Path) -> None:
    target = tmp_path / "share-x.pipe"
    to_qemu, from_qemu = pipes.make_fifos(target)
    qemu_in, qemu_out = os.open(to_qemu, os.O_RDWR), os.open(from_qemu, os.O_RDWR)
    server = ShareServer(target, str(share), open_timeout=10)
    server.start()
    assert server.connected.wait(10)
    os.close(qemu_out)  # QEMU exited: the server's read sees the end of file
    os.close(qemu_in)
    deadline = time.monotonic() + 10
    while server.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.running


def test_share_server_gives_up_when_qemu_never_opens(share: Path, tmp_path: Path) -> None:
    target = tmp_path / "share-y.pipe"
    if sys.platform != "win32":
        pipes.make_fifos(target)
    server = ShareServer(target, str(share), open_timeout=0.3)
    server.start()
    deadline = time.monotonic() + 10
    while server.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.running and "did not open QEMU's share pipe" in server.problem
