"""One terminal inside the Terminal tab: the widget, its exec session and a status bar.

Data flow: the pane wires a :class:`TerminalWidget` to a :class:`TerminalSession` — output ->
``widget.feed``, ``widget.send`` -> ``session.write``, ``widget.size_changed`` ->
``session.resize`` — and starts the session at the widget's current size. When the session
ends (the shell exited, it is missing, the container stopped) the bar above the terminal shows
the session's message with a Reconnect button, which starts a new exec in the same widget.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.container_page.terminal.session import ShellTarget, TerminalSession
from app.views.container_page.terminal.widget import TerminalWidget


class TerminalPane(QWidget):
    """A terminal and the shell it talks to.

    Signals:
        ended(str): the shell's session ended; the message is also shown in the bar.
    """

    ended = Signal(str)

    def __init__(self, ctx: Any, target: ShellTarget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.target = target
        self.session: TerminalSession | None = None
        self.message = ""
        self._wired = False
        self._note = ""

        self.terminal = TerminalWidget(self)
        self.terminal.setAccessibleName(f"Terminal: {' '.join(target.command)}")

        self.bar = QWidget(self)
        self.notice = QLabel(self.bar)
        self.notice.setObjectName("fieldError")
        self.notice.setWordWrap(True)
        self.reconnect_button = QPushButton("Reconnect", self.bar)
        self.reconnect_button.setAccessibleName("Reconnect the terminal")
        self.reconnect_button.setToolTip("Start the shell again in this terminal")
        self.reconnect_button.clicked.connect(self.connect_session)
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 4)
        row.addWidget(self.notice, 1)
        row.addWidget(self.reconnect_button)
        self.bar.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.terminal, 1)
        self.setFocusProxy(self.terminal)

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    def connect_session(self) -> None:
        """Start a shell (again) in this terminal."""
        old = self.session
        if old is not None:
            self._unwire(old)
            old.close()
            old.deleteLater()
        self.bar.hide()
        self.message = ""
        session = TerminalSession(self._ctx, self.target, self)
        session.output.connect(self.terminal.feed)
        terminal = self.terminal
        session.backlog = lambda: terminal.backlog
        terminal.drained.connect(session.drained)
        session.ended.connect(self._on_ended)
        self.terminal.send.connect(session.write)
        self.terminal.size_changed.connect(session.resize)
        if old is not None:
            self.terminal.feed(b"\r\n")
        self.session = session
        self._wired = True
        session.start(self.terminal.rows, self.terminal.columns)
        self.terminal.setFocus()

    def _on_ended(self, message: str) -> None:
        session = self.session
        if session is None or self.sender() is not session:
            return
        self._unwire(session)
        self.message = message
        self._show_end()
        self.ended.emit(message)

    def container_note(self, note: str) -> None:
        """Why the container cannot run a shell now ("" once it runs again)."""
        self._note = note
        if self.bar.isVisible():
            self._show_end()

    def _show_end(self) -> None:
        # a stopped container says more than the exit code its shell was killed with
        self.notice.setText(self._note or self.message)
        self.reconnect_button.setEnabled(not self._note)
        self.bar.show()

    def _unwire(self, session: TerminalSession) -> None:
        if self._wired:
            self.terminal.send.disconnect(session.write)
            self.terminal.size_changed.disconnect(session.resize)
            self.terminal.drained.disconnect(session.drained)
            self._wired = False

    def close_pane(self) -> None:
        """End the shell (in the container too); idempotent."""
        if self.session is not None:
            self.session.close()
