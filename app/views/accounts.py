"""Accounts: the registries Portside holds logins for, sign in/out, and docker CLI integration.

Lists ``{server: user}`` from the credential store (the same logins ``docker login`` makes
through ``docker-credential-portside``); passwords are never shown. Reading the store does not
need the engine, so this view has no engine state page; signing in does, and the dialog says so.
It also shows whether the docker CLI uses Portside's keyring (``credsStore``) and can find the
helper on the user's shell PATH, offers to turn that on (installing the helper, and moving
plaintext logins from config.json into the keyring after asking) and to turn it off again
(restoring the previous ``credsStore``). When the helper cannot be put on PATH, the view shows
exactly what to add to PATH instead of changing config.json.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.dialogs.signin import SignInDialog, display_server
from app.models.keyed import Column, KeyedTableModel
from app.resources import icon
from app.theme import Sizes
from app.widgets.view_header import ViewHeader
from engine.credentials.servers import HUB_SERVER
from engine.errors import CredentialsError

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.credentials.store import CredentialStore

log = logging.getLogger(__name__)

COLUMNS = (
    Column("registry", "Registry"),
    Column("username", "User", format=lambda v: "(access token)" if v == "<token>" else v or ""),
)


class AccountsView(QWidget):
    """Registry logins with sign in / sign out; exposes the signed-in Docker Hub user.

    Signals:
        hub_user_changed(str): the Docker Hub user name, "" when signed out of Hub.
        logins_changed(): the list was reloaded.
    """

    hub_user_changed = Signal(str)
    logins_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 store: CredentialStore | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._store = store
        self._hub_user = ""
        self.model = KeyedTableModel(COLUMNS, self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setAccessibleName("Registry logins")
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.header = ViewHeader("Accounts")
        self.header.add_primary("Sign in…", lambda: self.open_sign_in(), icon("nav-accounts"),
                                tip="Sign in to Docker Hub or another registry")
        assert self.header.primary is not None
        self.sign_in_button = self.header.primary
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out of the selected registry")
        self.sign_out_button.setEnabled(False)
        self.header.add_widget(self.sign_out_button)
        cli_title = QLabel("docker CLI")
        cli_title.setObjectName("sectionTitle")
        self.cli_label = QLabel()
        self.cli_label.setWordWrap(True)
        self.cli_button = QPushButton("Use for the docker CLI")
        self.cli_off_button = QPushButton("Stop using Portside for the docker CLI")
        self.cli_off_button.setVisible(False)
        # What the last docker CLI action did or needs (e.g. the exact line to add to PATH).
        self.cli_note = QLabel()
        self.cli_note.setWordWrap(True)
        self.cli_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        cli_row = QHBoxLayout()
        cli_row.setSpacing(Sizes.SPACING)
        cli_row.addWidget(self.cli_label, 1)
        cli_row.addWidget(self.cli_button)
        cli_row.addWidget(self.cli_off_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Sizes.GAP)
        layout.addWidget(self.header)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(cli_title)
        layout.addLayout(cli_row)
        layout.addWidget(self.cli_note)

        self.sign_out_button.clicked.connect(self.sign_out_selected)
        self.cli_button.clicked.connect(self.enable_docker_cli)
        self.cli_off_button.clicked.connect(self.disable_docker_cli)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.dialog: SignInDialog | None = None
        self.refresh()

    # -- data ----------------------------------------------------------------------------------
    @property
    def store(self) -> CredentialStore:
        if self._store is None:
            from engine.credentials.store import CredentialStore

            self._store = CredentialStore()
        return self._store

    @property
    def hub_user(self) -> str:
        """The signed-in Docker Hub user name ("" when not signed in to Hub)."""
        return self._hub_user

    def refresh(self) -> asyncio.Task[Any]:
        """Reload the logins and the docker CLI status (blocking reads run in a thread)."""

        async def _load() -> tuple[dict[str, str], str, bool, bool]:
            logins = await asyncio.to_thread(self.store.logins)
            cli_text, working, configured = await asyncio.to_thread(_cli_status)
            return logins, cli_text, working, configured

        return self.ctx.runner.run(_load, key="accounts.refresh", title="Accounts",
                                   on_done=guarded(self, self._loaded),
                                   on_error=guarded(self, self._load_failed))

    def _loaded(self, result: tuple[dict[str, str], str, bool, bool]) -> None:
        logins, cli_text, working, configured = result
        self.model.set_rows({
            server: {"registry": display_server(server), "username": user, "server": server}
            for server, user in logins.items()
        })
        self.message.setText("" if logins else
                             "No registry logins yet. Sign in to pull and push private images.")
        self.message.setVisible(bool(self.message.text()))
        self.header.set_count(f"{len(logins)} login{'s' if len(logins) != 1 else ''}")
        self.cli_label.setText(cli_text)
        self.cli_button.setVisible(not working)
        self.cli_off_button.setVisible(configured)
        hub = logins.get(HUB_SERVER, "")
        if hub != self._hub_user:
            self._hub_user = hub
            self.hub_user_changed.emit(hub)
        self._on_selection()
        self.logins_changed.emit()

    def _load_failed(self, exc: BaseException) -> bool:
        if isinstance(exc, CredentialsError):
            self.message.setText(str(exc))
            self.message.show()
            self.model.set_rows({})
            self.logins_changed.emit()
            return True
        return False

    def selected_server(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        proxy = self.table.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        return self.model.id_at(proxy.mapToSource(rows[0]).row())

    def _on_selection(self, *_args: Any) -> None:
        self.sign_out_button.setEnabled(self.selected_server() is not None)

    # -- actions -------------------------------------------------------------------------------
    def open_sign_in(self, server: str | None = None) -> SignInDialog:
        """Open the sign-in dialog (non-modal); the list reloads after a successful sign-in."""
        from app.dialogs.frame import release_when_finished

        dialog = SignInDialog(self.ctx, server, self, store=self._store)
        dialog.signed_in.connect(self._reload)
        release_when_finished(dialog)  # deleted once closed: no hidden windows pile up
        dialog.show()
        self.dialog = dialog
        return dialog

    def sign_out(self, server: str) -> asyncio.Task[Any]:
        """Forget the login for ``server`` (keyring and index)."""
        return self.ctx.runner.run(lambda: asyncio.to_thread(self.store.erase, server),
                                   key=f"accounts.signout.{server}",
                                   title=f"Sign out of {display_server(server)}",
                                   on_done=guarded(self, self._reload))

    def _reload(self, *_args: Any) -> None:
        self.refresh()

    def sign_out_selected(self) -> None:
        server = self.selected_server()
        if server is not None:
            self.sign_out(server)

    def ask(self, title: str, text: str) -> bool:
        """Yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def enable_docker_cli(self) -> asyncio.Task[Any] | None:
        """Install the helper on PATH and set ``credsStore``; ask before moving plaintext logins."""
        from engine.credentials import dockerconfig

        try:
            plaintext = dockerconfig.plaintext_logins()
        except CredentialsError as exc:  # a corrupt config.json: say which, change nothing
            self.cli_note.setText(str(exc))
            return None
        migrate = bool(plaintext) and self.ask(
            "Move saved passwords into the keyring?",
            "The docker CLI keeps these logins in plaintext in "
            f"{dockerconfig.config_path()}:\n\n"
            + "\n".join(f"  {display_server(p.server)} ({p.username})" for p in plaintext)
            + "\n\nMove them into the keyring and remove them from the file? If you don't, "
            "the docker CLI stops using them once Portside's keyring is on.",
        )

        def _enable() -> str:
            from engine.credentials import toggle

            # config.json stays as it is when the shell cannot find the helper (the message
            # says what to add to PATH): the CLI would fail every pull without it.
            return toggle.turn_on(migrate=migrate, store=self._store,
                                  retry=toggle.GUI_RETRY).message

        return self.ctx.runner.run(lambda: asyncio.to_thread(_enable), key="accounts.cli",
                                   title="Use Portside's keyring for the docker CLI",
                                   on_done=guarded(self, self._cli_done),
                                   on_error=guarded(self, self._cli_failed))

    def disable_docker_cli(self) -> asyncio.Task[Any]:
        """Stop using Portside for the docker CLI: put back the ``credsStore`` it replaced."""
        def _disable() -> str:
            from engine.credentials import toggle

            return toggle.turn_off().message

        return self.ctx.runner.run(lambda: asyncio.to_thread(_disable), key="accounts.cli",
                                   title="Stop using Portside for the docker CLI",
                                   on_done=guarded(self, self._cli_done),
                                   on_error=guarded(self, self._cli_failed))

    def _cli_done(self, note: str) -> None:
        self.cli_note.setText(note)
        self.refresh()

    def _cli_failed(self, exc: BaseException) -> bool:
        """Credential problems (corrupt config.json, no keyring) are shown in the view."""
        if isinstance(exc, CredentialsError):
            self.cli_note.setText(str(exc))
            self.refresh()
            return True
        return False


def _cli_status() -> tuple[str, bool, bool]:
    """A sentence about the docker CLI's credential store; whether the CLI uses Portside's
    keyring and finds the helper on the user's shell PATH; whether ``credsStore`` is Portside's.
    """
    from engine.credentials import toggle

    status = toggle.describe()
    return status.text, status.working, status.configured
