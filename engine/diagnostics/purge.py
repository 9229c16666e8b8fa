"""Purge data: list exactly what goes (with sizes), then delete exactly that — never anything else.

Flow: :func:`plan_purge` (a worker thread: sizes walk the folders) -> the GUI shows
:attr:`PurgePlan.items` and :attr:`PurgePlan.kept` and asks -> the engine is stopped ->
:func:`purge` deletes the plan's items and returns what it freed.

What goes: the native engine's data root (every image, container, volume and the build cache)
and its exec root (runtime state), and the VM's two disks (``data.qcow2``, its images,
containers and volumes; ``root.qcow2``, its system overlay, made again from the VM image at the
next start). What stays: ``daemon.json``, ``vm.json``, the VM's ssh keys, its ``tls/``
certificates and ``api-port``, the engine logs (the VM's console too), Portside's settings,
the docker CLI's ``~/.docker`` and the OS keyring — none of them is ever in a plan.

:func:`purge` refuses while an engine owns the folder (its lock is held) or while anything is
mounted under the data or exec root, and deletes only paths that :func:`plan_purge` would list
for the same folders now, so a plan cannot be stretched to other paths. A rootless engine's
files belong to sub-uids the user cannot remove directly; those are removed with
``rootlesskit rm -rf`` (as Docker's own rootless uninstall does).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import LifecycleError
from engine.lifecycle import ownership, procs
from engine.lifecycle.paths import EnginePaths


@dataclass(frozen=True)
class PurgeItem:
    """One path a purge deletes: what it holds and how much disk it takes."""

    path: Path
    what: str
    size: int


@dataclass(frozen=True)
class PurgePlan:
    """What a purge of one engine folder deletes (``items``) and what it keeps (``kept``)."""

    engine_root: Path
    items: tuple[PurgeItem, ...]
    kept: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(item.size for item in self.items)


@dataclass
class PurgeResult:
    """What :func:`purge` did."""

    removed: list[Path] = field(default_factory=list)
    freed: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)


def disk_usage(path: Path) -> int:
    """Bytes ``path`` takes on disk (allocated blocks; hard links once; this device only)."""
    try:
        top = path.lstat()
    except OSError:
        return 0
    if not stat.S_ISDIR(top.st_mode):
        return top.st_blocks * 512
    total, seen = top.st_blocks * 512, set()
    stack = [path]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_dev != top.st_dev:
                continue  # a mount: not ours to count (purge refuses while one exists)
            if info.st_nlink > 1:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(Path(entry.path))
    return total


def _candidates(paths: EnginePaths, vm_root: Path | None) -> list[tuple[Path, str]]:
    found = [
        (paths.data_root, "images, containers, volumes and the build cache of Portside's engine"),
        (paths.exec_root, "the engine's runtime state"),
    ]
    if vm_root is not None:
        found += [
            (vm_root / "data.qcow2", "the VM's disk: its images, containers and volumes"),
            (vm_root / "root.qcow2", "the VM's system disk (made again at the next start)"),
            (vm_root / "root.version", "which VM image the system disk was made from"),
        ]
    return found


def _kept(paths: EnginePaths, vm_root: Path | None) -> tuple[str, ...]:
    kept = [
        f"{paths.daemon_json} (the engine's configuration)",
        f"{paths.log_file} (the engine log)",
    ]
    if vm_root is not None:
        kept += [
            f"{vm_root / 'vm.json'} and {vm_root / 'ssh'} (the VM's settings and keys)",
            f"{vm_root / 'tls'} and {vm_root / 'api-port'} (the VM's API certificates and port, "
            "which docker contexts name)",
            f"{vm_root / 'engine.log'} (the VM's console log)",
        ]
    kept += [
        "Portside's settings",
        "the docker CLI's configuration (~/.docker) and your logins in the keyring",
    ]
    return tuple(kept)


def plan_purge(paths: EnginePaths, vm_root: Path | None = None) -> PurgePlan:
    """What a purge of this engine (and its VM folder, when given) would delete, with sizes."""
    items = tuple(
        PurgeItem(path, what, disk_usage(path))
        for path, what in _candidates(paths, vm_root)
        if path.exists() or path.is_symlink()
    )
    return PurgePlan(paths.root, items, _kept(paths, vm_root))


def check_stopped(paths: EnginePaths, vm_root: Path | None = None) -> None:
    """Raise :class:`LifecycleError` unless no engine owns ``paths`` (or the VM) and nothing
    is mounted under them."""
    locks = [(paths.lock_file, "The engine", "`portside engine stop`")]
    if vm_root is not None:  # the VM may run while the native engine does not, or the reverse
        locks.append((vm_root / paths.lock_file.name, "The Portside VM",
                      "`portside engine stop --vm`"))  # fmt: skip
    for lock, what, command in locks:
        holder = ownership.owner(lock)
        if holder is not None:
            by = f" (owned by pid {holder.pid})" if holder.pid is not None else ""
            raise LifecycleError(
                f"{what} is running{by}; stop it before purging its data ({command}, or quit "
                "the Portside app that runs it)."
            )
    mounts = procs.mounts_under([paths.data_root, paths.exec_root])
    if mounts:
        raise LifecycleError(
            "These are still mounted under the engine's folders: " + ", ".join(mounts[:5])
            + ". Stop the engine (`portside engine stop` cleans up), then purge again."
        )


def _remove(path: Path) -> None:
    if path.is_symlink() and path.is_dir():
        # data moved to another disk behind a link: empty the target, keep the link
        for child in path.resolve().iterdir():
            _remove(child)
    elif path.is_dir() and not path.is_symlink():
        try:
            shutil.rmtree(path)
        except PermissionError:
            _rootless_remove(path)
    else:
        path.unlink(missing_ok=True)


def _rootless_remove(path: Path) -> None:
    """A rootless engine's files belong to sub-uids: remove them inside its user namespace."""
    rootlesskit = shutil.which("rootlesskit")
    if os.geteuid() == 0 or rootlesskit is None:
        raise PermissionError(f"{path}: permission denied")
    done = subprocess.run(
        [rootlesskit, "rm", "-rf", "--", str(path)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0 or path.exists():
        raise PermissionError(f"{path}: rootlesskit rm failed: {done.stderr.strip()}")


def purge(
    plan: PurgePlan, paths: EnginePaths, vm_root: Path | None = None
) -> PurgeResult:
    """Delete the plan's items (the engine must be stopped); returns what was freed."""
    check_stopped(paths, vm_root)
    allowed = {path for path, _what in _candidates(paths, vm_root)}
    strays = [item.path for item in plan.items if item.path not in allowed]
    if strays or plan.engine_root != paths.root:
        raise LifecycleError(
            f"This purge plan names paths outside {paths.root}: {strays}; nothing was deleted."
        )
    result = PurgeResult()
    for item in plan.items:
        try:
            size = disk_usage(item.path)
            _remove(item.path)
        except OSError as exc:
            result.failed.append((item.path, exc.strerror or str(exc)))
            continue
        result.removed.append(item.path)
        result.freed += size
    return result
