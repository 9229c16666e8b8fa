"""``portside --host URL`` end to end in a subprocess: window up, connected, clean quit.

The driver script runs the real :func:`app.gui.run_gui`, waits (on a Qt timer, inside the app's
own qasync loop) until the footer shows the engine's version, checks the views, then closes the
window; without a tray that quits, and an attached engine is left running.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gui.app_process import run_app

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_portside_host_attaches_shows_window_and_quits(
    engine_endpoint: str, tmp_path: Path, docker_cli: Any
) -> None:
    lines = run_app(
        tmp_path,
        ["--host", engine_endpoint],
        {"views": '",".join(w.views)'},
        env={"PORTSIDE_CONFIG_DIR": str(tmp_path / "config")},
        unset=("DOCKER_HOST",),
    )
    assert f"attached to {engine_endpoint}" in lines["footer"]
    assert lines["views"].startswith("containers,")
    assert (tmp_path / "config" / "settings.json").exists()
    # the attached engine is still running after quit
    assert docker_cli("version", "--format", "{{.Server.Version}}").stdout.strip()
