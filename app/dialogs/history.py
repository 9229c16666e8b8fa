"""An image's history (its layers, newest first): created, created by, size, comment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialogButtonBox, QHeaderView, QTableView, QVBoxLayout, QWidget

from app.dialogs.base import FieldErrorLabel, guarded
from app.dialogs.common import human_age, human_size, short_id
from app.dialogs.frame import PortsideDialog, WrapLabel
from app.dialogs.operation import describe
from app.models.keyed import RIGHT, Column, KeyedTableModel

if TYPE_CHECKING:
    from app.context import AppContext

HISTORY_COLUMNS = (
    Column("created", "Created", format=human_age),
    Column("created_by", "Created by", tooltip=lambda row: str(row.get("created_by") or "")),
    Column("size", "Size", align=RIGHT, format=human_size),
    Column("comment", "Comment"),
    Column("layer", "ID"),
)


def history_rows(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows keyed by position (history ids are ``<missing>`` for layers from a registry)."""
    rows: dict[str, dict[str, Any]] = {}
    for n, entry in enumerate(entries):
        created_by = str(entry.get("CreatedBy") or "")
        created_by = created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ")
        rows[str(n)] = {
            "created": entry.get("Created"),
            "created_by": created_by.strip(),
            "size": int(entry.get("Size") or 0),
            "comment": str(entry.get("Comment") or ""),
            "layer": short_id(str(entry.get("Id") or "")),
            "_search": " ".join(str(t) for t in entry.get("Tags") or ()),
        }
    return rows


class HistoryDialog(PortsideDialog):
    """Loads ``GET /images/{name}/history`` through the runner and shows it in a table."""

    def __init__(self, ctx: AppContext, image: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(f"History of {title}")
        self.resize(820, 420)
        self.model = KeyedTableModel(HISTORY_COLUMNS, self)
        self.table = QTableView(self)
        self.table.setAccessibleName(f"Layers of {title}")
        self.table.setModel(self.model)
        self.first_field = self.table
        self.table.verticalHeader().hide()
        # "Created by" takes the room left (full command in its tooltip); the rest fit their text.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.summary = WrapLabel("Loading…", self)
        self.error = FieldErrorLabel(self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.set_default_button(buttons.button(QDialogButtonBox.StandardButton.Close), buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.task = None
        client = ctx.client
        if client is None:
            self.error.show_error("Not connected to the engine.")
            return
        self.task = ctx.runner.run(
            lambda: client.images.history(image),
            key=f"images.history.{image}",
            title="Image history",
            on_done=guarded(self, self._loaded),
            on_error=guarded(self, self._failed),
        )

    def _loaded(self, entries: list[dict[str, Any]]) -> None:
        self.model.set_rows(history_rows(entries))
        # The header sized its columns on the empty table (ID "5…", Size wrapped to two lines):
        # fit them to the rows now; "Created by" stretches over what is left.
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().resizeSections()
        self.table.resizeRowsToContents()
        total = sum(int(e.get("Size") or 0) for e in entries)
        self.summary.setText(f"{len(entries)} layers, {human_size(total)} in total")

    def _failed(self, exc: BaseException) -> bool:
        self.summary.setText("")
        self.error.show_error(describe(exc))
        return True
