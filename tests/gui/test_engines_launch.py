"""The engine chosen in the switcher is the one the app starts on next time (real ``run_gui``).

A subprocess runs :func:`app.gui.run_gui` without ``--host`` or ``DOCKER_HOST``, with a
settings.json whose ``engine_id`` names an added engine — the tests' ``dockerd --tlsverify`` —
and waits until the footer shows the engine's version: the app connected over TLS to that
engine (not to Portside's own), the footer's switcher names it, and closing the window quits.
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

from engine.engines import add_engine

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
            report["button"] = w.engine_button.text()
            report["scheme"] = w.ctx.client.endpoint.scheme
            report["attached"] = w.ctx.attached
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


def test_the_remembered_tls_engine_is_used_at_launch(
    tls_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(config))
    entry = add_engine("Remembered TLS", tls_engine.url, tls_engine.pki.client())
    (config / "settings.json").write_text(json.dumps(
        {"version": 1, "first_run_done": True, "engine_id": entry.id}
    ))
    script = tmp_path / "drive.py"
    script.write_text(DRIVER)
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env["PORTSIDE_LOG_DIR"] = str(tmp_path / "log")
    env["DOCKER_CONFIG"] = str(tmp_path / "docker")
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        env.pop(var, None)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env,
        cwd=root,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["exit"] == "0"
    assert lines["button"] == "Engine: Remembered TLS"
    assert lines["scheme"] == "tls" and lines["attached"] == "True"
    assert f"attached to {tls_engine.url}" in lines["footer"]
    assert "Traceback" not in result.stderr
