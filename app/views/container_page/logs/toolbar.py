"""The toolbar over a log view, shared by the Logs tab and the merged logs window.

Follow, Timestamps, Wrap, the owner's own buttons (the tab's Load earlier and Copy), Save…,
Clear, in one row (a layout, so the owner's widget tree, tab order and accessibility tree are
what they were when each owner built its own row). What is the same in both owners runs here, on
the GUI thread, straight on the :class:`~.view.LogView`: Follow turns following on and off and
is turned back when the user scrolls the view (``follow_changed``; no signal loop), Timestamps
and Wrap change how the buffer is drawn, Clear empties the view's buffer (the containers' logs
are kept). Save… asks for a file and emits ``save_requested(Path)``: the owner writes it and
says, its own way, when it could not. The owner adds what only it has (the tab's line cap and
status) to the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QToolButton, QWidget

from app.views.container_page.logs.view import LogView


def tool_button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    """A text tool button with a tooltip, as every button of the log toolbars is."""
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    return button


class LogToolbar(QHBoxLayout):
    """Follow, Timestamps, Wrap, ``middle``…, Save…, Clear over ``view``, in a row layout.

    Signals:
        save_requested(Path): the user picked a file to save the shown lines to.
    """

    save_requested = Signal(object)

    def __init__(
        self,
        view: LogView,
        *,
        follow_tip: str,
        clear_tip: str,
        save_name: str,
        middle: Sequence[QWidget] = (),
    ) -> None:
        super().__init__()
        self.view = view
        self.save_name = save_name
        self.follow = tool_button("Follow", follow_tip, checkable=True)
        self.follow.setChecked(True)
        self.timestamps = tool_button("Timestamps", "Show when each line was written", True)
        self.wrap = tool_button("Wrap", "Wrap long lines", checkable=True)
        self.save = tool_button("Save…", "Save the shown lines to a file")
        self.clear = tool_button("Clear", clear_tip)
        self.setContentsMargins(0, 0, 0, 0)
        for w in (self.follow, self.timestamps, self.wrap, *middle, self.save, self.clear):
            self.addWidget(w)

        self.follow.toggled.connect(view.set_following)
        view.follow_changed.connect(self._follow_changed)
        self.timestamps.toggled.connect(self._set_timestamps)
        self.wrap.toggled.connect(view.set_wrap)
        self.save.clicked.connect(self._ask_save)
        self.clear.clicked.connect(self.clear_view)

    def _follow_changed(self, on: bool) -> None:
        self.follow.blockSignals(True)
        self.follow.setChecked(on)
        self.follow.blockSignals(False)

    def _set_timestamps(self, on: bool) -> None:
        self.view.show_timestamps = on
        self.view.redraw()

    def _ask_save(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self.parentWidget(), "Save logs", self.save_name, "Log files (*.log *.txt)"
        )
        if name:
            self.save_requested.emit(Path(name))

    def clear_view(self) -> None:
        """Empty the view (its buffer); what the engine keeps of the logs is untouched."""
        self.view.buffer.clear()
        self.view.redraw()
