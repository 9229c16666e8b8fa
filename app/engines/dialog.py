"""The Engines window: every engine Portside knows, its state, version and OS/arch, and actions.

Data flow: rows come from the window's :class:`app.engines.switcher.EngineSwitcher` (its list
and current engine) into an :class:`app.engines.model.EnginesModel`, which probes each engine
when the window opens and on Refresh. **Use** (also Enter or a double-click on a row) switches
the whole app through the switcher; **Add…**/**Edit…** open
:class:`app.engines.edit_dialog.EngineEditDialog`; **Remove** forgets an added engine (after
asking; not the one in use); **Export as docker context…** writes the engine as a docker CLI
context (``engine.engines.export_context``) so ``docker --context NAME`` reaches it too. The
window is not tied to one engine: it stays open across switches.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import PortsideDialog, WrapLabel
from app.engines.edit_dialog import EngineEditDialog
from app.engines.model import EnginesModel
from app.models.keyed import ID_ROLE
from engine.engines import EngineEntry, export_context, remove_engine
from engine.errors import PortsideError


def context_name_for(entry: EngineEntry) -> str:
    """A docker context name made from the entry's name (letters, digits, _.+-)."""
    name = re.sub(r"[^a-zA-Z0-9_.+-]+", "-", entry.name).strip("-._+").lower()
    return name if len(name) >= 2 and name != "default" else "portside-engine"


class EnginesDialog(PortsideDialog):
    """Engines list + Use / Add / Edit / Remove / Export / Refresh."""

    survives_engine_switch = True

    def __init__(self, switcher: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.switcher = switcher
        self.setWindowTitle("Engines")
        self.model = EnginesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Engines")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        # every cell whole (socket paths are long): the table scrolls sideways instead
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.doubleClicked.connect(lambda _i: self.use_selected())
        self.status = WrapLabel()
        self.status.setObjectName("muted")
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, name, slot in (
            ("use", "Use", "Use the selected engine", self.use_selected),
            ("add", "Add…", "Add an engine", self.add),
            ("edit", "Edit…", "Edit the selected engine", self.edit_selected),
            ("remove", "Remove", "Remove the selected engine", self.remove_selected),
            ("export", "Export as docker context…", "Export as docker context",
             self.export_selected),
            ("refresh", "Refresh", "Check every engine again", self.refresh),
        ):
            button = QPushButton(text)
            button.setAccessibleName(name)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, s=slot: s())
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.set_default_button(self.buttons["use"])
        self.first_field = self.table
        self.edit_dialog: EngineEditDialog | None = None
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        switcher.changed.connect(self._fill)
        self._fill()  # probes every engine once
        self.resize(980, 420)

    # -- rows ---------------------------------------------------------------------------------
    def _fill(self) -> None:
        self.model.set_entries(self.switcher.entries, self.switcher.current_id)
        if self.switcher.problem:
            self.status.setText(self.switcher.problem)
        if not self.table.selectionModel().hasSelection():
            self.select(self.switcher.current_id)
        self._update_buttons()

    def select(self, entry_id: str) -> None:
        row = self.model.row_for(entry_id)
        if row >= 0:
            self.table.selectRow(row)

    def selected(self) -> EngineEntry | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        entry_id = str(self.model.data(rows[0], ID_ROLE) or "")
        return self.model.entries.get(entry_id)

    def _update_buttons(self, *_: Any) -> None:
        entry = self.selected()
        self.buttons["use"].setEnabled(entry is not None and entry.id != self.switcher.current_id)
        editable = entry is not None and entry.editable
        self.buttons["edit"].setEnabled(editable)
        self.buttons["remove"].setEnabled(editable)
        self.buttons["export"].setEnabled(entry is not None)

    def refresh(self) -> None:
        self.switcher.reload()
        self.model.probe_all()

    # -- actions ------------------------------------------------------------------------------
    def use_selected(self) -> None:
        entry = self.selected()
        if entry is None or entry.id == self.switcher.current_id:
            return
        if self.switcher.switch_to(entry.id, parent=self) is None:
            self.status.setText(f"Portside still uses {self.switcher.current_name()}.")
        else:
            self.status.setText(f"Portside now uses {entry.name}.")
        self._update_buttons()

    def add(self) -> EngineEditDialog:
        return self._open_editor(None)

    def edit_selected(self) -> EngineEditDialog | None:
        entry = self.selected()
        if entry is None or not entry.editable:
            return None
        return self._open_editor(entry)

    def _open_editor(self, entry: EngineEntry | None) -> EngineEditDialog:
        dialog = EngineEditDialog(entry, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._saved)
        self.edit_dialog = dialog
        dialog.open()
        return dialog

    def _saved(self, entry: EngineEntry) -> None:
        self.switcher.reload()  # the new or changed entry is probed as it lands
        self.select(entry.id)
        self.status.setText(f"Saved {entry.name} ({entry.url}).")

    def remove_selected(self, *, confirm: bool = True) -> bool:
        entry = self.selected()
        if entry is None or not entry.editable:
            return False
        if entry.id == self.switcher.current_id:
            self.status.setText(
                f"{entry.name} is the engine in use: switch to another one first, then remove it."
            )
            return False
        if confirm:
            answer = QMessageBox.question(
                self, "Remove engine",
                f"Remove {entry.name} ({entry.url}) from Portside? The engine itself is not "
                "touched; Portside's copies of its TLS files are deleted.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            remove_engine(entry.id)
        except (PortsideError, OSError) as exc:
            self.status.setText(f"{entry.name} was not removed: {exc}")
            return False
        self.switcher.reload()
        self.status.setText(f"Removed {entry.name}.")
        return True

    def export_selected(self, name: str | None = None, *, replace: bool = False) -> str:
        """Write the selected engine as docker context ``name`` (asked when None)."""
        entry = self.selected()
        if entry is None:
            return ""
        if name is None:
            name, ok = QInputDialog.getText(
                self, "Export as docker context", "Context name:", QLineEdit.EchoMode.Normal,
                context_name_for(entry),
            )
            if not ok:
                return ""
        try:
            export_context(entry, name.strip(), replace=replace)
        except PortsideError as exc:
            if "exists already" in str(exc) and not replace and self._ask_replace(name):
                return self.export_selected(name, replace=True)
            self.status.setText(str(exc))
            return ""
        except OSError as exc:
            self.status.setText(f"The docker context was not written: {exc}")
            return ""
        text = f"Wrote docker context {name}: `docker --context {name} ps` reaches {entry.name}."
        self.status.setText(text)
        return text

    def _ask_replace(self, name: str) -> bool:
        answer = QMessageBox.question(
            self, "Replace docker context", f"A docker context named {name} exists. Replace it?"
        )
        return answer == QMessageBox.StandardButton.Yes

    def done(self, result: int) -> None:
        self.model.close()
        super().done(result)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Delete and self.buttons["remove"].isEnabled():
            self.remove_selected()
            return
        super().keyPressEvent(event)

