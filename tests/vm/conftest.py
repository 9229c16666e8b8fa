"""Fixtures for the VM tests (markers ``vm`` / ``vm_arm64``; run by ``bash scripts/test-vm.sh``).

    vm_image      the built x86_64 image (built once by packaging/vm/build.sh when missing; the
                  build is cached in the user cache folder, so later sessions find it at once)
    vm_home       a short, fresh engine folder for this session (the VM lives in <it>/vm)
    vm_docker     the docker CLI found on PATH with DOCKER_HOST=unix://<forwarded socket>

Every VM is started with ``PORTSIDE_VM_ACCEL=tcg``: a nested KVM guest hangs on our CI machines
(DEVELOPERS.md); the code still picks kvm/hvf/whpx where they work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine.vm import image as vm_image

if TYPE_CHECKING:
    from engine.vm.engine import VMEngine
from tests.support.engine_fixtures import DOCKER_CLI

ROOT = Path(__file__).resolve().parents[2]
#: How long building the image may take (debootstrap of bookworm + docker.io, ~1-3 minutes).
BUILD_TIMEOUT = 1200


def ensure_image(arch: str) -> vm_image.VMImage:
    """The image for ``arch`` as packaging/vm says now: build.sh returns at once when the cached
    image was built from the same recipe (it hashes packaging/vm), and rebuilds it otherwise."""
    done = subprocess.run(
        ["bash", str(ROOT / "packaging" / "vm" / "build.sh"), "--arch", arch],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    found = vm_image.find_image(arch)
    if found is None:
        pytest.fail(
            f"packaging/vm/build.sh --arch {arch} left no image (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return found


@pytest.fixture(scope="session")
def vm_image_x86() -> vm_image.VMImage:
    return ensure_image("x86_64")


@pytest.fixture(scope="session", autouse=True)
def _vm_tcg() -> Iterator[None]:
    old = os.environ.get("PORTSIDE_VM_ACCEL")
    os.environ["PORTSIDE_VM_ACCEL"] = "tcg"
    yield
    if old is None:
        os.environ.pop("PORTSIDE_VM_ACCEL", None)
    else:
        os.environ["PORTSIDE_VM_ACCEL"] = old


@pytest.fixture(scope="session")
def vm_home() -> Iterator[Path]:
    """A short, fresh engine folder (unix socket paths are limited to 107 bytes)."""
    home = Path(tempfile.mkdtemp(prefix="pvm-", dir="/tmp"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@dataclass
class VMDocker:
    """The docker CLI on PATH with ``DOCKER_HOST`` set to the VM's forwarded socket (or its TLS
    port)."""

    endpoint: str
    config_dir: Path
    #: DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for the VM's tls API mode
    tls_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_HOST"] = self.endpoint
        env["DOCKER_CONFIG"] = str(self.config_dir)
        env.update(self.tls_env)
        return env

    async def run(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 180,  # noqa: ASYNC109
    ) -> subprocess.CompletedProcess[str]:
        """The same, on a thread: the VM's port forwarder and ssh keeper run on the test's loop."""
        return await asyncio.to_thread(self, *args, check=check, timeout=timeout)

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        argv: Sequence[str] = [DOCKER_CLI, *args]
        result = subprocess.run(
            argv, capture_output=True, text=True, env=self.env(), timeout=timeout
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"`docker {' '.join(args)}` exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


@contextlib.asynccontextmanager
async def booted(home: Path, settings: dict[str, object]) -> AsyncIterator[VMEngine]:
    """A VM in ``home`` (its engine folder) booted with ``settings`` as vm.json; stopped after."""
    from engine.vm.engine import VMEngine
    from engine.vm.layout import VMPaths

    paths = VMPaths.default(home)
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(json.dumps(settings))
    engine = VMEngine(paths, start_timeout=300)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


def tls_docker(vm: VMEngine, config_dir: Path) -> VMDocker:
    """The docker CLI pointed at a VM in the tls API mode, with the VM's certificates."""
    return VMDocker(
        vm.endpoint, config_dir,
        {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(vm.paths.tls_dir)},
    )  # fmt: skip
