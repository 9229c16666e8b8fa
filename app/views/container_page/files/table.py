"""The Files tab's listing widget: a table that takes local files dropped on it.

A drop of local file URLs emits ``files_dropped(paths, row)`` with the row under the cursor
(-1 when none); :class:`app.views.container_page.files_tab.FilesTab` uploads into that row's
folder, or into the folder shown. Backspace emits ``go_up``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView


class FilesTable(QTableView):
    """The listing; accepts local files dropped on it (``files_dropped(paths, folder row)``)."""

    files_dropped = Signal(list, int)  # [Path], row of the folder dropped on (-1: none)
    go_up = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def _local_paths(self, event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._local_paths(event)
        if not paths:
            event.ignore()
            return
        row = self.indexAt(event.position().toPoint()).row()
        event.acceptProposedAction()
        self.files_dropped.emit(paths, row)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Backspace:
            self.go_up.emit()
            return
        super().keyPressEvent(event)
