"""Frame of the read-only details dialogs (volume, network): facts above, a table of users below.

Data flow: the dialog opens at once with "Loading…" and its ``fact_names`` showing "…";
:meth:`DetailsDialog.load` runs the subclass's ``fetch(client)`` coroutine through the runner
(keyed per object, so a second open of the same object supersedes the first), and its result goes
to ``apply`` on the GUI thread, which fills the facts (:meth:`DetailsDialog.set_fact`, labels with
:func:`labels_text`) and the table with its summary line (:meth:`DetailsDialog.show_rows`). An
engine error is shown in the dialog, not in a message box. Nothing is polled: Refresh reads again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import FieldErrorLabel, guarded
from app.dialogs.frame import PortsideDialog, WrapLabel
from app.dialogs.operation import describe
from app.models.keyed import Column, KeyedTableModel

if TYPE_CHECKING:
    from app.context import AppContext


def labels_text(labels: Mapping[str, Any] | None) -> str:
    """An object's labels as ``key=value, …`` sorted by key, or "none"."""
    return ", ".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "none"


def count_of(count: int, noun: str) -> str:
    """``1 container``, ``2 containers``."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


class DetailsDialog(PortsideDialog):
    """Facts (label: value, wrapped) + a titled table + Refresh/Close."""

    kind = "object"
    #: the facts shown, in order, as "…" until the first read answers
    fact_names: tuple[str, ...] = ()

    def __init__(
        self,
        ctx: AppContext,
        key: str,
        title: str,
        columns: tuple[Column, ...],
        table_title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.key = key
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.resize(680, 460)
        self.facts = QFormLayout()
        self.facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._fact_labels: dict[str, WrapLabel] = {}
        self.summary = WrapLabel("Loading…", self)
        self.table_title = QLabel(table_title, self)
        self.model = KeyedTableModel(columns, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName(table_title)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        from app.widgets.columns import ColumnFitter

        ColumnFitter.install(self.table)  # headers and addresses whole when there is room
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table_title.setBuddy(self.table)
        self.error = FieldErrorLabel(self)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.refresh_button = self.buttons.addButton(
            "Refresh", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.refresh_button.clicked.connect(self.load)
        self.buttons.rejected.connect(self.reject)
        close = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self.set_default_button(close, self.buttons)
        self.first_field = self.table
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(self.facts)
        lay.addSpacing(6)
        lay.addWidget(self.table_title)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.task: Any = None
        self.loaded = False
        for name in self.fact_names:
            self.set_fact(name, "…")

    def set_fact(self, label: str, value: str) -> WrapLabel:
        """Show ``label: value`` (added on first use, updated afterwards)."""
        shown = value or "—"
        widget = self._fact_labels.get(label)
        if widget is None:
            widget = WrapLabel(shown, self)
            widget.setAccessibleDescription(label)
            self.facts.addRow(f"{label}:", widget)
            self._fact_labels[label] = widget
        else:
            widget.setText(shown)
        return widget

    def show_rows(self, rows: dict[str, dict[str, Any]], summary: str) -> None:
        """The table's rows (keyed by id) and the summary line above the facts."""
        self.model.set_rows(rows)
        self.summary.setText(summary)

    def fact(self, label: str) -> str:
        widget = self._fact_labels.get(label)
        return widget.text() if widget is not None else ""

    def load(self) -> Any:
        client = self.ctx.client
        self.error.show_error("")
        if client is None:
            self.error.show_error("Not connected to the engine. Start it, then press Refresh.")
            return None
        self.task = self.ctx.runner.run(
            lambda: self.fetch(client),
            key=f"details.{self.kind}.{self.key}",
            title=f"{self.kind.capitalize()} details",
            on_done=guarded(self, self._loaded),
            on_error=guarded(self, self._failed),
        )
        return self.task

    async def fetch(self, client: Any) -> Any:
        raise NotImplementedError

    def apply(self, result: Any) -> None:
        raise NotImplementedError

    def _loaded(self, result: Any) -> None:
        self.apply(result)
        self.loaded = True
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)

    def _failed(self, exc: BaseException) -> bool:
        self.summary.setText("")
        self.error.show_error(f"Could not read the {self.kind}: {describe(exc)}")
        return True
