"""The engine chosen in the switcher is the one the app starts on next time (real ``run_gui``).

A subprocess runs :func:`app.gui.run_gui` without ``--host`` or ``DOCKER_HOST``, with a
settings.json whose ``engine_id`` names an added engine — the tests' ``dockerd --tlsverify`` —
and waits until the footer shows the engine's version: the app connected over TLS to that
engine (not to Portside's own), the footer's switcher names it, and closing the window quits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.engines import add_engine
from tests.gui.app_process import run_app

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def test_the_remembered_tls_engine_is_used_at_launch(
    tls_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(config))
    entry = add_engine("Remembered TLS", tls_engine.url, tls_engine.pki.client())
    (config / "settings.json").write_text(json.dumps(
        {"version": 1, "first_run_done": True, "engine_id": entry.id}
    ))
    lines = run_app(
        tmp_path,
        [],
        {
            "button": "w.engine_button.text()",
            "scheme": "w.ctx.client.endpoint.scheme",
            "attached": "w.ctx.attached",
        },
        env={"DOCKER_CONFIG": str(tmp_path / "docker")},
        unset=("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"),
    )
    assert lines["button"] == "Engine: Remembered TLS"
    assert lines["scheme"] == "tls" and lines["attached"] == "True"
    assert f"attached to {tls_engine.url}" in lines["footer"]
