"""An accelerated boot that does not reach the guest's init in time falls back to TCG.

The engine is told to try kvm first with a 0.5 s limit: whether kvm works here (the boot is not
at init after 0.5 s), hangs (a nested guest on CI machines) or cannot open /dev/kvm (QEMU exits
at once), it must end that QEMU, say so in the log and the status, and boot under tcg.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.lifecycle import procs
from engine.lifecycle.base import EngineState
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths

pytestmark = [pytest.mark.vm, pytest.mark.timeout(600)]


@pytest.fixture
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="pvf-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_accelerator_that_does_not_boot_in_time_falls_back_to_tcg(
    vm_image_x86: VMImage, home: Path
) -> None:
    engine = VMEngine(
        VMPaths.default(home), accels=["kvm", "tcg"], accel_timeout=0.5, start_timeout=240
    )
    details: list[str] = []
    engine.subscribe(lambda status: details.append(status.detail))
    try:
        await engine.start()
        assert engine.status.state is EngineState.RUNNING and engine.accel == "tcg"
        assert any("KVM" in d for d in details) and "TCG" in engine.status.detail
        log_text = engine.paths.engine.log_file.read_text(errors="replace")
        assert "With kvm; trying tcg instead." in log_text
        # one QEMU runs (the kvm one was ended), and the ssh forward
        assert engine.forward is not None
        running = set(procs.processes_naming([engine.paths.root]))
        assert running == {engine.qemu_pid, engine.forward.pid}
    finally:
        await engine.stop()
    assert engine.status.state is EngineState.STOPPED
