"""Sign in to Docker Hub or any registry: checked through the engine's ``/auth``, then stored.

The password (or access token) field is masked and never filled back in. Nothing is stored until
the registry accepted the credentials; then the login goes to the OS keyring through
:class:`engine.credentials.store.CredentialStore` (the same store ``docker-credential-portside``
serves). When the registry answers with an identity token, the token is stored instead of the
password, as ``docker login`` does.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.dialogs.frame import PortsideDialog, WrapLabel, grow_to_fit, name_form_fields
from engine.credentials.servers import HUB_SERVER, server_key
from engine.errors import (
    AuthDenied,
    AuthRequired,
    EngineAPIError,
    EngineUnreachable,
    KeyringUnavailable,
    PortsideError,
    StreamError,
)
from engine.registry import AuthConfig

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.credentials.store import CredentialStore, StoredLogin

_TLS_WORDS = ("x509", "certificate", "tls:", "tls handshake", "https client")
_NETWORK_WORDS = ("connection refused", "no such host", "dial tcp", "i/o timeout",
                  "timeout", "network is unreachable", "no route to host", "lookup ",
                  "connection reset")


def display_server(server: str) -> str:
    """"Docker Hub" for Hub's key, else the key itself."""
    return "Docker Hub" if server == HUB_SERVER else server


def explain_error(exc: BaseException, server: str) -> str:
    """A clear sentence for a failed sign-in: wrong password, unreachable, TLS, keyring …"""
    where = display_server(server)
    if isinstance(exc, KeyringUnavailable):
        return f"Not signed in: {exc}"
    if isinstance(exc, EngineUnreachable):
        return f"Portside checks your password through the engine, which is not reachable. {exc}"
    raw = exc.explanation if isinstance(exc, EngineAPIError) else str(exc)
    low = raw.lower()
    if isinstance(exc, (AuthDenied, AuthRequired)) or "unauthorized" in low or (
        "incorrect username or password" in low):
        hint = (" On Docker Hub with two-factor authentication, use a personal access token as "
                "the password." if server == HUB_SERVER else "")
        return f"{where} refused the user name or password.{hint} (Registry said: {raw})"
    if any(word in low for word in _TLS_WORDS):
        host = server_key(server) if server != HUB_SERVER else "index.docker.io"
        return (f"TLS problem talking to {where}: {raw}. If the registry uses a private "
                f"certificate authority, put its certificate in /etc/docker/certs.d/{host}/ca.crt "
                "on the engine's machine; if it only speaks plain HTTP, add it to the engine's "
                "insecure-registries.")
    if any(word in low for word in _NETWORK_WORDS):
        return (f"Cannot reach {where}: {raw}. Check the address (host[:port]) and that the "
                "engine's machine can reach it.")
    if isinstance(exc, (PortsideError, StreamError)):
        return f"Sign-in to {where} failed: {raw}"
    return f"Sign-in to {where} failed unexpectedly: {type(exc).__name__}: {exc}"


class SignInDialog(PortsideDialog):
    """Registry (Docker Hub or host[:port]), user name, password or access token.

    Signals:
        signed_in(str, str): (server key, user name shown) after the login was checked and stored.
    """

    signed_in = Signal(str, str)

    def __init__(self, ctx: AppContext, server: str | None = None, parent: QWidget | None = None,
                 *, store: CredentialStore | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._store = store
        self.setWindowTitle("Sign in to a registry")
        self.setObjectName("signin-dialog")

        self.hub_radio = QRadioButton("Docker Hub")
        self.other_radio = QRadioButton("Another registry:")
        group = QButtonGroup(self)
        group.addButton(self.hub_radio)
        group.addButton(self.other_radio)
        self.server_edit = QLineEdit()
        self.server_edit.setPlaceholderText("registry.example.com or localhost:5000")
        self.server_edit.setAccessibleName("Registry address")
        self.server_edit.setAccessibleDescription("host[:port] of the registry to sign in to")
        self.username_edit = QLineEdit()
        self.username_edit.setObjectName("username")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password or access token")
        for edit in (self.server_edit, self.username_edit, self.password_edit):
            # Wide enough for the placeholders and a registry address, whatever the message says.
            edit.setMinimumWidth(300)
        self.status_label = WrapLabel()
        self.status_label.setObjectName("status")
        self.setMinimumWidth(520)

        form = QFormLayout()
        form.addRow(self.hub_radio)
        form.addRow(self.other_radio, self.server_edit)
        form.addRow("User name:", self.username_edit)
        form.addRow("Password or token:", self.password_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = self.buttons.addButton(
            "Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.set_default_button(self.sign_in_button, self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        name_form_fields(form)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

        self.hub_radio.toggled.connect(self._on_kind)
        self.server_edit.textEdited.connect(lambda _t: self.other_radio.setChecked(True))
        if server and server_key_or_none(server) not in (None, HUB_SERVER):
            self.other_radio.setChecked(True)
            self.server_edit.setText(server_key_or_none(server) or server)
        else:
            self.hub_radio.setChecked(True)
        self._on_kind()
        self.task: asyncio.Task[Any] | None = None

    @property
    def store(self) -> CredentialStore:
        if self._store is None:
            from engine.credentials.store import CredentialStore

            self._store = CredentialStore()
        return self._store

    def _on_kind(self) -> None:
        self.server_edit.setEnabled(self.other_radio.isChecked())
        # The first field still empty gets the focus when the dialog opens.
        if self.other_radio.isChecked() and not self.server_edit.text().strip():
            self.first_field = self.server_edit
        elif not self.username_edit.text().strip():
            self.first_field = self.username_edit
        else:
            self.first_field = self.password_edit

    def server(self) -> str:
        """The chosen registry's key (raises ValueError with a clear message when malformed)."""
        if self.hub_radio.isChecked():
            return HUB_SERVER
        text = self.server_edit.text().strip()
        if not text:
            raise ValueError("Enter the registry's address, e.g. registry.example.com:5000.")
        return server_key(text)

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("error", error)
        grow_to_fit(self)  # the message takes the lines it needs; the fields keep their size

    def submit(self) -> None:
        """Validate the form, then check the credentials with the engine and store them."""
        try:
            server = self.server()
        except ValueError as exc:
            self.show_status(str(exc), error=True)
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not username:
            self.show_status("Enter your user name.", error=True)
            return
        if not password:
            self.show_status("Enter your password or access token.", error=True)
            return
        client = self.ctx.client
        if client is None:
            self.show_status("The engine is not running. Portside checks your password through "
                             "the engine: start it, then sign in.", error=True)
            return
        auth = AuthConfig(username=username, password=password, serveraddress=server)
        self._set_busy(True, f"Checking with {display_server(server)}…")

        async def _go() -> StoredLogin:
            result = await client.auth(auth)
            to_store = auth
            if result.identity_token:
                to_store = AuthConfig(serveraddress=server, identitytoken=result.identity_token)
            stored: StoredLogin = await asyncio.to_thread(self.store.put_auth, to_store)
            return stored

        def _done(stored: StoredLogin) -> None:
            self._set_busy(False, "")
            shown = username if stored.is_token else stored.username
            self.show_status(f"Signed in to {display_server(stored.server)} as {shown}.")
            self.signed_in.emit(stored.server, shown)
            self.accept()

        def _failed(exc: BaseException) -> bool:
            self._set_busy(False, explain_error(exc, server))
            self.status_label.setProperty("error", True)
            self.password_edit.selectAll()
            self.password_edit.setFocus()
            return True  # shown in the dialog; no second message box

        # Deleted with its parent (the window destroyed) while the registry answers: the login
        # is stored all the same (in _go); what the dialog would show is dropped.
        self.task = self.ctx.runner.run(_go, key="signin", title="Sign in",
                                        on_done=guarded(self, _done),
                                        on_error=guarded(self, _failed),
                                        work=f"Sign in to {display_server(server)}")

    def _set_busy(self, busy: bool, text: str) -> None:
        for widget in (self.hub_radio, self.other_radio, self.username_edit, self.password_edit,
                       self.sign_in_button):
            widget.setEnabled(not busy)
        self.server_edit.setEnabled(not busy and self.other_radio.isChecked())
        self.show_status(text)

    def reject(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.password_edit.clear()
        super().reject()

    def done(self, result: int) -> None:
        self.password_edit.clear()  # the secret does not outlive the dialog's use
        super().done(result)


def server_key_or_none(text: str) -> str | None:
    try:
        return server_key(text)
    except ValueError:
        return None
