"""Settings > Accounts: the Accounts view (app/views/accounts.py) itself, embedded.

Data flow: the same view class as the sidebar's Accounts page, on the same app context and
credential store, so signing in or out here shows there too (both re-read the store; the
sidebar's account button follows the main window's own Accounts view). Its docker CLI credential
helper toggle is part of it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.views.accounts import AccountsView


class AccountsTab(QWidget):
    """Registry logins: sign in, sign out, the docker CLI's credential helper."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.view = AccountsView(window.ctx)
        main = window.main_window
        main_view = getattr(main, "views", {}).get("accounts") if main is not None else None
        if main_view is not None:
            # a login changed here: the main window's view (and the sidebar button) re-read too.
            # Not back the other way: both use the runner key "accounts.refresh", and a refresh
            # answering a refresh would cancel it.
            self.view.logins_changed.connect(lambda: main_view.refresh())
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self.first_field: QWidget = self.view.table
