"""Purge data against a real private engine: it deletes exactly what it listed, nothing else.

The test runs its own :class:`NativeEngine` in its own short folder (own data root, exec root,
socket, bridge and subnet, no iptables; as tests/support/engine_fixtures.py does), fills it with
an image, a container and a volume holding a file, stops it, plans the purge, deletes, and then
compares every file under the engine folder and the docker CLI's config folder with what was
there before: the listed paths are gone, every other file is byte-for-byte the same. The engine
then starts again, empty. While it runs, a purge is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from engine.client import EngineClient
from engine.diagnostics.purge import PurgeItem, PurgePlan, disk_usage, plan_purge, purge
from engine.errors import LifecycleError
from engine.lifecycle import EnginePaths, NativeEngine
from tests.support.engine_fixtures import TEST_IMAGE, import_image


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every regular file and link under ``root`` (outside ``skip``) -> its content's hash."""
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in files:
            path = here / name
            if path in skip:
                continue
            if path.is_symlink():
                out[str(path)] = "-> " + os.readlink(path)
            elif path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest_asyncio.fixture(loop_scope="session")
async def own_engine() -> AsyncIterator[NativeEngine]:
    root = Path(tempfile.mkdtemp(prefix="pstp-", dir="/tmp"))
    engine = NativeEngine(EnginePaths.at(root), iptables=False, start_timeout=60)
    try:
        yield engine
    finally:
        await engine.stop(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.asyncio(loop_scope="session")
async def test_purge_removes_exactly_what_it_listed(
    own_engine: NativeEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = own_engine.paths
    docker_config = tmp_path / "docker"
    docker_config.mkdir()
    (docker_config / "config.json").write_text('{"auths": {"r.example": {"auth": "dTpw"}}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))

    await own_engine.start()
    await import_image(own_engine.endpoint, TEST_IMAGE)
    async with EngineClient(own_engine.endpoint, timeout=60) as client:
        await client.volumes.create("pst-purge-vol")
        cid = await client.containers.create(
            {"Image": TEST_IMAGE, "Cmd": ["sh", "-c", "echo kept > /data/file"],
             "HostConfig": {"Binds": ["pst-purge-vol:/data"]}},
            name="pst-purge-box",
        )
        await client.containers.start(cid)
        await client.containers.wait(cid)
        # a running engine is never purged
        with pytest.raises(LifecycleError, match="stop it before purging"):
            purge(plan_purge(paths), paths)
    (paths.root / "keep-me.txt").write_text("the user's own file")
    await own_engine.stop(timeout=20)

    before = snapshot(paths.root, skip=(paths.data_root,))
    docker_before = snapshot(docker_config)
    plan = plan_purge(paths, paths.root / "vm")
    listed = {item.path for item in plan.items}
    assert paths.data_root in listed
    assert listed <= {paths.data_root, paths.exec_root}
    data_item = next(i for i in plan.items if i.path == paths.data_root)
    assert data_item.size > 1_000_000  # busybox image + layers
    assert "images, containers, volumes" in data_item.what
    assert any("daemon.json" in kept for kept in plan.kept)
    assert any("~/.docker" in kept for kept in plan.kept)

    result = purge(plan, paths, paths.root / "vm")
    assert result.failed == []
    assert set(result.removed) == listed
    assert result.freed >= data_item.size * 0.9
    for path in listed:
        assert not path.exists()
    after = snapshot(paths.root)
    gone = {p for p in before if any(Path(p).is_relative_to(x) for x in listed)}
    assert {p: h for p, h in before.items() if p not in gone} == after
    assert (paths.root / "keep-me.txt").read_text() == "the user's own file"
    assert paths.daemon_json.exists() and paths.log_file.exists()
    assert snapshot(docker_config) == docker_before

    # the engine starts again, empty
    await own_engine.start()
    async with EngineClient(own_engine.endpoint, timeout=60) as client:
        assert await client.images.list() == []
        assert await client.volumes.list() == []
        assert await client.containers.list(all=True) == []
    await own_engine.stop(timeout=20)


def test_a_plan_cannot_be_stretched(tmp_path: Path) -> None:
    paths = EnginePaths.at(tmp_path / "home")
    paths.data_root.mkdir(parents=True)
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "f").write_text("x")
    plan = PurgePlan(paths.root, (PurgeItem(outside, "stray", 1),), ())
    with pytest.raises(LifecycleError, match="nothing was deleted"):
        purge(plan, paths)
    assert (outside / "f").exists()
    other = PurgePlan(tmp_path / "other", (), ())
    with pytest.raises(LifecycleError):
        purge(other, paths)


def test_vm_disks_and_sizes(tmp_path: Path) -> None:
    paths = EnginePaths.at(tmp_path / "home")
    vm = paths.root / "vm"
    vm.mkdir(parents=True)
    (vm / "data.qcow2").write_bytes(os.urandom(200_000))
    (vm / "root.qcow2").write_bytes(b"r" * 5000)
    (vm / "vm.json").write_text("{}")
    (vm / "ssh").mkdir()
    (vm / "ssh" / "id_ed25519").write_text("key")
    plan = plan_purge(paths, vm)
    assert [i.path.name for i in plan.items] == ["data.qcow2", "root.qcow2"]
    assert plan.items[0].size == disk_usage(vm / "data.qcow2") >= 200_000
    purge(plan, paths, vm)
    assert sorted(p.name for p in vm.iterdir()) == ["ssh", "vm.json"]
    assert (vm / "ssh" / "id_ed25519").read_text() == "key"


def test_a_running_vm_refuses_and_its_certificates_and_port_are_kept(tmp_path: Path) -> None:
    import fcntl

    paths = EnginePaths.at(tmp_path / "home")
    vm = paths.root / "vm"
    (vm / "tls").mkdir(parents=True)
    (vm / "data.qcow2").write_bytes(b"d" * 5000)
    (vm / "tls" / "cert.pem").write_text("cert")
    (vm / "api-port").write_text("41234\n")
    plan = plan_purge(paths, vm)
    kept = "\n".join(plan.kept)
    for name in ("vm.json", "ssh", "tls", "api-port", "engine.log"):
        assert str(vm / name) in kept, name
    # the VM's lock held (its owner runs it) while the native engine is stopped
    fd = os.open(vm / "engine.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(LifecycleError, match=rf"Portside VM is running \(owned by pid "
                           rf"{os.getpid()}\); stop it .*portside engine stop --vm"):
            purge(plan, paths, vm)
        assert (vm / "data.qcow2").exists()
    finally:
        os.close(fd)
    purge(plan, paths, vm)
    assert sorted(p.name for p in vm.iterdir()) == ["api-port", "engine.lock", "tls"]
    assert (vm / "tls" / "cert.pem").read_text() == "cert"
    assert (vm / "api-port").read_text() == "41234\n"
