"""CLI integration and the optional sign-in.

CLI page: the same panel the Settings window's CLI tab shows
(:class:`app.cli_integration.CliIntegrationPanel`: the ``portside`` docker context, making it
current with undo, the credential helper), each row with its status and a fix button. It is
built when the page is first shown, so the guide opens without importing it.

Sign-in page: "Sign in…" opens the app's sign-in dialog (:mod:`app.dialogs.signin`: checked
through the engine's ``/auth``, then stored in the OS keyring); the page says who is signed in.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.wizard.base import Page


class CliPage(Page):
    """The docker CLI's context and credential helper, each with its fix button."""

    key = "cli"
    title_text = "The docker command line"
    subtitle_text = "Let the docker CLI on this machine use Portside's engine and keyring."

    def __init__(self) -> None:
        super().__init__()
        self.panel: QWidget | None = None

    def enter(self) -> None:
        if self.panel is None:
            from app.cli_integration import CliIntegrationPanel

            self.panel = CliIntegrationPanel(self.wiz.ctx)
            self.body.addWidget(self.panel, 1)
            # the focus stays on Next: Enter goes on, Tab reaches the panel's buttons (each of
            # them changes the docker CLI's files, which Enter alone must never do)
        refresh = getattr(self.panel, "refresh", None)
        if callable(refresh):
            refresh()


class SignInPage(Page):
    """Optional: sign in to Docker Hub or another registry."""

    key = "signin"
    title_text = "Sign in (optional)"
    subtitle_text = "Pull private images and push your own. Skip if you do not need it now."

    def __init__(self) -> None:
        super().__init__()
        self.status = self.text("", name="signinStatus")
        row = QHBoxLayout()
        self.sign_in = QPushButton("S&ign in…")
        self.sign_in.setToolTip("Sign in to Docker Hub or another registry")
        self.sign_in.clicked.connect(self.open_dialog)
        row.addWidget(self.sign_in)
        row.addStretch(1)
        self.body.addLayout(row)
        self.body.addStretch(1)
        self.dialog: Any = None
        self.user = ""
        self.first_focus = self.sign_in

    def enter(self) -> None:
        self._show()

    def _show(self) -> None:
        if self.user:
            self.status.setText(f"Signed in as {self.user}. Next goes on.")
        elif self.wiz.ctx.client is None:
            self.status.setText(
                "Portside checks your password through the engine, which is not running; "
                "Skip, or go Back and start it."
            )
        else:
            self.status.setText("Your password or token is checked by the registry and kept "
                                "in the system keyring, never in a file.")
        self.sign_in.setEnabled(self.wiz.ctx.client is not None)

    def open_dialog(self) -> Any:
        from app.dialogs.signin import SignInDialog

        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.raise_()
            return self.dialog
        self.dialog = SignInDialog(self.wiz.ctx, parent=self.wiz)
        self.dialog.signed_in.connect(self._signed_in)
        self.dialog.open()
        return self.dialog

    def _signed_in(self, server: str, user: str) -> None:
        from app.dialogs.signin import display_server

        self.user = f"{user} on {display_server(server)}"
        self._show()
        self.wiz.button(self.wiz.WizardButton.NextButton).setFocus()
