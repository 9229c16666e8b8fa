"""Runs the real-display part (tests/gui/display) on xcb under its own Xvfb, as one test here.

The offscreen suite cannot switch platforms inside its one QApplication, so the xcb part runs in
a child pytest with ``QT_QPA_PLATFORM=xcb`` on a private ``xvfb-run`` screen big enough for a
1920x1080 window. It starts its own private engine; ``PORTSIDE_SCREENSHOTS`` is passed on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.engine]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_display_part_passes_on_xcb() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", PYTHONFAULTHANDLER="1")
    env.pop("DISPLAY", None)
    cmd = [
        "xvfb-run", "-a", "-s", "-screen 0 1920x1200x24",
        sys.executable, "-m", "pytest", "tests/gui/display", "-q", "-p", "no:cacheprovider",
    ]  # fmt: skip
    done = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    summary = re.search(r"(\d+) passed", output)
    assert summary and int(summary.group(1)) >= 5, output[-5000:]
    assert "skipped" not in output.splitlines()[-1], output[-5000:]
