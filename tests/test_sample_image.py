"""The wizard's offline sample image: built from busybox-static by packaging/sample-image/build.py.

Built twice it is the same archive (fixed times, owners and order); the real docker CLI loads it
into the session engine and ``docker run --rm portside/hello`` prints the greeting the wizard's
logs show — the recipe, not a copy of the image, is what the repository keeps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "packaging" / "sample-image" / "build.py"

pytestmark = [pytest.mark.engine]


def build(out: Path) -> bytes:
    result = subprocess.run([sys.executable, str(BUILD), "--out", str(out)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "portside/hello:latest" in result.stdout
    return out.read_bytes()


def test_build_is_reproducible_and_holds_busybox_and_hello(tmp_path: Path) -> None:
    first = build(tmp_path / "a.tar")
    assert build(tmp_path / "b.tar") == first
    with tarfile.open(tmp_path / "a.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["portside/hello:latest"]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        assert config["config"]["Cmd"] == ["/hello"]
        layer = tar.extractfile(manifest[0]["Layers"][0])
        assert layer is not None
        with tarfile.open(fileobj=layer) as rootfs:
            names = set(rootfs.getnames())
            assert {"bin/busybox", "bin/sh", "hello", "www/index.html"} <= names
            assert rootfs.getmember("hello").mode & 0o111


def test_missing_busybox_says_how_to_install(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path / "x.tar"),
                             "--busybox", str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "apt-get install busybox-static" in result.stderr
    assert not (tmp_path / "x.tar").exists()


def test_docker_loads_and_runs_it(tmp_path: Path, docker_cli: Any) -> None:
    tar = tmp_path / "sample.tar"
    build(tar)
    loaded = docker_cli("load", "-i", str(tar)).stdout
    assert "portside/hello:latest" in loaded
    try:
        out = docker_cli("run", "--rm", "--network", "none", "portside/hello").stdout
        assert "Hello from Portside!" in out and "busybox-static" in out
    finally:
        docker_cli("rmi", "portside/hello:latest", check=False)
