"""The pure parts of the VM image, in the default run (no QEMU, no build): finding an image in
the cache folder (``engine/vm/image.py``), picking kernel modules (``packaging/vm/modules.py``)
on a synthetic ``modules.dep``, and the package pins' files (``packaging/vm/pins.py``)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import platformdirs
import pytest

from engine.vm import image as vm_image

ROOT = Path(__file__).resolve().parents[2]


def fake_image(root: Path, arch: str = "x86_64", version: str = vm_image.IMAGE_VERSION) -> Path:
    folder = root / version / arch
    folder.mkdir(parents=True)
    for name in vm_image.IMAGE_FILES:
        (folder / name).write_bytes(b"x")
    manifest = {
        "version": version,
        "arch": arch,
        "kernel_cmdline": "apparmor=0",
        "packages": {"docker.io": "20.10"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize(
    ("machine", "arch"),
    [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("arm64", "arm64"), ("aarch64", "arm64")],
)
def test_host_arch_names_the_image_for_each_os_spelling(machine: str, arch: str) -> None:
    assert vm_image.host_arch(machine) == arch


def test_host_arch_refuses_other_machines_clearly() -> None:
    with pytest.raises(ValueError, match="x86_64 or arm64 hosts, not riscv64"):
        vm_image.host_arch("riscv64")


def test_image_root_is_the_user_cache_unless_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(vm_image.IMAGE_DIR_ENV, raising=False)
    assert vm_image.image_root() == Path(platformdirs.user_cache_dir("portside")) / "vm"
    monkeypatch.setenv(vm_image.IMAGE_DIR_ENV, str(tmp_path))
    assert vm_image.image_root() == tmp_path


def test_find_image_returns_only_a_complete_image_of_this_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vm_image.IMAGE_DIR_ENV, str(tmp_path))
    assert vm_image.find_image("x86_64") is None
    folder = fake_image(tmp_path)
    found = vm_image.find_image("x86_64")
    assert found is not None
    assert (found.kernel, found.initrd, found.rootfs) == (
        folder / "vmlinuz",
        folder / "initrd.img",
        folder / "rootfs.qcow2",
    )
    assert found.kernel_cmdline == "apparmor=0" and found.packages == {"docker.io": "20.10"}
    assert vm_image.find_image("arm64") is None

    (folder / "rootfs.qcow2").unlink()
    assert vm_image.find_image("x86_64") is None, "a file is missing"
    (folder / "rootfs.qcow2").write_bytes(b"x")
    (folder / "manifest.json").write_text("{not json")
    assert vm_image.find_image("x86_64") is None, "a broken manifest"
    with pytest.raises(ValueError, match="not a readable image manifest"):
        vm_image.read_manifest(folder / "manifest.json")
    (folder / "manifest.json").write_text(json.dumps({"version": "0", "arch": "x86_64"}))
    assert vm_image.find_image("x86_64") is None, "another version's manifest"


def test_build_hint_is_the_command_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(vm_image.IMAGE_DIR_ENV, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert vm_image.build_hint("arm64") == "bash packaging/vm/build.sh --arch arm64"
    monkeypatch.setenv(vm_image.IMAGE_DIR_ENV, str(tmp_path / "my images"))
    assert vm_image.build_hint("arm64") == (
        f"{vm_image.IMAGE_DIR_ENV}='{tmp_path}/my images' bash packaging/vm/build.sh --arch arm64"
    )
    # a normal user builds with sudo, into their own cache folder (sudo would pick root's)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert vm_image.build_hint("x86_64") == (
        "sudo bash packaging/vm/build.sh --arch x86_64"
        f" --out '{tmp_path}/my images/{vm_image.IMAGE_VERSION}/x86_64'"
    )


def test_build_sh_reads_the_image_version_from_image_py() -> None:
    build = (ROOT / "packaging" / "vm" / "build.sh").read_text()
    assert "IMAGE_VERSION" in build and "engine/vm/image.py" in build
    source = (ROOT / "engine" / "vm" / "image.py").read_text()
    assert f'\nIMAGE_VERSION = "{vm_image.IMAGE_VERSION}"\n' in source


def load_modules_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "portside_vm_modules", ROOT / "packaging" / "vm" / "modules.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_modules_py_orders_dependencies_first_and_skips_absent_modules(tmp_path: Path) -> None:
    modules = load_modules_py()
    kdir = tmp_path / "lib" / "modules" / "6.1.0-test"
    kdir.mkdir(parents=True)
    (kdir / "modules.dep").write_text(
        "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
        "kernel/lib/crc16.ko:\nkernel/fs/mbcache.ko:\nkernel/fs/jbd2/jbd2.ko:\n"
        "kernel/drivers/virtio/virtio-rng.ko: kernel/drivers/virtio/virtio.ko\n"
        "kernel/drivers/virtio/virtio.ko:\n"
        "kernel/net/netfilter/nf_nat.ko: kernel/net/netfilter/nf_conntrack.ko\n"
        "kernel/net/netfilter/nf_conntrack.ko:\nkernel/drivers/misc/unused.ko:\n"
    )
    spec = tmp_path / "modules.txt"
    spec.write_text(
        "# comment\ninitrd ext4\nearly virtio_rng\nnet nowhere_net\nboot gpio_pl061\n"
        "ship net/netfilter\nship drivers/none\n"
    )
    out = tmp_path / "out"
    assert modules.main(["modules.py", str(spec), str(kdir), str(out)]) == 0
    assert (out / "initrd.order").read_text().splitlines() == [
        "kernel/fs/jbd2/jbd2.ko",
        "kernel/fs/mbcache.ko",
        "kernel/lib/crc16.ko",
        "kernel/fs/ext4/ext4.ko",
    ]
    assert (out / "early.names").read_text() == "virtio-rng\n"
    assert (out / "net.names").read_text() == "" and (out / "boot.names").read_text() == ""
    shipped = (out / "ship.files").read_text().splitlines()
    assert "kernel/net/netfilter/nf_nat.ko" in shipped
    assert "kernel/drivers/virtio/virtio.ko" in shipped, "a dependency of an early module"
    assert "kernel/drivers/misc/unused.ko" not in shipped

    spec.write_text("initrd ext4\nsometimes ext4\n")
    with pytest.raises(SystemExit, match="unknown kind 'sometimes'"):
        modules.main(["modules.py", str(spec), str(kdir), str(out)])


def test_an_installed_bundle_image_is_used_when_the_cache_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = tmp_path / "opt" / "portside" / "_internal"
    monkeypatch.setattr(sys, "prefix", str(prefix))
    monkeypatch.delenv(vm_image.IMAGE_DIR_ENV, raising=False)
    monkeypatch.setattr(vm_image, "image_root", lambda: tmp_path / "empty-cache")
    assert vm_image.find_image("x86_64") is None
    shipped = fake_image(prefix / "share" / "portside" / "vm")
    found = vm_image.find_image("x86_64")
    assert found is not None and found.dir == shipped
    # a user's own build in the cache wins over the shipped one
    own = fake_image(tmp_path / "empty-cache")
    found = vm_image.find_image("x86_64")
    assert found is not None and found.dir == own
    # an explicit PORTSIDE_VM_IMAGE_DIR means exactly that folder
    monkeypatch.setenv(vm_image.IMAGE_DIR_ENV, str(tmp_path / "override"))
    monkeypatch.setattr(vm_image, "image_root", lambda: tmp_path / "override")
    assert vm_image.find_image("x86_64") is None


def load_pins_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "portside_vm_pins", ROOT / "packaging" / "vm" / "pins.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_pins_are_written_from_a_build_and_an_installed_difference_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = load_pins_py()
    listed = tmp_path / "packages"
    listed.write_text(
        "libc6\t2.36-9+deb12u14\ndocker.io\t20.10.24\nlinux-image-6.1.0-57-amd64\t6.1.192-3\n"
    )
    pin_file = tmp_path / "amd64.txt"
    pins.main(["write", str(pin_file), str(listed)])
    text = pin_file.read_text()
    assert "--arch x86_64 --update-pins" in text.splitlines()[1]
    assert text.splitlines()[2:] == [
        "docker.io 20.10.24",
        "libc6 2.36-9+deb12u14",
        "linux-image-6.1.0-57-amd64 6.1.192-3",
    ]
    pins.main(["kernel", str(pin_file)])
    assert capsys.readouterr().out.splitlines()[-1] == "linux-image-6.1.0-57-amd64"
    pins.main(["installed", str(pin_file), str(listed)])
    assert "exactly the 3 pinned" in capsys.readouterr().out

    # a new dependency, a changed version and a package gone: all three named, and the way out
    listed.write_text(
        "libc6\t2.36-9+deb12u15\nlibnew1\t1.0\nlinux-image-6.1.0-57-amd64\t6.1.192-3\n"
    )
    with pytest.raises(SystemExit) as refused:
        pins.main(["installed", str(pin_file), str(listed)])
    message = str(refused.value.code)
    assert "refusing to build: 3 package(s) installed differ" in message
    assert "  docker.io: pinned 20.10.24, installed none" in message
    assert "  libc6: pinned 2.36-9+deb12u14, installed 2.36-9+deb12u15" in message
    assert "  libnew1: not pinned, installed 1.0" in message
    assert "sudo bash packaging/vm/build.sh --arch x86_64 --update-pins" in message


def test_pins_refuse_a_missing_or_malformed_file_clearly(tmp_path: Path) -> None:
    pins = load_pins_py()
    with pytest.raises(SystemExit, match=r"(?s)no package pins in .*arm64.txt; write them .*"
                       r"build.sh --arch arm64 --update-pins"):  # fmt: skip
        pins.main(["kernel", str(tmp_path / "arm64.txt")])
    bad = tmp_path / "amd64.txt"
    bad.write_text("# comment\nlibc6 2.36 extra\n")
    with pytest.raises(SystemExit, match=r"amd64.txt:2: expected 'name version'"):
        pins.main(["kernel", str(bad)])
    bad.write_text("libc6 2.36\n")
    with pytest.raises(SystemExit, match=r"exactly one linux-image-\* package, not \[\]"):
        pins.main(["kernel", str(bad)])


def test_the_committed_pins_name_one_kernel_per_arch() -> None:
    pins = load_pins_py()
    for deb_arch in ("amd64", "arm64"):
        pinned = pins.read_pins(ROOT / "packaging" / "vm" / "pins" / f"{deb_arch}.txt")
        assert "docker.io" in pinned and "openssh-server" in pinned
        kernels = [n for n in pinned if n.startswith("linux-image-")]
        assert len(kernels) == 1 and kernels[0].endswith(f"-{deb_arch}"), kernels
