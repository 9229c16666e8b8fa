"""A notice bar above the containers list: something the user should see now, with a next step.

Used for "this container exited right after it started": the text (exit code, last log lines),
one action button (open its logs) and a close button. Plain widgets; the view fills it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout


class NoticeBar(QFrame):
    """Word-wrapped text, one action button and a close button; hidden until :meth:`show_notice`."""

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Notice")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.action.clicked.connect(self._run)
        self.close_button = QToolButton()
        self.close_button.setText("Dismiss")
        self.close_button.setAccessibleName("Dismiss notice")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        buttons = QVBoxLayout()
        buttons.addWidget(self.action)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._slot: Callable[[], object] | None = None
        self.hide()

    def show_notice(self, text: str, action: str, slot: Callable[[], object]) -> None:
        self.text.setText(text)
        self.action.setText(action)
        self.action.setAccessibleName(action)
        self._slot = slot
        self.show()

    def _run(self) -> None:
        if self._slot is not None:
            self._slot()
