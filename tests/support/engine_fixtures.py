"""Session fixtures for a private Docker engine, started through :class:`NativeEngine`.

Each test session gets its own engine, so several sessions can run side by side on one machine:
a fresh short folder under /tmp for data root, exec root and socket, a bridge named after that
folder ("pst" + hash), a random free /24, and no iptables rules (engines would share the chains).

Fixtures:
    engine_endpoint: ``unix:///…/docker.sock`` of the session's engine.
    own_engine_root: a fresh, empty engine home under /tmp for one test, removed after it.
    test_image: ``portside-test/busybox:latest``, built offline from /bin/busybox (busybox-static)
        inside that engine: every busybox applet in /bin, plus /etc/passwd and /etc/group.
    docker_cli: runs the docker CLI found on PATH against that engine with its own DOCKER_CONFIG.

Helpers: ``dockerd_version()`` is what the dockerd the engines run says about itself, so tests
compare the engine with the machine's own dockerd, whatever its version.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from engine.client import EngineClient
from engine.endpoint import Endpoint
from engine.lifecycle import EnginePaths, NativeEngine
from engine.lifecycle.native import find_program

TEST_IMAGE = "portside-test/busybox:latest"
BUSYBOX = Path("/bin/busybox")
#: The docker CLI on PATH (Debian's docker.io puts it in /usr/bin; other installs elsewhere).
DOCKER_CLI = shutil.which("docker") or "docker"

_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"
_DOCKERFILE = 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nCMD ["sh"]\n'


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _tar_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def busybox_context(busybox: Path = BUSYBOX) -> bytes:
    """A build context (tar) whose image is busybox with a symlink per applet."""
    if not busybox.is_file():
        pytest.fail(
            f"{busybox} is missing; the test image is built from it. "
            "Install it with `sudo apt-get install busybox-static`."
        )
    applets = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _tar_add(tar, "Dockerfile", _DOCKERFILE.encode())
        for folder in ("rootfs", "rootfs/bin", "rootfs/etc", "rootfs/root", "rootfs/var"):
            _tar_dir(tar, folder)
        _tar_dir(tar, "rootfs/tmp", 0o1777)
        _tar_add(tar, "rootfs/bin/busybox", busybox.read_bytes(), 0o755)
        for applet in applets:
            if applet == "busybox" or "/" in applet:
                continue
            link = tarfile.TarInfo(f"rootfs/bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        _tar_add(tar, "rootfs/etc/passwd", _PASSWD.encode())
        _tar_add(tar, "rootfs/etc/group", _GROUP.encode())
    return buf.getvalue()


async def build_image(endpoint: str, context: bytes, tag: str) -> str:
    """Build through the client (classic builder, no network needed); returns the image id."""
    image_id = ""
    async with EngineClient(endpoint, timeout=120) as client:
        async for progress in client.images.build(context, tag=tag, forcerm=True):
            if progress.aux and "ID" in progress.aux:
                image_id = str(progress.aux["ID"])
    if not image_id:
        pytest.fail(f"building {tag} reported no image id")
    return image_id


async def import_image(endpoint: str | Endpoint, tag: str) -> None:
    """The same busybox image, imported as a root file system (faster than a build)."""
    rootfs = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(busybox_context())) as source,
        tarfile.open(fileobj=rootfs, mode="w") as tar,
    ):
        for member in source.getmembers():
            if member.name.startswith("rootfs/"):
                data = source.extractfile(member) if member.isfile() else None
                member.name = member.name.removeprefix("rootfs/")
                tar.addfile(member, data)
    repo, _, name_tag = tag.rpartition(":")
    async with EngineClient(endpoint, timeout=120) as client:
        async for _ in client.images.import_(
            rootfs.getvalue(), repo, name_tag, changes=["ENV PATH=/bin", 'CMD ["sh"]']
        ):
            pass


def dockerd_version() -> str:
    """What the dockerd the engines run says it is (``dockerd --version``), e.g. 20.10.24+dfsg1."""
    dockerd = find_program("dockerd")
    if dockerd is None:
        pytest.fail("No dockerd found: install it with `sudo apt-get install docker.io`.")
    out = subprocess.run(
        [dockerd, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    match = re.match(r"Docker version ([^,\s]+)", out)
    if match is None:
        pytest.fail(f"`{dockerd} --version` printed no version: {out!r}")
    return match.group(1)


def _fresh_home(prefix: str) -> Iterator[Path]:
    """A short, fresh folder under /tmp (unix socket paths are limited to 107 B), removed after."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def engine_root() -> Iterator[Path]:
    """A short, fresh folder for the session engine."""
    yield from _fresh_home("pst-")


@pytest.fixture
def own_engine_root() -> Iterator[Path]:
    """A fresh, empty home for an engine the test starts itself (own data root, socket, bridge)."""
    yield from _fresh_home("psto-")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def native_engine(engine_root: Path) -> AsyncIterator[NativeEngine]:
    """The session's running :class:`NativeEngine` (stopped, with clean-up, at the end)."""
    engine = NativeEngine(EnginePaths.at(engine_root), iptables=False, start_timeout=60)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop(timeout=20)


@pytest.fixture(scope="session")
def engine_endpoint(native_engine: NativeEngine) -> str:
    """``unix:///…/docker.sock`` of the session's private engine."""
    return native_engine.endpoint


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def test_image(engine_endpoint: str) -> str:
    """``portside-test/busybox:latest`` inside the session engine (built offline)."""
    await build_image(engine_endpoint, busybox_context(), TEST_IMAGE)
    return TEST_IMAGE


@dataclass
class DockerCLI:
    """The docker CLI bound to one engine, with a private config folder (never ~/.docker)."""

    endpoint: str
    config_dir: Path
    binary: str = DOCKER_CLI

    def env(self) -> dict[str, str]:
        """The environment the CLI runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = str(self.config_dir)
        return env

    def __call__(
        self,
        *args: str,
        check: bool = True,
        input: str | bytes | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker -H <endpoint> *args``; with ``check``, fail the test on a non-zero exit."""
        argv: Sequence[str] = [self.binary, "-H", self.endpoint, *args]
        data = input.decode() if isinstance(input, bytes) else input
        result = subprocess.run(
            argv, capture_output=True, text=True, input=data, env=self.env(), timeout=timeout
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"`docker {' '.join(args)}` exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@pytest.fixture(scope="session")
def docker_cli(engine_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> DockerCLI:
    """``docker_cli("ps", "-a")`` runs the docker CLI against the session engine."""
    if shutil.which(DOCKER_CLI) is None:
        pytest.fail(
            "No docker CLI on PATH; the tests compare against the real one. "
            "Install it with `sudo apt-get install docker.io`.",
            pytrace=False,
        )
    return DockerCLI(engine_endpoint, tmp_path_factory.mktemp("docker-config"))
