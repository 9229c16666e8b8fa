"""The app's footer while the VM engine boots and runs (Qt offscreen, real VM under TCG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.context import AppContext
from app.main_window import MainWindow
from app.runner import Runner
from app.settings import Settings
from engine.lifecycle.base import EngineState
from engine.vm.engine import VMEngine
from engine.vm.image import VMImage
from engine.vm.layout import VMPaths
from tests.gui.conftest import OFFSCREEN_NOISE, qasync_loop, wait_for  # noqa: F401 - a fixture

pytestmark = [
    pytest.mark.vm,
    pytest.mark.gui,
    pytest.mark.timeout(600),
    pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE),
]


def test_footer_says_the_vm_boots_and_which_accelerator_runs(
    qasync_loop: Any,  # noqa: F811
    qtbot: Any,
    vm_image_x86: VMImage,
    vm_home: Path,
    tmp_path: Path,
) -> None:
    engine = VMEngine(VMPaths.default(vm_home), start_timeout=240)
    ctx = AppContext(engine, attached=False, runner=Runner(show_dialogs=False))
    window = MainWindow(ctx, Settings(path=tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.show()
    footer = window.footer.state_label
    texts: list[str] = []
    engine.subscribe(lambda _status: texts.append(footer.text()))
    try:
        ctx.start()
        wait_for(qtbot, lambda: "Booting the Linux VM (QEMU, TCG" in footer.text(), 120)
        wait_for(
            qtbot,
            lambda: (
                engine.status.state is EngineState.RUNNING
                and "Linux VM (QEMU, TCG, emulated: slow)" in footer.text()
                and "Docker " in footer.text()
            ),
            240,
        )
        assert "Portside's own engine" not in footer.text()
        # the boot's milestones showed as they came, not one line for the whole boot
        assert any("Linux is up" in text for text in texts), texts
        assert any("starting Docker in the VM" in text for text in texts), texts
        assert "ready in" in footer.toolTip()
    finally:
        ctx.stop_engine()
        wait_for(qtbot, lambda: engine.status.state is EngineState.STOPPED, 60)
    wait_for(qtbot, lambda: "Engine stopped" in footer.text())
