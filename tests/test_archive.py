"""engine.archive: pure parts on made-up tars, the rest against the session's real engine."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from engine import archive_exec, rawget
from engine.archive import (
    Archive,
    DownloadResult,
    UnsafeArchive,
    children_from_tar,
    extract_tar,
    normalize,
    parent_of,
    posix_mode_from_go,
)
from engine.client import EngineClient
from engine.errors import EngineAPIError, NotFound

# -- pure ---------------------------------------------------------------------------------------


def test_go_file_modes_seen_from_the_engine() -> None:
    # HEAD /archive?path=/bin/sh and ?path=/etc on a real engine said these:
    assert stat.filemode(posix_mode_from_go(134218239)) == "lrwxrwxrwx"
    assert stat.filemode(posix_mode_from_go(2147484141)) == "drwxr-xr-x"
    assert stat.filemode(posix_mode_from_go(0o644)) == "-rw-r--r--"
    # setuid 0o4755 in Go: ModeSetuid | 0o755; sticky /tmp: ModeDir | ModeSticky | 0o777
    assert stat.filemode(posix_mode_from_go((1 << 23) | 0o755)) == "-rwsr-xr-x"
    assert stat.filemode(posix_mode_from_go((1 << 31) | (1 << 20) | 0o777)) == "drwxrwxrwt"
    assert stat.filemode(posix_mode_from_go((1 << 26) | (1 << 21) | 0o666)) == "crw-rw-rw-"


def test_paths() -> None:
    assert normalize("") == "/" and normalize("etc/../usr/") == "/usr"
    assert parent_of("/usr/bin") == "/usr" and parent_of("/usr") == "/" and parent_of("/") == "/"


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type, m.size, m.linkname, m.mode, m.mtime = kind, size, link, 0o644, 1_700_000_000
    return m


def test_children_from_the_engines_tar_naming() -> None:
    members = [
        _member("etc", tarfile.DIRTYPE),  # the folder itself comes first, under its own name
        _member("etc/hosts", size=175),
        _member("etc/mtab", tarfile.SYMTYPE, link="/proc/mounts"),
        _member("etc/ssl", tarfile.DIRTYPE),
        _member("etc/ssl/certs", tarfile.DIRTYPE),
        _member("etc/ssl/certs/a.pem", size=1000),
        _member("etc/ssl/b.pem", size=24),
    ]
    out = children_from_tar("/etc", members)
    assert [(e.name, e.path, e.size, e.link_target) for e in out] == [
        ("ssl", "/etc/ssl", 1024, ""),  # folders first; size = the files under it
        ("hosts", "/etc/hosts", 175, ""),
        ("mtab", "/etc/mtab", 0, "/proc/mounts"),
    ]
    assert out[0].mode_text == "drw-r--r--" and out[2].is_link
    # the root folder: the engine names members "/", "/bin", "/bin/sh"...
    root = children_from_tar(
        "/",
        [
            _member("/", tarfile.DIRTYPE),
            _member("/bin", tarfile.DIRTYPE),
            _member("/bin/sh", tarfile.SYMTYPE, link="busybox"),
        ],
    )
    assert [(e.name, e.path) for e in root] == [("bin", "/bin")]


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for m, data in members:
            m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data else None)
    buf.seek(0)
    return buf


def test_extract_refuses_path_traversal(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    evil = _tar((_member("ok.txt"), b"fine"), (_member("../evil.txt"), b"gotcha"))
    result = DownloadResult(target=dest)
    with pytest.raises(UnsafeArchive, match=r"outside .*stopped"):
        extract_tar(evil, dest, result)
    assert (dest / "ok.txt").read_bytes() == b"fine"
    assert not (tmp_path / "evil.txt").exists()
    absolute = _tar((_member("/tmp-evil-abs.txt"), b"x"))
    result = DownloadResult(target=dest)
    extract_tar(absolute, dest, result)  # a leading / is stripped: it lands inside dest
    assert (dest / "tmp-evil-abs.txt").exists() and not Path("/tmp-evil-abs.txt").exists()


def test_extract_skips_links_out_of_the_folder_and_writes_nothing_through_them(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    tar = _tar(
        (_member("d", tarfile.DIRTYPE), b""),
        (_member("d/abs", tarfile.SYMTYPE, link=str(outside)), b""),
        (_member("d/up", tarfile.SYMTYPE, link="../../outside"), b""),
        (_member("d/rel", tarfile.SYMTYPE, link="f.txt"), b""),
        (_member("d/f.txt"), b"data"),
    )
    result = extract_tar(tar, dest, DownloadResult(target=dest / "d"))
    assert sorted(os.listdir(dest / "d")) == ["f.txt", "rel"]
    assert os.readlink(dest / "d" / "rel") == "f.txt"
    assert len(result.skipped) == 2 and all("out of the folder" in s for s in result.skipped)
    assert list(outside.iterdir()) == []


# -- real engine ------------------------------------------------------------------------------

Make = Callable[..., Awaitable[str]]


@pytest.fixture
async def client(engine_endpoint: str) -> AsyncIterator[EngineClient]:
    async with EngineClient(engine_endpoint) as c:
        yield c


@pytest.fixture
async def make(client: EngineClient, test_image: str) -> AsyncIterator[Make]:
    made: list[str] = []

    async def _make(cmd: list[str], *, start: bool = True, **config: object) -> str:
        cid = await client.containers.create({"Image": test_image, "Cmd": cmd, **config})
        made.append(cid)
        if start:
            await client.containers.start(cid)
        return cid

    yield _make
    for cid in made:
        with suppress(NotFound):
            await client.containers.remove(cid, force=True, volumes=True)


@pytest.fixture(params=["raw socket", "httpx"])
def transport(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the archive's GET body is read: engine.rawget, and httpx for TLS endpoints."""
    if request.param == "httpx":
        monkeypatch.setattr(rawget, "supported", lambda _endpoint: False)
    return str(request.param)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _sha(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.engine
async def test_list_a_stopped_container(client: EngineClient, make: Make, tmp_path: Path) -> None:
    cid = await make(["sh", "-c", "mkdir -p /srv/a && echo hello > /srv/a/x && ln -s a /srv/l"])
    await client.containers.wait(cid)  # now exited: the archive endpoint still reads it
    files = Archive(client, cid)
    root = await files.listdir("/")
    names = {e.name: e for e in root}
    assert {"bin", "etc", "srv"} <= set(names) and names["bin"].is_dir
    srv = {e.name: e for e in await files.listdir("/srv")}
    assert srv["a"].is_dir and srv["a"].size == 6  # "hello\n" under it
    assert srv["l"].is_link and srv["l"].link_target == "a" and srv["l"].mode_text[0] == "l"
    sh = await files.stat("/bin/sh")
    assert sh.is_link and sh.link_target == "/bin/busybox"
    etc = await files.stat("/etc")
    assert etc.is_dir and etc.mode_text == "drwxr-xr-x"
    with pytest.raises(NotFound):
        await files.listdir("/no/such/folder")
    # uploads work on a stopped container too
    note = tmp_path / "note.txt"
    note.write_text("while stopped\n")
    await files.upload([note], "/srv/a")
    assert "note.txt" in {e.name for e in await files.listdir("/srv/a")}


@pytest.mark.engine
async def test_upload_then_download_round_trips_bytes(
    client: EngineClient, make: Make, tmp_path: Path, transport: str
) -> None:
    cid = await make(["sleep", "300"])
    src = tmp_path / "src"
    (src / "tree" / "deep" / "deeper").mkdir(parents=True)
    (src / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 7))  # > one chunk
    (src / "tree" / "a.txt").write_text("first\n")
    (src / "tree" / "deep" / "b.bin").write_bytes(os.urandom(70_000))
    (src / "tree" / "deep" / "deeper" / "c").write_bytes(b"")
    files = Archive(client, cid)
    seen: list[tuple[int, int | None]] = []
    total = await files.upload(
        [src / "blob.bin", src / "tree"], "/tmp", lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (total, total) and len(seen) > 1  # progress in chunks, to the end
    listing = {e.name: e for e in await files.listdir("/tmp")}
    assert listing["blob.bin"].size == 3 * 1024 * 1024 + 7
    assert listing["tree"].is_dir
    # the owner is root, as docker cp makes it
    code, out, _ = await client.execs.run(cid, ["stat", "-c", "%u:%g", "/tmp/tree/a.txt"])
    assert (code, out.strip()) == (0, "0:0")

    out_dir = tmp_path / "out"
    got: list[int] = []
    res = await files.download("/tmp/blob.bin", out_dir, lambda d, t: got.append(d), size=None)
    assert _sha(out_dir / "blob.bin") == _sha(src / "blob.bin") and got
    res = await files.download("/tmp/tree", out_dir)
    assert res.target == out_dir / "tree" and res.extracted == 6 and not res.skipped
    assert _tree(out_dir / "tree") == _tree(src / "tree")
    assert len(_tree(src / "tree")) == 3
    # downloading again over what is there is refused, and leaves it alone
    (out_dir / "blob.bin").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="already exists"):
        await files.download("/tmp/blob.bin", out_dir)
    assert (out_dir / "blob.bin").read_bytes() == b"mine"
    await files.download("/tmp/blob.bin", out_dir, replace=True)
    assert _sha(out_dir / "blob.bin") == _sha(src / "blob.bin")


@pytest.mark.engine
async def test_read_only_places_say_so(client: EngineClient, make: Make, tmp_path: Path) -> None:
    ro = await make(["sleep", "300"], HostConfig={"ReadonlyRootfs": True})
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(EngineAPIError, match="read-only"):
        await Archive(client, ro).upload([tmp_path / "f.txt"], "/etc")
    cid = await make(["sleep", "300"])
    with pytest.raises(EngineAPIError, match="not a directory"):
        await Archive(client, cid).upload([tmp_path / "f.txt"], "/bin/sh")


def _threads_in(*modules: str) -> list[str]:
    """Threads whose stack is inside one of these source files (a transfer still running)."""
    import sys
    import traceback

    out = []
    for ident, frame in sys._current_frames().items():
        files = {f.filename for f in traceback.extract_stack(frame)}
        if any(f.endswith(m) for f in files for m in modules):
            out.append(str(ident))
    return out


@pytest.mark.engine
async def test_cancel_a_big_download_ends_its_thread(
    client: EngineClient, make: Make, tmp_path: Path, transport: str
) -> None:
    script = "dd if=/dev/zero of=/b bs=1M count=64 2>/dev/null; mv /b /big; sleep 300"
    cid = await make(["sh", "-c", script])
    files = Archive(client, cid)
    for _ in range(200):
        with suppress(NotFound):
            await files.stat("/big")  # moved into place once complete
            break
        await asyncio.sleep(0.1)
    started = asyncio.Event()
    task = asyncio.ensure_future(
        files.download("/big", tmp_path, lambda done, _t: started.set(), size=64 << 20)
    )
    await asyncio.wait_for(started.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the cancel returns only once the worker thread stopped reading (socket shut / PipeClosed)
    assert _threads_in("engine/rawget.py", "engine/tarpipe.py", "tarfile.py") == []
    assert (tmp_path / "big").stat().st_size < 64 << 20  # it stopped part-way


@pytest.mark.engine
async def test_cancel_a_big_upload_ends_its_thread(
    client: EngineClient, make: Make, tmp_path: Path, transport: str
) -> None:
    cid = await make(["sleep", "300"])
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(300 << 20)  # 300 MiB of zeros, sparse on disk
    started = asyncio.Event()
    task = asyncio.ensure_future(
        Archive(client, cid).upload([big], "/tmp", lambda _d, _t: started.set())
    )
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _threads_in("engine/rawget.py", "engine/tarpipe.py", "tarfile.py") == []
    # whatever reached the engine, the file is not there whole
    with suppress(NotFound):
        assert (await Archive(client, cid).stat("/tmp/big.bin")).size < 300 << 20


# -- listing a running container's big folder by exec ---------------------------------------

# Lines that busybox's and GNU coreutils' `stat -c '%f %s %Y %N'` printed for a file "a b", a
# link "l ink" -> "a b" and a link "q'x" -> "/etc/x" (GNU with QUOTING_STYLE=literal).
BUSYBOX_LINES = [
    "81a4 0 1795993130 /d/a b",
    "a1ff 3 1795993130 '/d/l ink' -> 'a b'",
    "a1ff 6 1795993130 '/d/q'x' -> '/etc/x'",
    "41ed 4096 1795993130 /d/sub",
]
GNU_LINES = [
    "81a4 0 1795993130 /d/a b",
    "a1ff 3 1795993130 /d/l ink -> a b",
    "a1ff 6 1795993130 /d/q'x -> /etc/x",
    "41ed 4096 1795993130 /d/sub",
]


@pytest.mark.parametrize("lines", [BUSYBOX_LINES, GNU_LINES], ids=["busybox", "gnu"])
def test_parse_stat_lines(lines: list[str]) -> None:
    entries = archive_exec.parse_listing("/d", "\n".join(lines) + "\n")
    assert [(e.name, e.path, e.mode_text, e.size, e.link_target) for e in entries] == [
        ("sub", "/d/sub", "drwxr-xr-x", -1, ""),
        ("a b", "/d/a b", "-rw-r--r--", 0, ""),
        ("l ink", "/d/l ink", "lrwxrwxrwx", 0, "a b"),
        ("q'x", "/d/q'x", "lrwxrwxrwx", 0, "/etc/x"),
    ]
    assert entries[1].mtime == 1795993130.0


@pytest.mark.parametrize(
    "line",
    ["garbage", "zz 1 2 /d/x", "a1ff 9 1 /d/l -> a", "81a4 0 1 /elsewhere/x", "81a4 0 1 /d/x/y"],
)
def test_unparsable_stat_lines(line: str) -> None:
    with pytest.raises(archive_exec.Unparsable):
        archive_exec.parse_line("/d", line)


@pytest.mark.engine
async def test_a_running_containers_big_folder_is_listed_by_exec(
    client: EngineClient, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = (
        "mkdir -p /data/sub && dd if=/dev/zero of=/data/big bs=1M count=3 2>/dev/null && "
        "echo hi > /data/sub/f && ln -s 'big' '/data/l ink' && touch /ready; sleep 300"
    )
    cid = await make(["sh", "-c", script])
    files = Archive(client, cid)
    for _ in range(200):
        with suppress(NotFound):
            await files.stat("/ready")
            break
        await asyncio.sleep(0.1)
    by_tar = await files.listdir("/data")
    runs: list[list[str]] = []
    real_run = client.execs.run

    async def spy(container: str, cmd: list[str], **kw: Any) -> Any:
        runs.append(cmd)
        return await real_run(container, cmd, **kw)

    monkeypatch.setattr(client.execs, "run", spy)
    monkeypatch.setattr(archive_exec, "TAR_LIMIT", 1024 * 1024)  # /data's tar is > 3 MiB
    by_exec = await files.listdir("/data", running=True)
    assert runs and runs[0][0] == "find"
    assert [(e.name, e.mode, e.link_target) for e in by_exec] == [
        (e.name, e.mode, e.link_target) for e in by_tar
    ]
    sizes = {e.name: e.size for e in by_exec}
    assert sizes == {"sub": -1, "big": 3 << 20, "l ink": 0}  # folder sizes unknown by exec
    assert {e.name: e.size for e in by_tar}["sub"] == 3  # "hi\n" under it
    # a small folder stays on the tar (exact sizes), no exec
    runs.clear()
    assert {e.name for e in await files.listdir("/data/sub", running=True)} == {"f"}
    assert runs == []
    # no find in the container (here: a command that fails): the whole tar after all
    monkeypatch.setattr(archive_exec, "command", lambda _folder: ["false"])
    again = await files.listdir("/data", running=True)
    assert runs[-1] == ["false"] and {e.name: e.size for e in again}["sub"] == 3


@pytest.mark.engine
async def test_a_stopped_containers_big_folder_when_thought_running(
    client: EngineClient, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tab may not know yet that the container stopped: exec is refused, the tar lists."""
    script = "mkdir -p /data && dd if=/dev/zero of=/data/big bs=1M count=3 2>/dev/null"
    cid = await make(["sh", "-c", script])
    await client.containers.wait(cid)
    monkeypatch.setattr(archive_exec, "TAR_LIMIT", 1024 * 1024)
    entries = await Archive(client, cid).listdir("/data", running=True)
    assert [(e.name, e.size) for e in entries] == [("big", 3 << 20)]
