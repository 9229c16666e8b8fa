#!/usr/bin/env python3
"""Build Portside's sample image offline: a ``docker save`` tar from Debian's busybox-static.

    /bin/busybox (busybox-static) + rootfs/ (this folder) ─► one layer tar
        ─► image config (rootfs diff_id = sha256 of the layer, Cmd = /hello)
        ─► manifest.json + repositories ─► resources/sample-image.tar (never committed)

The first-run wizard loads it with ``POST /images/load`` and runs it when no registry is
reachable, so "run your first container" works on a machine without internet. The image holds
busybox, ``sh``/``cat``/``hostname``/``date`` as links to it, and ``/hello`` (a script that
prints a greeting); its output is what the wizard's logs show. The tar is reproducible: fixed
timestamps, owners and order, so the same busybox gives the same image id.

Usage: ``python3 packaging/sample-image/build.py [--out FILE] [--busybox PATH]``
(``scripts/setup.sh`` runs it when the tar is missing or older than this recipe). Stdlib only.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_OUT = ROOT / "resources" / "sample-image.tar"
TAG = "portside/hello:latest"
APPLETS = ("sh", "cat", "echo", "hostname", "date", "uname", "sleep", "ls", "httpd")
EPOCH = 1_700_000_000  # fixed mtime: the same inputs give the same image id
CREATED = "2023-11-14T22:13:20Z"


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, EPOCH
    tar.addfile(info, io.BytesIO(data))


def _dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, EPOCH
    tar.addfile(info)


def layer(busybox: Path) -> bytes:
    """The image's only layer: busybox, its applet links, and this folder's rootfs/."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for folder in ("bin", "etc", "tmp", "www"):
            _dir(tar, folder, 0o1777 if folder == "tmp" else 0o755)
        _add(tar, "bin/busybox", busybox.read_bytes(), 0o755)
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname, link.mtime = tarfile.SYMTYPE, "busybox", EPOCH
            tar.addfile(link)
        for path in sorted((HERE / "rootfs").rglob("*")):
            if path.is_file():
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                _add(tar, path.relative_to(HERE / "rootfs").as_posix(), path.read_bytes(), mode)
    return buf.getvalue()


def image_tar(busybox: Path, tag: str = TAG) -> bytes:
    """The whole ``docker save`` archive for ``tag``."""
    blob = layer(busybox)
    diff_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    config = {
        "architecture": _arch(),
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ["PATH=/bin"],
            "Cmd": ["/hello"],
            "WorkingDir": "/",
            "Labels": {"org.opencontainers.image.title": "Portside's first container"},
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "packaging/sample-image/build.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_id = hashlib.sha256(config_bytes).hexdigest()
    layer_dir = diff_id.removeprefix("sha256:")
    repo, _, version = tag.rpartition(":")
    manifest = [{"Config": f"{config_id}.json", "RepoTags": [tag],
                 "Layers": [f"{layer_dir}/layer.tar"]}]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _dir(tar, layer_dir)
        _add(tar, f"{layer_dir}/VERSION", b"1.0")
        _add(tar, f"{layer_dir}/layer.tar", blob)
        _add(tar, f"{config_id}.json", config_bytes)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
        _add(tar, "repositories", json.dumps({repo: {version: layer_dir}}).encode())
    return out.getvalue()


def _arch() -> str:
    import platform

    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--busybox", type=Path, default=Path("/bin/busybox"))
    args = parser.parse_args(argv)
    if not args.busybox.is_file():
        print(f"build.py: {args.busybox} is missing; install it with "
              "`sudo apt-get install busybox-static`", file=sys.stderr)
        return 1
    data = image_tar(args.busybox)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    print(f"sample image {TAG}: {args.out} ({len(data) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
