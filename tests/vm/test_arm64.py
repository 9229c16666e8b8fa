"""The arm64 image (Apple silicon) built here through qemu-user-static boots under
``qemu-system-aarch64 -M virt -cpu max`` (TCG) to a dockerd that answers ``/_ping`` through an
ssh-forwarded socket, and powers off on the power button (gpio-keys on the virt machine).

Marker ``vm_arm64``: slower than the x86_64 tests (a build of ~5 minutes through emulated dpkg the
first time, a boot of 1-2 minutes under full-system emulation); ``bash scripts/test-vm.sh`` runs it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.vm.conftest import ensure_image
from tests.vm.guest import booted, ready_split, workdir

# building the arm64 image through qemu-user takes ~5 minutes the first time, a boot 1-3
pytestmark = [pytest.mark.vm_arm64, pytest.mark.timeout(1800)]


def test_the_arm64_image_boots_to_a_working_engine(tmp_path: Path) -> None:
    image = ensure_image("arm64")
    assert image.arch == "arm64"
    assert any(p.startswith("linux-image-") and p.endswith("-arm64") for p in image.packages)
    work = workdir("pva-")
    try:
        with booted(image, work) as guest:
            ready = guest.wait_line("ready", "failed", timeout=480)
            assert ready.text.startswith("ready"), f"{ready.text}\n{guest.console_tail()}"
            print("arm64 boot split:", ready_split(guest))
            with guest.forward_docker() as docker:
                assert docker.get("/_ping").text == "OK"
                info = docker.get("/info").json()
                assert info["Architecture"] == "aarch64"
                assert info["Driver"] == "overlay2"
            took = guest.powerdown(timeout=120)
            assert "portside: power off" in guest.console.read_text(errors="replace")
            print(f"arm64 power button -> QEMU exit: {took:.1f} s")
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
