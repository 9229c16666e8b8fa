"""A folder shared through Portside's own 9P server over a pipe chardev: Windows' way, here.

QEMU for Windows has no ``-virtfs``, so in the ``tls`` API mode every share is a virtio-serial
port ``org.portside.9p.<tag>`` on a pipe chardev, served by engine/vm/ninep in a thread of the
engine and mounted by the guest with ``trans=fd``. This module boots the VM in that mode on Linux
(vm.json ``{"api": "tls", "shares": [folder]}``, a fresh engine folder) and, in file order: checks
the mount and QEMU's command line, sees files both ways (shell and ``docker run -v``), moves a
20 MiB file both ways byte for byte, lists a folder of many entries, renames and deletes both
ways, and finally stops the VM and finds no server thread and no FIFO left.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shlex
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from engine.lifecycle import procs
from engine.lifecycle.base import EngineState
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from tests.support.engine_fixtures import TEST_IMAGE, import_image
from tests.vm.conftest import VMDocker, booted, tls_docker

pytestmark = [pytest.mark.vm, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def share_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="p9sh-", dir="/tmp"))
    yield home
    subprocess.run(["rm", "-rf", str(home)], check=False)


@pytest.fixture(scope="module")
def folder(share_home: Path) -> Path:
    shared = share_home / "shared"
    shared.mkdir()
    (shared / "from-host.txt").write_text("written on the host\n")
    return shared


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def vm(vm_image_x86: VMImage, share_home: Path, folder: Path) -> AsyncIterator[VMEngine]:
    settings = {"api": "tls", "shares": [str(folder)], "swap_mib": 64}
    async with booted(share_home / "engine", settings) as engine:
        yield engine


@pytest.fixture(scope="module")
def docker(vm: VMEngine, tmp_path_factory: pytest.TempPathFactory) -> VMDocker:
    return tls_docker(vm, tmp_path_factory.mktemp("docker-config"))


async def sh(vm: VMEngine, script: str, timeout: float = 180) -> str:  # noqa: ASYNC109
    """Run ``script`` in the VM (over ssh); its stdout, failing the test when it fails."""
    argv = vm.ssh_command("sh", "-c", shlex.quote(script))
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        pytest.fail(f"in the VM `{script}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


async def test_mounted_through_the_pipe_server_not_virtfs(vm: VMEngine, folder: Path) -> None:
    assert vm.status.state is EngineState.RUNNING
    argv = procs.cmdline(vm.qemu_pid or 0)
    assert "-virtfs" not in argv
    assert "virtserialport,chardev=share-share0,name=org.portside.9p.share0" in argv
    mounts = await sh(vm, "grep ' 9p ' /proc/mounts")
    line = next(m for m in mounts.splitlines() if m.split()[1] == str(folder))
    assert "trans=fd" in line and "share0" in line, mounts
    assert any(t.name.startswith("9p-") and t.is_alive() for t in threading.enumerate())
    assert await sh(vm, f"cat {folder}/from-host.txt") == "written on the host\n"


async def test_written_in_the_vm_seen_on_the_host(vm: VMEngine, folder: Path) -> None:
    await sh(vm, f"mkdir {folder}/made-in-vm && echo 'from the VM' > {folder}/made-in-vm/a.txt")
    assert (folder / "made-in-vm" / "a.txt").read_text() == "from the VM\n"
    await sh(vm, f"echo more >> {folder}/made-in-vm/a.txt && chmod 600 {folder}/made-in-vm/a.txt")
    assert (folder / "made-in-vm" / "a.txt").read_text() == "from the VM\nmore\n"
    assert (folder / "made-in-vm" / "a.txt").stat().st_mode & 0o777 == 0o600
    (folder / "late.txt").write_text("after the mount\n")  # cache=none: seen at once
    assert await sh(vm, f"cat {folder}/late.txt") == "after the mount\n"


async def test_docker_run_bind_mounts_the_share(
    vm: VMEngine, docker: VMDocker, folder: Path
) -> None:
    await import_image(vm.client_endpoint(), TEST_IMAGE)
    out = await docker.run(
        "run", "--rm", "-v", f"{folder}:/data", TEST_IMAGE, "sh", "-c",
        "cat /data/from-host.txt && echo 'from a container' > /data/from-container.txt",
    )  # fmt: skip
    assert out.stdout == "written on the host\n"
    assert (folder / "from-container.txt").read_text() == "from a container\n"


async def test_a_big_file_round_trips_byte_identical(vm: VMEngine, folder: Path) -> None:
    data = os.urandom(20 * 1024 * 1024)
    (folder / "big.bin").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert (await sh(vm, f"sha256sum {folder}/big.bin")).split()[0] == digest
    await sh(vm, f"cp {folder}/big.bin {folder}/big-copy.bin")
    assert (folder / "big-copy.bin").read_bytes() == data
    # written from the guest's own bytes (not a copy through the share): /dev/urandom
    out = await sh(vm, f"head -c 20971520 /dev/urandom | tee {folder}/big-vm.bin | sha256sum")
    assert hashlib.sha256((folder / "big-vm.bin").read_bytes()).hexdigest() == out.split()[0]


async def test_a_folder_of_many_entries_is_listed(vm: VMEngine, folder: Path) -> None:
    many = folder / "many"
    many.mkdir()
    names = {f"entry-{n:04d}-{'n' * (n % 50)}.txt" for n in range(1500)}
    for name in names:
        (many / name).write_bytes(b"")
    listed = (await sh(vm, f"ls -1 {many}")).split()
    assert sorted(listed) == sorted(names)


async def test_rename_and_delete_both_ways(vm: VMEngine, folder: Path) -> None:
    (folder / "host-made.txt").write_text("h")
    await sh(vm, f"mv {folder}/host-made.txt {folder}/renamed-in-vm.txt")
    assert not (folder / "host-made.txt").exists()
    assert (folder / "renamed-in-vm.txt").read_text() == "h"
    await sh(vm, f"mv {folder}/made-in-vm {folder}/dir-moved-in-vm")
    assert (folder / "dir-moved-in-vm" / "a.txt").is_file()
    (folder / "renamed-in-vm.txt").rename(folder / "renamed-on-host.txt")
    listed = (await sh(vm, f"ls {folder}")).split()
    assert "renamed-on-host.txt" in listed and "renamed-in-vm.txt" not in listed
    await sh(vm, f"rm {folder}/renamed-on-host.txt && rm -r {folder}/dir-moved-in-vm")
    assert not (folder / "renamed-on-host.txt").exists()
    assert not (folder / "dir-moved-in-vm").exists()
    (folder / "big-copy.bin").unlink()
    listed = (await sh(vm, f"ls {folder}")).split()
    assert "big-copy.bin" not in listed and "big.bin" in listed


async def test_stop_leaves_no_server_and_no_fifo(vm: VMEngine) -> None:
    run = vm.paths.run
    assert sorted(p.name for p in run.glob("share-*")) == [
        "share-share0.pipe.in", "share-share0.pipe.out",
    ]  # fmt: skip
    await vm.stop()
    assert vm.status.state is EngineState.STOPPED
    assert not [t for t in threading.enumerate() if t.name.startswith("9p-")]
    assert not list(run.glob("share-*"))
