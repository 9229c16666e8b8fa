"""Settings > CLI integration: the panel the first-run wizard shows too (app/cli_integration.py).

Data flow: ``CliIntegrationPanel`` reads the docker CLI's context, current context and credential
helper status in a worker through the app's runner and offers a fix / undo per row; it follows
the engine the app uses (``ctx``). Nothing here besides putting it in the tab.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.cli_integration import CliIntegrationPanel
from app.dialogs.frame import WrapLabel


class CliTab(QWidget):
    """The docker CLI integration rows with their status and buttons."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        intro = WrapLabel(
            "Let the docker command use Portside's engine (a docker context named “portside”) "
            "and its keyring for logins. Nothing changes until you press a button; each can be "
            "undone."
        )
        intro.setObjectName("muted")
        self.panel = CliIntegrationPanel(window.ctx)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.panel)
        layout.addStretch(1)
        self.first_field: QWidget = self.panel
