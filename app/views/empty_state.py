"""The empty state of a list view: what is (not) there, and the next step as buttons.

A view puts an :class:`EmptyState` next to its table and calls :meth:`EmptyState.attach` with its
model and a "has the first list arrived" test; the widget then shows itself (and hides the table)
whenever the model holds no rows, recomputed on every signal that can change the count
(:func:`app.models.keyed.watch_row_count`) and whenever the view calls :meth:`EmptyState.update_now`
(e.g. after its first, empty, resync — a list of nothing emits no row signal).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.models.keyed import watch_row_count


class EmptyState(QWidget):
    """A centred title, a sentence and one button per next step; hidden while there are rows."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        for label in (self.title, self.text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.buttons: dict[str, QPushButton] = {}
        self._row = QHBoxLayout()
        self._row.addStretch(1)
        self._row.addStretch(1)  # buttons go between the two stretches
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addLayout(self._row)
        layout.addStretch(2)
        self._model: QAbstractItemModel | None = None
        self._ready: Callable[[], bool] = lambda: True
        self._companions: list[QWidget] = []
        self.was_listed = False
        self.hide()

    def add_button(self, key: str, text: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(lambda _checked=False: slot())
        self._row.insertWidget(self._row.count() - 1, button)
        self.buttons[key] = button
        return button

    def attach(
        self,
        model: QAbstractItemModel,
        ready: Callable[[], bool],
        companions: list[QWidget] | None = None,
    ) -> None:
        """Follow ``model``; ``companions`` (the table) are hidden while the state shows."""
        self._model = model
        self._ready = ready
        self._companions = list(companions or [])
        watch_row_count(model, self.update_now)
        self.update_now()

    def listed(self) -> None:
        """The view's first (or a new) full list was applied: empty now means empty."""
        self.was_listed = True
        self.update_now()

    def update_now(self) -> None:
        empty = self._model is not None and self._model.rowCount() == 0 and self._ready()
        self.setVisible(empty)
        for widget in self._companions:
            widget.setVisible(not empty)


def install_empty_state(
    view: Any, title: str, text: str, steps: list[tuple[str, Callable[[], object]]]
) -> EmptyState:
    """An :class:`EmptyState` under a ``ResourceView``'s table, in its place while it is empty.

    The view calls :meth:`EmptyState.listed` after its full list was applied (an empty list
    emits no row signal; only then is "empty" known rather than "not listed yet").
    """
    state = EmptyState(title, text)
    for n, (label, slot) in enumerate(steps):
        state.add_button(str(n), label, slot)
    layout = view.content.layout()
    layout.insertWidget(layout.indexOf(view.table) + 1, state, 1)
    state.attach(view.model, lambda: state.was_listed, [view.table])
    return state
