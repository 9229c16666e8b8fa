"""The VM image's reproducibility parts, each against the real tools: ``packaging/vm/ext4_times.py``
on two ``mkfs.ext4 -d`` runs of one tree, and the package pins (``packaging/vm/pins/``) refusing
a build when the archive offers other versions (mmdebstrap against the host's Debian sources).
The byte-for-byte rebuild of the whole image is in test_image.py (it reuses the cached image).

Marker ``vm``: run by ``bash scripts/test-vm.sh`` (which installs e2fsprogs and mmdebstrap).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.vm.conftest import ROOT

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]

VM = ROOT / "packaging" / "vm"
EPOCH = 1747699200


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"portside_vm_{name}", VM / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def mkfs(tree: Path, image: Path) -> None:
    """build.sh's mkfs.ext4 options on a small image."""
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-L", "t", "-U", "6b1a3c7e-0d5f-4c2a-9e1b-5f0a7d3c2b10",
         "-E", "hash_seed=2f6c1d0a-8b7e-4f3a-a5d2-9c0e1b4a7f63,root_owner=0:0",
         "-d", str(tree), str(image), "16M"],
        check=True,
        env=dict(os.environ, E2FSPROGS_FAKE_TIME=str(EPOCH)),
    )  # fmt: skip


def test_ext4_times_makes_two_mkfs_of_the_same_tree_byte_identical(tmp_path: Path) -> None:
    ext4_times = load("ext4_times")
    tree = tmp_path / "tree"
    (tree / "etc" / "deep").mkdir(parents=True)
    for i in range(40):
        (tree / "etc" / f"file{i}").write_text(f"{i}\n")
    (tree / "etc" / "deep" / "x").write_text("x\n")
    os.symlink("file1", tree / "etc" / "link")
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    mkfs(tree, tmp_path / "a.raw")
    # a later build: the same files, names, modes and mtimes; only the ctimes (the clock when
    # the build wrote them) and atimes differ, as between two real builds
    time.sleep(1.1)
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (EPOCH + 5, EPOCH), follow_symlinks=False)
    mkfs(tree, tmp_path / "b.raw")
    a, b = (tmp_path / "a.raw").read_bytes(), (tmp_path / "b.raw").read_bytes()
    assert a != b, "mkfs.ext4 -d no longer copies ctimes: ext4_times.py may not be needed"

    inodes = ext4_times.used_inodes(str(tmp_path / "a.raw"))
    assert inodes[0] == 2 and 11 in inodes and len(inodes) == 1 + 1 + 2 + 40 + 1 + 1
    for name in ("a.raw", "b.raw"):
        assert ext4_times.fix_times(str(tmp_path / name), EPOCH) == len(inodes)
    assert (tmp_path / "a.raw").read_bytes() == (tmp_path / "b.raw").read_bytes()
    check = subprocess.run(["e2fsck", "-fn", str(tmp_path / "a.raw")], capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    stat = subprocess.run(
        ["debugfs", "-R", "stat /etc/file7", str(tmp_path / "a.raw")],
        capture_output=True,
        text=True,
    ).stdout
    assert stat.count("0x682bc600:00000000") == 4, stat  # ctime, atime, mtime, crtime


def test_the_build_refuses_when_the_archive_offers_other_versions(tmp_path: Path) -> None:
    """A copy of the recipe whose pins name a libc6 the archive does not offer: build.sh stops
    right after apt's update (before installing anything) and says how to update the pins."""
    copy = tmp_path / "repo"
    shutil.copytree(VM, copy / "packaging" / "vm", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "engine" / "vm").mkdir(parents=True)
    shutil.copy(ROOT / "engine" / "vm" / "image.py", copy / "engine" / "vm" / "image.py")
    pins = copy / "packaging" / "vm" / "pins" / "amd64.txt"
    lines = pins.read_text().splitlines()
    pinned = dict(line.split() for line in lines if line and not line.startswith("#"))
    assert "libc6" in pinned and "docker.io" in pinned
    pins.write_text(
        "\n".join(f"libc6 {pinned['libc6']}~old1" if line.startswith("libc6 ") else line
                  for line in lines) + "\n"
    )  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(
        ["bash", str(copy / "packaging" / "vm" / "build.sh"), "--arch", "x86_64",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    took = time.monotonic() - start
    assert done.returncode != 0, done.stdout[-2000:]
    assert (
        f"libc6: pinned {pinned['libc6']}~old1, the archive offers {pinned['libc6']}" in done.stderr
    ), done.stderr[-3000:]
    assert "refusing to build: 1 package(s) offered by the archive differ" in done.stderr
    assert "bash packaging/vm/build.sh --arch x86_64 --update-pins" in done.stderr
    assert not (tmp_path / "out").exists(), "a refused build must leave no image"
    print(f"refused after {took:.1f} s")


def test_the_pins_file_lists_what_the_cached_image_holds() -> None:
    """The committed pins are what build.sh enforced on the cached image (its manifest)."""
    from tests.vm.conftest import ensure_image

    image = ensure_image("x86_64")
    pins = load("pins").read_pins(VM / "pins" / "amd64.txt")
    assert image.packages == pins
