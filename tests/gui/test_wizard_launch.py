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
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from benchmarks.first_run import GREETING, one_round

pytestmark = [pytest.mark.gui, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import sys, time
    import shiboken6
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from app.gui import run_gui
    from app.main_window import MainWindow

    started = time.monotonic()
    report = {"wizard": "none"}
    closing = []

    def poll():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        win = wins[0] if wins else None
        wiz = getattr(win, "first_run_wizard", None) if win else None
        if wiz is not None and not shiboken6.isValid(wiz):
            wiz = None  # closed: a closed guide deletes itself
        if wiz is not None and wiz.isVisible() and not closing:
            report["wizard"] = wiz.page_key()
            report["state_with_wizard"] = win.ctx.engine.status.state.value
            report["choice"] = wiz.choice.kind
            closing.append(1)
            QTest.keyClick(QApplication.focusWidget() or wiz, Qt.Key.Key_Escape)
        elif win is not None and "Docker" in win.footer.state_label.text():
            report["footer"] = win.footer.state_label.text()
            report["wizard_open"] = bool(wiz is not None and wiz.isVisible())
            win.quit_requested.emit()
            return
        if time.monotonic() - started > 60:
            print("TIMEOUT", report, flush=True)
            sys.exit(3)
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    code = run_gui(sys.argv[1:])
    for k, v in report.items():
        print(f"{k}={v}")
    print(f"exit={code}")
    """
)


def launch(tmp_path: Path, *args: str) -> dict[str, str]:
    script = tmp_path / "drive.py"
    script.write_text(DRIVER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
               PORTSIDE_CONFIG_DIR=str(tmp_path / "config"),
               PORTSIDE_LOG_DIR=str(tmp_path / "log"), DOCKER_CONFIG=str(tmp_path / "docker"))
    env.pop("PORTSIDE_FIRST_RUN", None)  # the suite's "never" is what this test turns off
    result = subprocess.run([sys.executable, str(script), *args], capture_output=True,
                            text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


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
