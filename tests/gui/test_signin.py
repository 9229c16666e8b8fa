"""Sign-in dialog and accounts view against the real registry, engine and keyring (offscreen)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QLineEdit

from app.dialogs.signin import SignInDialog, explain_error
from app.views.accounts import AccountsView
from engine.credentials.servers import HUB_SERVER
from engine.credentials.store import CredentialStore
from engine.errors import AuthDenied, EngineAPIError, KeyringUnavailable
from tests.gui.conftest import run_async, wait_for

pytestmark = [pytest.mark.gui, pytest.mark.engine, pytest.mark.registry, pytest.mark.keyring]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any) -> Any:
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return CredentialStore()


def _fill(dialog: SignInDialog, user: str, password: str) -> None:
    dialog.username_edit.setText(user)
    dialog.password_edit.setText(password)


def test_right_password_is_checked_then_stored(qtbot: Any, app_ctx: Any, registry: Any,
                                              store: CredentialStore) -> None:
    dialog = SignInDialog(app_ctx, server=f"http://{registry.host}/", store=store)
    qtbot.addWidget(dialog)
    assert dialog.other_radio.isChecked() and dialog.server_edit.text() == registry.host
    assert dialog.password_edit.echoMode() == QLineEdit.EchoMode.Password
    _fill(dialog, registry.username, registry.password)
    try:
        with qtbot.waitSignal(dialog.signed_in, timeout=20000) as signal:
            dialog.sign_in_button.click()
        assert signal.args == [registry.host, registry.username]
        login = store.get(registry.host)
        assert login is not None and login.secret == registry.password
        assert dialog.password_edit.text() == ""  # the secret does not stay in the widget
        assert registry.password not in dialog.status_label.text()
    finally:
        store.erase(registry.host)


def test_wrong_password_says_so_and_stores_nothing(qtbot: Any, app_ctx: Any, registry: Any,
                                                  store: CredentialStore) -> None:
    dialog = SignInDialog(app_ctx, server=registry.host, store=store)
    qtbot.addWidget(dialog)
    _fill(dialog, registry.username, "not-the-password")
    dialog.sign_in_button.click()
    assert dialog.task is not None
    wait_for(qtbot, lambda: "refused the user name or password" in dialog.status_label.text(),
             timeout=20)
    assert "not-the-password" not in dialog.status_label.text()
    assert dialog.sign_in_button.isEnabled()  # ready for another try
    assert dialog.result() != SignInDialog.DialogCode.Accepted
    assert store.get(registry.host) is None
    assert registry.host not in store.logins()


def test_unreachable_registry_and_bad_input(qtbot: Any, app_ctx: Any,
                                           store: CredentialStore) -> None:
    dialog = SignInDialog(app_ctx, store=store)
    qtbot.addWidget(dialog)
    assert dialog.hub_radio.isChecked() and not dialog.server_edit.isEnabled()
    dialog.other_radio.setChecked(True)
    dialog.server_edit.setText("ftp://registry")
    _fill(dialog, "u", "p")
    dialog.submit()
    assert "unsupported scheme" in dialog.status_label.text() and dialog.task is None
    dialog.server_edit.setText("127.0.0.1:1")
    dialog.username_edit.clear()
    dialog.submit()
    assert dialog.status_label.text() == "Enter your user name."
    _fill(dialog, "u", "p")
    dialog.submit()
    assert dialog.task is not None
    # The label changes in the task's done callback, which runs just after task.done().
    wait_for(qtbot, lambda: "Cannot reach 127.0.0.1:1" in dialog.status_label.text(),
             timeout=30)
    assert store.get("127.0.0.1:1") is None


def test_accounts_view_lists_signs_out_and_exposes_hub_user(
    qtbot: Any, app_ctx: Any, registry: Any, store: CredentialStore
) -> None:
    view = AccountsView(app_ctx, store=store)
    qtbot.addWidget(view)
    other = f"acct-{uuid.uuid4().hex[:6]}.test"
    before_hub = store.get(HUB_SERVER)
    store.put(other, "ivy", "pw")
    store.put("docker.io", "hubber", "pw2")
    try:
        with qtbot.waitSignal(view.hub_user_changed, timeout=10000):
            view.refresh()
        assert view.hub_user == "hubber"
        assert view.model.get(other) == {"registry": other, "username": "ivy", "server": other}
        assert view.model.get(HUB_SERVER)["registry"] == "Docker Hub"  # type: ignore[index]
        assert "docker CLI keeps its logins in plaintext" in view.cli_label.text()

        dialog = view.open_sign_in(registry.host)
        _fill(dialog, registry.username, registry.password)
        with qtbot.waitSignal(view.logins_changed, timeout=20000):
            dialog.sign_in_button.click()
        wait_for(qtbot, lambda: registry.host in view.model)
        # Signed in and closed: the dialog is deleted, not kept as a hidden window.
        wait_for(qtbot, lambda: not shiboken6.isValid(dialog))

        view.table.selectRow(view.table.model().rowCount() - 1)
        server = view.selected_server()
        assert server is not None and view.sign_out_button.isEnabled()
        run_async(qtbot, view.sign_out(server))
        wait_for(qtbot, lambda: server not in view.model)
        assert store.get(server) is None
        run_async(qtbot, view.sign_out(HUB_SERVER))
        wait_for(qtbot, lambda: view.hub_user == "")
    finally:
        for server in (other, registry.host, HUB_SERVER):
            store.erase(server)
        if before_hub is not None:
            store.put(HUB_SERVER, before_hub.username, before_hub.secret)


def test_explain_error_messages() -> None:
    assert "refused the user name or password" in explain_error(
        AuthDenied(401, "unauthorized: incorrect username or password"), HUB_SERVER)
    assert "access token" in explain_error(AuthDenied(401, "unauthorized"), HUB_SERVER)
    tls = explain_error(EngineAPIError(500, 'Get "https://r:5000/v2/": x509: certificate '
                                       "signed by unknown authority"), "r:5000")
    assert tls.startswith("TLS problem") and "/etc/docker/certs.d/r:5000/ca.crt" in tls
    net = explain_error(EngineAPIError(500, "dial tcp: lookup nope: no such host"), "nope")
    assert net.startswith("Cannot reach nope")
    assert explain_error(KeyringUnavailable("No keyring available: x"), "h").startswith(
        "Not signed in: No keyring")


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any
             ) -> dict[str, Path]:
    """A throw-away HOME, DOCKER_CONFIG, Portside config and PATH (never the real ~/.docker).

    The app's own PATH has the venv's bin and ~/.local/bin, as under scripts/run.sh; what the
    user's login shell sees is decided by the temporary ~/.profile each test writes (or not).
    """
    home = tmp_path / "home"
    home.mkdir()
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SHELL", "/bin/bash")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    venv_bin = Path(sys.prefix) / "bin"
    monkeypatch.setenv("PATH", os.pathsep.join(
        [str(venv_bin), str(home / ".local" / "bin"), "/usr/bin", "/bin"]))
    return {"home": home, "docker": docker, "bin": home / ".local" / "bin"}


def test_enable_docker_cli_shows_the_path_hint_when_the_shell_cannot_find_the_helper(
    qtbot: Any, app_ctx: Any, cli_home: dict[str, Path]
) -> None:
    config = cli_home["docker"] / "config.json"
    config.write_text('{"credsStore": "desktop"}')
    view = AccountsView(app_ctx, store=CredentialStore())
    qtbot.addWidget(view)
    # Portside's own PATH (venv bin + ~/.local/bin) would find a helper; the login shell's
    # PATH (no ~/.profile adding ~/.local/bin) does not, and that is what the docker CLI uses.
    task = view.enable_docker_cli()
    assert task is not None
    run_async(qtbot, task)
    wait_for(qtbot, lambda: "export PATH=" in view.cli_note.text())
    text = view.cli_note.text()
    assert f'export PATH="{cli_home["bin"]}:$PATH"' in text
    assert "were not changed" in text
    assert (cli_home["bin"] / "docker-credential-portside").exists()
    assert config.read_text() == '{"credsStore": "desktop"}'  # untouched
    wait_for(qtbot, lambda: "“desktop”" in view.cli_label.text())
    assert not view.cli_button.isHidden() and view.cli_off_button.isHidden()


def test_enable_then_stop_using_portside_for_the_docker_cli(
    qtbot: Any, app_ctx: Any, cli_home: dict[str, Path]
) -> None:
    (cli_home["home"] / ".profile").write_text(
        'echo "welcome to this machine"\nPATH="$HOME/.local/bin:$PATH"\n')
    config = cli_home["docker"] / "config.json"
    original = {"credsStore": "desktop", "proxies": {"default": {"noProxy": "x"}}}
    config.write_text(json.dumps(original))
    view = AccountsView(app_ctx, store=CredentialStore())
    qtbot.addWidget(view)
    task = view.enable_docker_cli()
    assert task is not None
    run_async(qtbot, task)
    assert json.loads(config.read_text()) == {**original, "credsStore": "portside"}
    wait_for(qtbot, lambda: "keeps its logins in Portside's keyring" in view.cli_label.text())
    assert "slow" not in view.cli_label.text()  # the launcher, not pip's console script
    assert view.cli_button.isHidden() and not view.cli_off_button.isHidden()
    assert view.cli_off_button.text() == "Stop using Portside for the docker CLI"

    run_async(qtbot, view.disable_docker_cli())
    assert json.loads(config.read_text()) == original
    # The note is set by the task's done callback, one loop turn after the task is done.
    wait_for(qtbot, lambda: "“desktop” again" in view.cli_note.text())
    assert "“desktop” again" in view.cli_note.text()
    wait_for(qtbot, lambda: "keeps its logins in “desktop”" in view.cli_label.text())
    assert not view.cli_button.isHidden() and view.cli_off_button.isHidden()


def test_enable_docker_cli_reports_a_corrupt_config_in_the_view(
    qtbot: Any, app_ctx: Any, cli_home: dict[str, Path]
) -> None:
    config = cli_home["docker"] / "config.json"
    config.write_text("{broken")
    view = AccountsView(app_ctx, store=CredentialStore())
    qtbot.addWidget(view)
    assert view.enable_docker_cli() is None
    assert str(config) in view.cli_note.text()
    assert config.read_text() == "{broken"
