"""The Files tab's table: one folder's :class:`engine.archive.Entry` rows.

Data flow: :class:`app.views.container_page.files_tab.FilesTab` lists a folder through
:class:`engine.archive.Archive` (a runner task on the qasync loop) and hands the entries to
:meth:`FilesModel.set_entries` (one reset per folder: a new folder is a brand-new query).
Folders come first, then files, by name. Read-only; ``data`` only formats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QStyle

from engine.archive import Entry
from engine.stats_calc import format_bytes

COLUMNS = ("Name", "Size", "Mode", "Modified", "Link target")
Index = QModelIndex | QPersistentModelIndex


def size_text(entry: Entry) -> str:
    """Bytes (a folder's: the files under it); blank for links and for unknown sizes (-1)."""
    if entry.is_link or entry.size < 0:
        return ""
    return format_bytes(entry.size)


def time_text(mtime: float) -> str:
    """Local time; blank when unknown (< 0). Many image files really have time 0 (1970)."""
    if mtime < 0:
        return ""
    return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M:%S")


class FilesModel(QAbstractTableModel):
    """Rows = the entries of one folder; columns = :data:`COLUMNS`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[Entry] = []

    def set_entries(self, entries: list[Entry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def entry(self, row: int) -> Entry | None:
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def row_of(self, name: str) -> int:
        for row, e in enumerate(self.entries):
            if e.name == name:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        e = self.entry(index.row()) if index.isValid() else None
        if e is None:
            return None
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if col == 0:
                return e.name + ("/" if e.is_dir else "")
            if col == 1:
                return size_text(e)
            if col == 2:
                return e.mode_text
            if col == 3:
                return time_text(e.mtime)
            if col == 4:
                return e.link_target
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            style = QApplication.style()
            icon = (
                QStyle.StandardPixmap.SP_FileLinkIcon
                if e.is_link
                else QStyle.StandardPixmap.SP_DirIcon
                if e.is_dir
                else QStyle.StandardPixmap.SP_FileIcon
            )
            return style.standardIcon(icon)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole and col == 0:
            kind = "link" if e.is_link else "folder" if e.is_dir else "file"
            return f"{e.name}, {kind}"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        e = self.entry(index.row())
        if e is not None and e.is_dir:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        return flags
