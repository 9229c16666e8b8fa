"""The container page's Terminal tab: choose a shell and a user, open terminals in tabs.

Data flow: the page calls :meth:`TerminalTab.container_changed` with every fresh inspect; the tab
remembers whether the container runs (a stopped or paused container gets a clear message instead
of a terminal; terminals already open say their shell ended). "Open terminal" (and the "+"
button beside the terminal tabs) makes a :class:`TerminalPane` with the chosen command (the
Shell box: ``sh``, ``bash``, ``ash``, ``zsh`` or any command line, split like a shell would)
and user, which starts its own exec. Several terminals run side by side, one tab each; closing a
tab (or the page: :meth:`close_tab`) ends its exec in the container too. "Open in system
terminal" runs ``docker exec -it`` with the same choice in the user's own terminal emulator,
against the engine the app is connected to (:mod:`.system_terminal`).
"""

from __future__ import annotations

import shlex
import subprocess
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.views.container_page.terminal.pane import TerminalPane
from app.views.container_page.terminal.session import ShellTarget
from app.views.container_page.terminal.system_terminal import (
    NoTerminalError,
    open_system_terminal,
)

SHELLS = ("sh", "bash", "ash", "zsh")
NOT_RUNNING = "The container is not running. Start it to open a terminal."
PAUSED = "The container is paused. Resume it to open a terminal."
GONE = "The container was removed."
STOPPED = "The container stopped, and its shell with it. Start it, then press Reconnect."


class TerminalTab(QWidget):
    """Interactive shells in one container (the container page's "Terminal" tab)."""

    title: ClassVar[str] = "Terminal"

    def __init__(self, ctx: Any, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.container_id = container_id
        self.container_name = ""  # from the page's inspect (container_changed); names terminals
        self._state_message = ""  # why no terminal can open now ("" = it can)
        self._counter = 0
        self._closed = False
        # Kept on the Python side too, so close_tab() works even after Qt deleted the widgets.
        self._panes: list[TerminalPane] = []

        self.shell = QComboBox(self)
        self.shell.setEditable(True)
        self.shell.addItems(SHELLS)
        self.shell.setAccessibleName("Shell or command")
        self.shell.setToolTip("sh, bash… or any command line to run with a terminal")
        self.shell.setMinimumContentsLength(12)
        line_edit = self.shell.lineEdit()
        if line_edit is not None:
            line_edit.setAccessibleName("Shell or command")
            line_edit.returnPressed.connect(self.open_terminal)
        shell_label = QLabel("&Shell:", self)
        shell_label.setBuddy(self.shell)

        self.user = QLineEdit(self)
        self.user.setPlaceholderText("image default")
        self.user.setAccessibleName("User")
        self.user.setToolTip("A user name or UID (optionally :group); empty for the image's user")
        self.user.returnPressed.connect(self.open_terminal)
        user_label = QLabel("&User:", self)
        user_label.setBuddy(self.user)

        self.open_button = QPushButton("&Open terminal", self)
        self.open_button.setObjectName("primaryButton")
        self.open_button.setAccessibleName("Open terminal")
        self.open_button.clicked.connect(self.open_terminal)
        self.system_button = QPushButton("Open in s&ystem terminal", self)
        self.system_button.setAccessibleName("Open in system terminal")
        self.system_button.setToolTip("Run docker exec -it in your own terminal application")
        self.system_button.clicked.connect(self.open_in_system_terminal)

        bar = QHBoxLayout()
        bar.addWidget(shell_label)
        bar.addWidget(self.shell)
        bar.addSpacing(8)
        bar.addWidget(user_label)
        bar.addWidget(self.user)
        bar.addSpacing(8)
        bar.addWidget(self.open_button)
        bar.addWidget(self.system_button)
        bar.addStretch(1)

        self.message = QLabel(self)
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        self.message.hide()

        self.tabs = QTabWidget(self)
        self.tabs.setAccessibleName("Terminals")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_terminal)
        self.new_button = QToolButton(self)
        self.new_button.setText("+")
        self.new_button.setAccessibleName("New terminal")
        self.new_button.setToolTip("New terminal with the chosen shell and user")
        self.new_button.clicked.connect(self.open_terminal)
        self.tabs.setCornerWidget(self.new_button, Qt.Corner.TopRightCorner)

        self.empty = QLabel(
            "Choose a shell (and a user, if not the image's own), then Open terminal.", self
        )
        self.empty.setObjectName("muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tabs)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.stack, 1)

    # -- what to run ----------------------------------------------------------------------------
    def command(self) -> list[str]:
        """The Shell box as a command (raises ValueError on unbalanced quotes)."""
        return shlex.split(self.shell.currentText().strip()) or ["sh"]

    def panes(self) -> list[TerminalPane]:
        """The open terminals, in the order they were opened."""
        return list(self._panes)

    def current_pane(self) -> TerminalPane | None:
        pane = self.tabs.currentWidget()
        return pane if isinstance(pane, TerminalPane) else None

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- actions -------------------------------------------------------------------------------
    def open_terminal(self) -> TerminalPane | None:
        """A new terminal tab running the chosen shell (or the reason it cannot open)."""
        if self._closed:
            return None
        if self._state_message:
            self.say(self._state_message)
            return None
        try:
            command = self.command()
        except ValueError as exc:
            self.say(f"The command cannot be read ({exc}): check its quotes.")
            return None
        self.say("")
        self._counter += 1
        target = ShellTarget.of(self.container_id, command, self.user.text(), self.container_name)
        pane = TerminalPane(self._ctx, target, self)
        self._panes.append(pane)
        index = self.tabs.addTab(pane, f"{command[0]} {self._counter}")
        self.tabs.setTabToolTip(index, " ".join(command))
        self.tabs.setCurrentIndex(index)
        self.stack.setCurrentWidget(self.tabs)
        pane.connect_session()
        pane.setFocus()
        return pane

    def close_terminal(self, index: int) -> None:
        pane = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if isinstance(pane, TerminalPane):
            if pane in self._panes:
                self._panes.remove(pane)
            pane.close_pane()
            pane.deleteLater()
        if self.tabs.count() == 0:
            self.stack.setCurrentWidget(self.empty)

    def open_in_system_terminal(self) -> None:
        if self._state_message:
            self.say(self._state_message)
            return
        client = self._ctx.client
        if client is None:
            self.say("Not connected to the engine.")
            return
        try:
            command = self.command()
            argv = open_system_terminal(
                client.endpoint.url, self.container_id, command, self.user.text().strip()
            )
        except ValueError as exc:
            self.say(f"The command cannot be read ({exc}): check its quotes.")
        except NoTerminalError as exc:
            self.say(str(exc))
        except (OSError, subprocess.SubprocessError) as exc:
            self.say(f"The terminal application could not be started: {exc}")
        else:
            self.say(f"Opened {argv[0].rsplit('/', 1)[-1]} with docker exec -it … {command[0]}.")

    # -- PageTab -------------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        if active:
            pane = self.current_pane()
            # keys go to the shell at once; with no terminal yet, to the shell choice
            (pane or self.shell).setFocus()

    def container_changed(self, details: Any) -> None:
        self.container_name = getattr(details, "name", "") or self.container_name
        if details is None:
            self._state_message = GONE
        elif getattr(details, "paused", False):
            self._state_message = PAUSED
        elif not getattr(details, "running", False):
            self._state_message = NOT_RUNNING
        else:
            self._state_message = ""
        self.say(self._state_message)
        note = GONE if details is None else STOPPED if self._state_message == NOT_RUNNING else ""
        for pane in self._panes:
            pane.container_note(note)

    def close_tab(self) -> None:
        """End every terminal (their execs too); idempotent."""
        if self._closed:
            return
        self._closed = True
        for pane in self._panes:
            pane.close_pane()
