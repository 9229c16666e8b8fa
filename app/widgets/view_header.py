"""The header every view opens with: its title, how many items it shows, and its primary action.

One row: ``Title  12 images  ·······  [extra widgets…] [Primary action]``. The primary action is a
QAction the view already has (so shortcuts, enabled state and tests keep working through it);
the header shows it as an accent button (text only: an icon tinted for the window's text would
not read on the accent colour) that follows the action's text, tooltip and enabled/visible
state. Looks come from ``app.theme`` through the object names ``viewHeader``,
``viewTitle``, ``viewCount`` and ``primaryButton``.

Usage::

    header = ViewHeader("Images")
    header.set_primary(pull_action)       # or header.add_primary("Pull…", slot)
    header.set_count("3 images")
    layout.insertWidget(0, header)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app.theme import Sizes


def plain(text: str) -> str:
    """A menu text without its mnemonic ampersands ("&Pull…" -> "Pull…")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


class ViewHeader(QWidget):
    """Title + count + primary action of one view."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewHeader")
        self.title = QLabel(title)
        self.title.setObjectName("viewTitle")
        self.count = QLabel()
        self.count.setObjectName("viewCount")
        self.primary: QPushButton | None = None
        self._action: QAction | None = None
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(Sizes.GAP)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.count)
        self._layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_title(self, title: str) -> None:
        self.title.setText(title)

    def set_count(self, text: str) -> None:
        """The count next to the title ("12 images", "4 running · 8 total").

        The row is laid out at once, so a count that grew ("" -> "0 logins") has its room before
        anything paints or measures it, not a LayoutRequest later (a cut count for one frame).
        """
        self.count.setText(text)
        self._layout.activate()

    def add_widget(self, widget: QWidget) -> None:
        """Put ``widget`` on the right, before the primary button."""
        index = self._layout.count() - (1 if self.primary is not None else 0)
        self._layout.insertWidget(index, widget)

    def set_primary(self, action: QAction) -> QPushButton:
        """Show ``action`` as the view's primary button (it follows the action's state)."""
        button = self.primary or QPushButton(self)
        button.setObjectName("primaryButton")
        if self.primary is None:
            self._layout.addWidget(button)
            button.clicked.connect(lambda _checked=False: self._trigger())
        if self._action is not None:
            self._action.changed.disconnect(self._sync)
        self.primary = button
        self._action = action
        action.changed.connect(self._sync)
        self._sync()
        return button

    def add_primary(self, text: str, slot: Callable[[], Any], icon: QIcon | None = None,
                    tip: str = "") -> QAction:
        """Make a QAction for ``slot`` and show it as the primary button; returns the action."""
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(icon)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.set_primary(action)
        return action

    def _trigger(self) -> None:
        if self._action is not None and self._action.isEnabled():
            self._action.trigger()

    def _sync(self) -> None:
        action, button = self._action, self.primary
        if action is None or button is None:
            return
        text = plain(action.text())
        button.setText(text)
        tip = action.toolTip()
        button.setToolTip("" if plain(tip) == text else tip)
        button.setEnabled(action.isEnabled())
        button.setVisible(action.isVisible())
        button.setAccessibleName(text)
