"""The wizard's sign-in and registry path, by keys, against the real htpasswd registry and keyring.

The registry holds the sample image under ``<registry>/portside/hello:first`` (pushed with the
registry's password, the local tag removed). The wizard resumes on its sign-in page (attached to
the session engine); Enter on "Sign in…" opens the sign-in dialog, the address, user name and
password are typed, Enter signs in (checked by the engine, stored in the keyring); then
"Run and show logs" finds the registry reachable and pulls with the stored login — anonymously
the registry refuses — and the window shows the container's greeting.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.settings import Settings
from app.wizard.first_image import SAMPLE_TAG, sample_tar
from engine.registry import AuthConfig
from tests.gui.conftest import run_async, wait_for
from tests.gui.wizard_support import activate, closed, on_page, press

pytestmark = [pytest.mark.gui, pytest.mark.engine, pytest.mark.registry, pytest.mark.keyring]


def test_sign_in_then_first_container_from_the_registry(
    qtbot: Any, app_ctx: Any, registry: Any, keyring_backend: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.main_window import MainWindow
    from app.wizard import open_first_run
    from engine.credentials.store import CredentialStore

    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    image = f"{registry.host}/portside/hello:first"
    monkeypatch.setenv("PORTSIDE_FIRST_IMAGE", image)
    client = app_ctx.client
    auth = AuthConfig(registry.username, registry.password, registry.host)

    async def publish() -> None:
        async for _ in client.images.load(sample_tar().read_bytes()):
            pass
        await client.images.tag(SAMPLE_TAG, image)
        async for _ in client.images.push(image, auth=auth):
            pass
        await client.images.remove(image)  # the wizard must pull it

    run_async(qtbot, publish(), timeout=60)
    settings = Settings.load()
    settings.wizard_step = "signin"  # resumed there: the engine already runs
    window = MainWindow(app_ctx, settings)
    qtbot.addWidget(window)
    window.show()
    store = CredentialStore()
    wizard = open_first_run(window)
    try:
        activate(qtbot, wizard)
        on_page(qtbot, wizard, "signin")
        page = wizard.pages["signin"]
        assert QApplication.focusWidget() is page.sign_in
        press(qtbot, wizard, Qt.Key.Key_Return)  # the focused "Sign in…" button
        wait_for(qtbot, lambda: page.dialog is not None and page.dialog.isVisible())
        dialog = page.dialog
        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
        qtbot.keyClick(dialog.other_radio, Qt.Key.Key_Space)  # "Another registry", not Docker Hub
        assert dialog.other_radio.isChecked()
        qtbot.keyClicks(dialog.server_edit, registry.host)
        qtbot.keyClicks(dialog.username_edit, registry.username)
        qtbot.keyClicks(dialog.password_edit, registry.password)
        with qtbot.waitSignal(dialog.signed_in, timeout=30000):
            qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
        assert registry.username in page.status.text()
        assert store.get(registry.host) is not None
        wizard.activateWindow()
        qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)
        press(qtbot, wizard, Qt.Key.Key_Return)  # Next
        on_page(qtbot, wizard, "first")
        first = wizard.pages["first"]
        press(qtbot, wizard, Qt.Key.Key_Return)  # Run and show logs
        qtbot.waitUntil(lambda: closed(wizard), timeout=60000)
        assert first.image == image, first.steps.toPlainText()
        logs = window.views["containers"].details.logs
        wait_for(qtbot, lambda: "Hello from Portside!" in logs.toPlainText(), 20)
    finally:
        store.erase(registry.host)

        async def clean() -> None:
            for c in await client.containers.list(
                    all=True, filters={"label": ["io.portside.first-run"]}):
                await client.containers.remove(c.id, force=True)
            with contextlib.suppress(Exception):
                await client.images.remove(image)

        run_async(qtbot, clean(), timeout=60)
