"""The signed-in Docker Hub user shows in the main window, and the button offers sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.main_window import MainWindow
from app.settings import Settings
from engine.credentials.servers import HUB_SERVER
from engine.credentials.store import CredentialStore
from tests.gui.conftest import run_async, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.engine, pytest.mark.keyring]


def test_hub_user_shows_under_the_sidebar_and_sign_in_is_offered(
    app_ctx: Any,
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keyring_backend: Any,
) -> None:
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    store = CredentialStore()
    before = store.get(HUB_SERVER)
    store.put("docker.io", "hubber", "not-shown-anywhere")
    try:
        window = MainWindow(app_ctx, Settings(path=tmp_path / "settings.json"))
        qtbot.addWidget(window)
        window.show()
        wait_for(qtbot, lambda: window.account_button.text() == "hubber")
        assert "Docker Hub as hubber" in window.account_button.toolTip()
        assert "not-shown-anywhere" not in window.account_button.text()

        accounts = window.views["accounts"]
        run_async(qtbot, accounts.sign_out(HUB_SERVER))
        wait_for(qtbot, lambda: window.account_button.text() == "Sign in to Docker Hub")

        window.account_button.click()
        assert window.stack.currentWidget() is accounts
        dialog = accounts.dialog
        assert dialog.isVisible() and dialog.hub_radio.isChecked()
        dialog.close()
    finally:
        store.erase(HUB_SERVER)
        if before is not None:
            store.put(HUB_SERVER, before.username, before.secret)
