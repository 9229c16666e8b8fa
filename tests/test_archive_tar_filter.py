"""Downloads are extracted safely with or without Python's own tar filters.

Python 3.11.4+ has ``tarfile.data_filter`` (PEP 706); Debian 12's Python 3.11.2 has not, and
there ``engine.archive_tar`` applies the same rules itself. Each crafted archive is extracted with
every implementation this Python has, and all must agree: traversal stops the download, links
out of the folder and device files are skipped, set-id bits are dropped.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from engine import archive_tar
from engine.archive_tar import DownloadResult, UnsafeArchive, extract_tar

MODES = [False, True] if archive_tar.HAS_FILTERS else [False]


@pytest.fixture(params=MODES, ids=lambda m: "python's filter" if m else "portside's filter")
def filters(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if not request.param:
        monkeypatch.setattr(archive_tar, "HAS_FILTERS", False)
        monkeypatch.setattr(archive_tar, "EXTRACT_ARGS", {})
    return bool(request.param)


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    out.seek(0)
    return out


def entry(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644,
          link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.uid, info.gid = kind, mode, link, 1234, 1234
    return info


def extract(buf: io.BytesIO, dest: Path) -> DownloadResult:
    dest.mkdir()
    return extract_tar(buf, dest, DownloadResult(dest))


def test_files_folders_and_inside_links_come_out(filters: bool, tmp_path: Path) -> None:
    buf = tar_of((entry("top", tarfile.DIRTYPE, 0o755), b""),
                 (entry("top/run.sh", mode=0o4755), b"#!/bin/sh\n"),
                 (entry("top/notes.txt", mode=0o600), b"hello"),
                 (entry("top/link", tarfile.SYMTYPE, link="notes.txt"), b""))
    result = extract(buf, tmp_path / "out")
    top = tmp_path / "out" / "top"
    assert (top / "notes.txt").read_bytes() == b"hello"
    assert os.readlink(top / "link") == "notes.txt"
    assert stat.S_IMODE((top / "run.sh").stat().st_mode) == 0o755  # set-uid dropped
    assert result.extracted == 4 and result.skipped == []


@pytest.mark.parametrize("name", ["../evil", "top/../../evil"])
def test_traversal_stops_the_download(filters: bool, tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeArchive, match="outside"):
        extract(tar_of((entry(name), b"x")), tmp_path / "out")
    assert not (tmp_path / "evil").exists()


def test_links_out_and_devices_are_skipped(filters: bool, tmp_path: Path) -> None:
    buf = tar_of((entry("abs", tarfile.SYMTYPE, link="/etc/passwd"), b""),
                 (entry("up", tarfile.SYMTYPE, link="../../outside"), b""),
                 (entry("hard", tarfile.LNKTYPE, link="../x"), b""),
                 (entry("fifo", tarfile.FIFOTYPE), b""),
                 (entry("kept.txt"), b"ok"))
    result = extract(buf, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == ["kept.txt"]
    assert len(result.skipped) == 4, result.skipped
    assert any("device or pipe" in s for s in result.skipped)
