"""The VM's two disks, made with ``qemu-img`` (image contract, "Disks").

- ``root.qcow2``: a copy-on-write overlay over the image's read-only ``rootfs.qcow2``. It is made
  again (the old one dropped) when the image version changes, which is how an image update
  reaches the user; ``root.version`` records the version it was made from.
- ``data.qcow2``: a blank sparse disk the guest formats on first boot and mounts at
  ``/var/lib/docker`` — images, containers and volumes. It is never replaced; a larger size in
  the settings grows the disk (``qemu-img resize``); the file system inside grows only when the
  image's init resizes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.errors import EngineNotInstalled, LifecycleError
from engine.vm.qemu import install_hint, search_path

GIB = 1024**3


def find_qemu_img(platform: str = sys.platform) -> str:
    found = shutil.which("qemu-img", path=search_path(platform))
    if not found:
        raise EngineNotInstalled(f"qemu-img was not found. {install_hint(platform)}")
    return found


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise LifecycleError(f"Could not run {argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise LifecycleError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout


def disk_info(qemu_img: str, disk: Path) -> dict[str, object]:
    """``qemu-img info --output=json`` (``-U``: the running VM may hold the lock)."""
    out = _run([qemu_img, "info", "-U", "--output=json", str(disk)])
    data = json.loads(out)
    return data if isinstance(data, dict) else {}


def ensure_root_overlay(
    qemu_img: str, overlay: Path, version_file: Path, base: Path, version: str
) -> bool:
    """Make ``overlay`` over ``base`` unless it exists for this ``version``; True when made."""
    try:
        current = version_file.read_text(encoding="utf-8").strip()
    except OSError:
        current = ""
    if overlay.exists() and current == version:
        return False
    tmp = overlay.with_name(overlay.name + ".new")
    tmp.unlink(missing_ok=True)
    _run([qemu_img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(tmp)])
    os.replace(tmp, overlay)
    tmp_version = version_file.with_name(version_file.name + ".new")
    tmp_version.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp_version, version_file)
    return True


def ensure_data_disk(qemu_img: str, disk: Path, size_gib: int) -> str:
    """Create the data disk, or grow it to ``size_gib``; returns what was done (for the log)."""
    if not disk.exists():
        tmp = disk.with_name(disk.name + ".new")
        tmp.unlink(missing_ok=True)
        _run([qemu_img, "create", "-q", "-f", "qcow2", str(tmp), f"{size_gib}G"])
        os.replace(tmp, disk)
        return f"created the data disk {disk} ({size_gib} GiB, grows as used)"
    size = disk_info(qemu_img, disk).get("virtual-size")
    if isinstance(size, int) and size < size_gib * GIB:
        _run([qemu_img, "resize", "-q", str(disk), f"{size_gib}G"])
        return f"grew the data disk {disk} to {size_gib} GiB"
    return ""


def allocated_bytes(path: Path) -> int:
    """Bytes a (sparse) file really takes on disk."""
    info = path.stat()
    blocks = getattr(info, "st_blocks", None)
    return blocks * 512 if isinstance(blocks, int) else info.st_size
