"""A full disk under the engine's home: a small tmpfs is mounted as the home (root only), a real
dockerd runs on it, and the disk is filled and freed while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engine.lifecycle import EnginePaths, NativeEngine, procs
from tests.test_cli_engine import REPO, Portside

pytestmark = pytest.mark.engine


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 48 MiB tmpfs, unmounted (and any engine on it ended) at the end."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs as the engine home: run it as root")
    mount_point = Path(tempfile.mkdtemp(prefix="pstd-", dir="/tmp"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        paths = EnginePaths.at(mount_point)
        procs.terminate(procs.processes_naming([paths.data_root, paths.exec_root]), 10)
        procs.unmount_all([paths.data_root, paths.exec_root])
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)
        shutil.rmtree(paths.exec_root.parent, ignore_errors=True)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until the disk is full; returns it."""
    filler = folder / "filler"
    block = b"\0" * (1024 * 1024)
    with open(filler, "wb", buffering=0) as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(block)
        small = b"\0" * 512
        while True:
            try:
                handle.write(small)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


async def _api_calls(paths: EnginePaths, count: int) -> None:
    """Requests dockerd logs at debug level (one "Calling GET …" line each)."""
    transport = httpx.AsyncHTTPTransport(uds=str(paths.socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://e", timeout=10) as client:
        for _ in range(count):
            assert (await client.get("/info")).status_code == 200


async def test_log_writer_survives_a_full_disk_and_resumes(small_disk: Path) -> None:
    paths = EnginePaths.at(small_disk)
    paths.ensure()
    paths.daemon_json.write_text('{"debug": true, "iptables": false, "ip-masq": false}\n')
    engine = NativeEngine(paths, iptables=False)
    await engine.start()
    try:
        writer = engine._log_writer
        assert writer is not None
        filler = fill(small_disk)
        await _api_calls(paths, 40)  # output while nothing can be written
        size_when_full = paths.log_file.stat().st_size

        filler.unlink()
        await _api_calls(paths, 5)  # output once there is room again
        await _wait_for(lambda: b"bytes of engine output lost" in paths.log_file.read_bytes())

        assert writer._thread.is_alive(), "the log writer thread died on the full disk"
        text = paths.log_file.read_text()
        assert paths.log_file.stat().st_size > size_when_full
        lines = text.splitlines()
        lost = [i for i, line in enumerate(lines) if "bytes of engine output lost" in line]
        assert lost and lines[lost[0]].startswith("[portside: ")  # on a line of its own
        assert lines[lost[0]].endswith("lost: No space left on device]")
        assert any("Calling GET /info" in line for line in lines[lost[0] + 1 :])
        assert text.endswith("\n")
        assert await engine.start()  # still running, still answering
    finally:
        with contextlib.suppress(FileNotFoundError):
            (small_disk / "filler").unlink()
        await engine.stop(timeout=20)


async def _wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_start_on_a_full_disk_says_the_disk_is_full(small_disk: Path) -> None:
    cli = Portside(small_disk)
    fill(small_disk)

    result = subprocess.run(
        [sys.executable, "-m", "app", "engine", "start", "--timeout", "30"],
        capture_output=True,
        text=True,
        env=cli.env(),
        cwd=REPO,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"The disk holding {small_disk}" in result.stderr, result.stderr
    assert "is full (No space left on device)" in result.stderr
    assert "Free some space there" in result.stderr
