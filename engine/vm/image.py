"""The VM image on disk: where it is, whether it is there, and how to build it.

``packaging/vm/build.sh`` builds the image (kernel, initramfs, root file system, manifest) into
``<image_root()>/<IMAGE_VERSION>/<arch>/``; this module only finds and reads it. The engine copies
nothing: its root disk is a qcow2 overlay on ``rootfs.qcow2`` (see ``engine.vm.disk``), so a new
IMAGE_VERSION means a new folder here and a new overlay there, and the data disk stays.

Pure look-ups, no subprocesses: safe on every OS (the image is built on Linux only).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

#: The image this code expects. Bump it whenever packaging/vm changes what the guest does
#: (init, packages, modules): build.sh reads it from this line, and engines make a new overlay.
IMAGE_VERSION = "1"

#: Overrides the folder that holds ``<IMAGE_VERSION>/<arch>/``.
IMAGE_DIR_ENV = "PORTSIDE_VM_IMAGE_DIR"

ARCHES = ("x86_64", "arm64")

#: Files every image has, besides ``manifest.json``.
IMAGE_FILES = ("vmlinuz", "initrd.img", "rootfs.qcow2")


def host_arch(machine: str | None = None) -> str:
    """The image arch for this host: ``x86_64`` or ``arm64`` (Apple silicon, arm64 Linux)."""
    raw = (machine if machine is not None else platform.machine()).lower()
    if raw in ("x86_64", "amd64", "x64"):
        return "x86_64"
    if raw in ("arm64", "aarch64", "armv8", "armv8l"):
        return "arm64"
    raise ValueError(f"Portside's VM runs on x86_64 or arm64 hosts, not {raw or 'unknown'}")


def image_root() -> Path:
    """The folder holding ``<version>/<arch>/`` image folders (the user cache folder)."""
    override = os.environ.get(IMAGE_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("portside")) / "vm"


def image_dir(arch: str, version: str = IMAGE_VERSION) -> Path:
    return image_root() / version / arch


def bundled_image_dir(arch: str, version: str = IMAGE_VERSION) -> Path:
    """Where an installed Portside ships a ready image (read-only; the bundle's ``_internal``
    is ``sys.prefix``): ``<sys.prefix>/share/portside/vm/<version>/<arch>/``."""
    return Path(sys.prefix) / "share" / "portside" / "vm" / version / arch


@dataclass(frozen=True)
class VMImage:
    """One built image: its files and what its manifest says."""

    dir: Path
    version: str
    arch: str
    manifest: dict[str, Any] = field(compare=False, repr=False)

    @property
    def kernel(self) -> Path:
        return self.dir / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.dir / "initrd.img"

    @property
    def rootfs(self) -> Path:
        return self.dir / "rootfs.qcow2"

    @property
    def kernel_cmdline(self) -> str:
        """The image's own kernel arguments (the engine adds root=, quiet and console=)."""
        value = self.manifest.get("kernel_cmdline", "")
        return value if isinstance(value, str) else ""

    @property
    def packages(self) -> dict[str, str]:
        value = self.manifest.get("packages", {})
        return dict(value) if isinstance(value, dict) else {}


def read_manifest(path: Path) -> dict[str, Any]:
    """``manifest.json`` as a dict; a clear :class:`ValueError` when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable image manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a readable image manifest (not a JSON object)")
    return data


def find_image(arch: str | None = None, version: str = IMAGE_VERSION) -> VMImage | None:
    """The complete image for ``arch`` (default: the host's), or None when it is missing.

    Complete means the manifest names this version and arch and every file is there; a folder
    left half-written by an interrupted build is never returned (build.sh renames it into place,
    but a user may have deleted files by hand).
    """
    arch = arch or host_arch()
    folders = [image_dir(arch, version)]
    if not os.environ.get(IMAGE_DIR_ENV):  # an override means exactly that folder
        folders.append(bundled_image_dir(arch, version))
    for folder in folders:
        image = _complete_image(folder, arch, version)
        if image is not None:
            return image
    return None


def _complete_image(folder: Path, arch: str, version: str) -> VMImage | None:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = read_manifest(manifest_path)
    except ValueError:
        return None
    if manifest.get("version") != version or manifest.get("arch") != arch:
        return None
    if not all((folder / name).is_file() for name in IMAGE_FILES):
        return None
    return VMImage(dir=folder, version=version, arch=arch, manifest=manifest)


def build_hint(arch: str | None = None) -> str:
    """The exact command that builds the missing image (run from a Portside source checkout).

    Building needs root (mmdebstrap, mkfs); under sudo the cache folder would be root's, so a
    normal user's command names this user's image folder with ``--out``.
    """
    arch = arch or host_arch()
    command = f"bash packaging/vm/build.sh --arch {arch}"
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and geteuid() == 0:
        if os.environ.get(IMAGE_DIR_ENV):
            return f"{IMAGE_DIR_ENV}={shlex.quote(str(image_root()))} {command}"
        return command
    return f"sudo {command} --out {shlex.quote(str(image_dir(arch)))}"
