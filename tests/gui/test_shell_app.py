"""``portside --host URL`` end to end in a subprocess: window up, connected, clean quit.

The driver script runs the real :func:`app.gui.run_gui`, waits (on a Qt timer, inside the app's
own qasync loop) until the footer shows the engine's version, checks the views, then closes the
window; without a tray that quits, and an attached engine is left running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.engine]

DRIVER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from app.gui import run_gui
    from app.main_window import MainWindow

    started = time.monotonic()
    report = {}

    def poll():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if wins and "Docker" in wins[0].footer.state_label.text():
            w = wins[0]
            report["footer"] = w.footer.state_label.text()
            report["views"] = ",".join(w.views)
            report["shown_after"] = round(time.monotonic() - started, 2)
            w.close()
            return
        if time.monotonic() - started > 60:
            print("TIMEOUT", flush=True)
            sys.exit(3)
        QTimer.singleShot(50, poll)

    QTimer.singleShot(0, poll)
    code = run_gui(sys.argv[1:])
    for k, v in report.items():
        print(f"{k}={v}")
    print(f"exit={code}")
    """
)


def test_portside_host_attaches_shows_window_and_quits(
    engine_endpoint: str, tmp_path: Path, docker_cli: Any
) -> None:
    script = tmp_path / "drive.py"
    script.write_text(DRIVER)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env["PORTSIDE_CONFIG_DIR"] = str(tmp_path / "config")
    env["PORTSIDE_LOG_DIR"] = str(tmp_path / "log")
    env.pop("DOCKER_HOST", None)
    result = subprocess.run(
        [sys.executable, str(script), "--host", engine_endpoint],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["exit"] == "0"
    assert f"attached to {engine_endpoint}" in lines["footer"]
    assert lines["views"].startswith("containers,")
    assert (tmp_path / "config" / "settings.json").exists()
    assert "Traceback" not in result.stderr
    # the attached engine is still running after quit
    assert docker_cli("version", "--format", "{{.Server.Version}}").stdout.strip()
