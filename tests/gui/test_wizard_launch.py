"""The first-run trigger in the real app (``app.gui.run_gui`` in a subprocess, offscreen).

* A first launch (no settings file) opens the wizard over the window and starts no engine until
  asked; the whole path by keys ends with the first container's logs in the window
  (``benchmarks/first_run.py``'s driver, Portside's own engine in a folder of its own).
* Closing the wizard with Escape lets the app start its engine as usual and keeps the step, so
  the next launch opens the wizard again; a launch after it finished opens none.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks.first_run import GREETING, one_round
from tests.gui.app_process import run_app

pytestmark = [pytest.mark.gui, pytest.mark.engine]

#: Runs in the app on each poll: the first time the wizard shows, note its page, the engine's
#: state and the wizard's engine choice, and close it with Escape.
CLOSE_WIZARD = textwrap.dedent(
    """
    import shiboken6
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    def open_wizard(w):
        wiz = getattr(w, "first_run_wizard", None)
        # a closed guide deletes itself
        return wiz if wiz is not None and shiboken6.isValid(wiz) and wiz.isVisible() else None

    def step(w, report):
        report.setdefault("wizard", "none")
        wiz = open_wizard(w)
        if wiz is None or "state_with_wizard" in report:
            return False
        report["wizard"] = wiz.page_key()
        report["state_with_wizard"] = w.ctx.engine.status.state.value
        report["choice"] = wiz.choice.kind
        QTest.keyClick(QApplication.focusWidget() or wiz, Qt.Key.Key_Escape)
        return True
    """
)


def launch(tmp_path: Path, *args: str) -> dict[str, str]:
    return run_app(
        tmp_path,
        list(args),
        {"wizard_open": "open_wizard(w) is not None"},
        env={
            "PORTSIDE_CONFIG_DIR": str(tmp_path / "config"),
            "DOCKER_CONFIG": str(tmp_path / "docker"),
        },
        # the suite's "never" is what this test turns off
        unset=("PORTSIDE_FIRST_RUN", *(k for k in os.environ if k.startswith("DOCKER_"))),
        step=CLOSE_WIZARD,
    )


def test_first_launch_by_keys_ends_with_the_first_containers_logs() -> None:
    times = one_round()
    assert times["image"] == "portside/hello:latest"  # the offline sample
    assert 0 < float(times["wizard"]) < float(times["engine"]) < float(times["logs"])
    assert GREETING  # what the driver waited for in the Logs tab


def test_closed_wizard_reopens_until_finished(tmp_path: Path, engine_endpoint: str,
                                              docker_cli: Any) -> None:
    first = launch(tmp_path, "--host", engine_endpoint)
    assert first["wizard"] == "welcome"
    # the engine is only checked once the wizard closed; --host makes it the wizard's choice
    assert first["state_with_wizard"] == "stopped" and first["choice"] == "existing"
    assert f"attached to {engine_endpoint}" in first["footer"]
    settings_file = tmp_path / "config" / "settings.json"
    data = json.loads(settings_file.read_text())
    assert data["first_run_done"] is False and data["wizard_step"] == "welcome"

    again = launch(tmp_path, "--host", engine_endpoint)
    assert again["wizard"] == "welcome"  # not finished: it opens again

    data["first_run_done"] = True
    settings_file.write_text(json.dumps(data))
    done = launch(tmp_path, "--host", engine_endpoint)
    assert done["wizard"] == "none" and done["wizard_open"] == "False"
    assert f"attached to {engine_endpoint}" in done["footer"]
