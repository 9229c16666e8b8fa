"""The real app read through the AT-SPI bus (what Orca sees), not just Qt's accessible tree.

``portside --host <session engine>`` runs on xcb under its own Xvfb and D-Bus session with
``at-spi-bus-launcher``; ``tests/gui/display/atspi_walk.py`` (system Python + pyatspi) selects
every sidebar item through AT-SPI and walks each view. Skipped where at-spi2-core or
python3-pyatspi is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path("/usr/libexec/at-spi-bus-launcher")
SYSTEM_PYTHON = "/usr/bin/python3"


def _have_pyatspi() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not LAUNCHER.exists() or shutil.which("xvfb-run") is None or not _have_pyatspi(),
    reason="needs at-spi2-core, python3-pyatspi and xvfb-run",
)
def test_every_view_through_the_atspi_bus(
    engine_endpoint: str, test_image: str, tmp_path: Path
) -> None:
    portside = Path(sys.executable).with_name("portside")
    script = f"""
{LAUNCHER} --launch-immediately & launcher=$!
QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 QT_QPA_PLATFORM=xcb "{portside}" --host "{engine_endpoint}" \\
    > "{tmp_path}/app.log" 2>&1 & app=$!
"{SYSTEM_PYTHON}" "{ROOT}/tests/gui/display/atspi_walk.py"; rc=$?
kill -TERM $app; wait $app; kill $launcher; wait $launcher
exit $rc
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "QT_QPA"))}
    env.update(
        PORTSIDE_CONFIG_DIR=str(tmp_path / "config"),
        PORTSIDE_LOG_DIR=str(tmp_path / "log"),
        HOME=str(tmp_path),
    )
    env.pop("DISPLAY", None)
    done = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "dbus-run-session", "--",
         "bash", "-c", script],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    app_log = (tmp_path / "app.log").read_text(errors="replace") if (
        tmp_path / "app.log"
    ).exists() else ""
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:] + app_log[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["views"] == [
        "Containers", "Images", "Volumes", "Networks", "Disk usage", "Accounts"
    ], result  # fmt: skip
    assert result["problems"] == [], "\n".join(result["problems"])
