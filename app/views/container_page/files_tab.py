"""The Files tab: browse a container's file system, download and upload files and folders.

Data flow: everything goes through :class:`engine.archive.Archive` (the engine's archive
endpoints, which work on stopped containers too) as runner tasks on the qasync loop, one at a
time per tab (key ``files.<id>``; a new listing cancels an older one). A folder is listed from
the headers of the engine's tar of it (see :mod:`engine.archive` for why and what it costs);
while that tar streams, the bar below the table shows the bytes read and a Cancel button.
Downloads extract into a local folder the user picks (in a worker thread, refusing paths that
leave it); uploads come from the buttons or from files dropped on the table (on a folder row:
into that folder; elsewhere: into the folder shown). Transfers show progress and can be
cancelled; errors are shown in the tab in words that say what to do, not in a dialog.

The folder is listed the first time the tab becomes active; after that only on Refresh (F5),
navigation, or after an upload into the folder shown.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.views.container_page.files.errors import explain
from app.views.container_page.files.model import FilesModel
from app.views.container_page.files.table import FilesTable
from engine.archive import Archive, Entry, normalize, parent_of
from engine.stats_calc import format_bytes

log = logging.getLogger(__name__)


class FilesTab(QWidget):
    """Browse / download / upload through the archive endpoints (see the module docstring)."""

    title = "Files"

    def __init__(self, ctx: Any, container_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id = container_id
        self.folder = "/"
        self._loaded = False
        self._closed = False
        self._removed = False
        self._task: Any = None
        self._transfer = False  # a download/upload runs: navigation waits for it
        # from container_changed; until then assume running: a stopped container's big folder
        # then costs one refused exec before its whole tar (engine.archive.Archive.listdir)
        self._running: bool | None = None
        self._after_list = ""  # said again after the re-list that follows an upload
        self.last_download: Any = None  # the DownloadResult of the last download (tests)

        self.up_button = QPushButton("Up")
        self.up_button.setAccessibleName("Up one folder")
        self.up_button.setToolTip("Up one folder (Alt+Up, Backspace)")
        self.up_button.setShortcut(QKeySequence("Alt+Up"))
        self.up_button.clicked.connect(self.go_up)
        self.path_bar = QLineEdit("/")
        self.path_bar.setAccessibleName("Folder path")
        self.path_bar.setToolTip("Type a folder (or a file's) path and press Enter")
        self.path_bar.returnPressed.connect(lambda: self.open_path(self.path_bar.text()))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAccessibleName("Refresh the folder")
        self.refresh_button.setShortcut(QKeySequence("F5"))
        self.refresh_button.clicked.connect(self.refresh)
        self.download_button = QPushButton("Download…")
        self.download_button.setAccessibleName("Download the selected file or folder")
        self.download_button.clicked.connect(self.download_selected)
        self.upload_button = QPushButton("Upload files…")
        self.upload_button.setAccessibleName("Upload files into this folder")
        self.upload_button.clicked.connect(self.upload_files)
        self.upload_dir_button = QPushButton("Upload folder…")
        self.upload_dir_button.setAccessibleName("Upload a folder into this folder")
        self.upload_dir_button.clicked.connect(self.upload_folder)
        bar = QHBoxLayout()
        bar.addWidget(self.up_button)
        bar.addWidget(self.path_bar, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.download_button)
        bar.addWidget(self.upload_button)
        bar.addWidget(self.upload_dir_button)

        self.model = FilesModel(self)
        self.table = FilesTable()
        self.table.setAccessibleName("Files in the folder")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(self._activated)  # Enter, and double-click
        self.table.files_dropped.connect(self._dropped)
        self.table.go_up.connect(self.go_up)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Transfer progress")
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the transfer")
        self.cancel_button.clicked.connect(self.cancel)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self._busy_row = QWidget()
        self._busy_row.setLayout(busy)
        self._busy_row.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._busy_row)
        layout.addWidget(self.message)
        self._say("")

    # -- the PageTab protocol --------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        if active and not self._loaded and not self._closed:
            self._loaded = True
            self.refresh()

    def container_changed(self, details: Any) -> None:
        # a running container's big folders are listed by exec (engine.archive_exec)
        self._running = details is not None and bool(details.running)
        if details is None:
            self._removed = True
            self.cancel()
            for w in (self.upload_button, self.upload_dir_button, self.download_button):
                w.setEnabled(False)
            self.refresh_button.setEnabled(False)
            self._say("The container was removed: its files are gone.", error=True)

    def close_tab(self) -> None:
        self._closed = True
        self.cancel()

    # -- navigation ------------------------------------------------------------------------
    def refresh(self) -> None:
        self.list_folder(self.folder)

    def go_up(self) -> None:
        if self.folder != "/":
            self.list_folder(parent_of(self.folder), select=posixpath.basename(self.folder))

    def open_path(self, text: str) -> None:
        """The path bar: a folder is listed; a file's folder is listed with the file selected."""
        path = normalize(text)

        async def _go(archive: Archive) -> Entry:
            return await archive.stat(path)

        def _done(entry: Entry) -> None:
            if entry.is_dir:
                self.list_folder(path)
            elif entry.is_link:
                self._follow(entry)
            else:
                self.list_folder(parent_of(path), select=entry.name)

        self._run(_go, _done, f"Opening {path}…")

    def list_folder(self, folder: str, select: str | None = None) -> None:
        folder = normalize(folder)
        self.path_bar.setText(folder)

        async def _go(archive: Archive) -> list[Entry]:
            running = self._running is not False
            return await archive.listdir(folder, self._progress, running=running)

        def _done(entries: list[Entry]) -> None:
            self.folder = folder
            self.path_bar.setText(folder)
            self.model.set_entries(entries)
            n = len(entries)
            self._say(
                f"{n} item{'s' if n != 1 else ''} in {folder}." if n else f"{folder} is empty."
            )
            row = self.model.row_of(select) if select else -1
            if n:
                self.table.selectRow(max(row, 0))
            self.table.setFocus()

        self._run(_go, _done, f"Reading {folder}…")

    def _activated(self, index: QModelIndex) -> None:
        entry = self.model.entry(index.row())
        if entry is None:
            return
        if entry.is_dir:
            self.list_folder(entry.path)
        elif entry.is_link:
            self._follow(entry)
        else:
            self.download_selected()

    def _follow(self, link: Entry) -> None:
        """A link: open where it points (relative targets from the link's folder)."""
        target = normalize(posixpath.join(parent_of(link.path), link.link_target))

        async def _go(archive: Archive) -> Entry:
            return await archive.stat(target)

        def _done(entry: Entry) -> None:
            if entry.is_dir:
                self.list_folder(target)
            else:
                self.list_folder(parent_of(target), select=entry.name)

        self._run(_go, _done, f"Following {link.name} → {link.link_target}…")

    def selected(self) -> Entry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.entry(rows[0].row()) if rows else None

    # -- transfers -------------------------------------------------------------------------
    def choose_download_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Download into folder")

    def choose_upload_files(self) -> list[str]:
        files, _filter = QFileDialog.getOpenFileNames(self, "Upload files")
        return list(files)

    def choose_upload_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Upload folder")

    def download_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            self._say("Select a file or folder to download.", error=True)
            return
        dest = self.choose_download_folder()
        if dest:
            self.download(entry, Path(dest))

    def download(self, entry: Entry, dest: Path) -> None:
        size = entry.size if not entry.is_dir and not entry.is_link else None

        async def _go(archive: Archive) -> Any:
            return await archive.download(entry.path, dest, self._progress, size=size)

        def _done(result: Any) -> None:
            self.last_download = result
            text = f"Downloaded {entry.path} to {result.target} ({format_bytes(result.bytes)})."
            if result.skipped:
                text += f" Left out {len(result.skipped)}: " + "; ".join(result.skipped[:3])
            self._say(text)

        self._run(_go, _done, f"Downloading {entry.path}…", transfer=True)

    def upload_files(self) -> None:
        files = self.choose_upload_files()
        if files:
            self.upload([Path(f) for f in files], self.folder)

    def upload_folder(self) -> None:
        folder = self.choose_upload_folder()
        if folder:
            self.upload([Path(folder)], self.folder)

    def _dropped(self, paths: list[Path], row: int) -> None:
        entry = self.model.entry(row)
        self.upload(paths, entry.path if entry is not None and entry.is_dir else self.folder)

    def upload(self, paths: list[Path], folder: str) -> None:
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            self._say(f"Not found on this computer: {', '.join(missing)}.", error=True)
            return
        names = ", ".join(p.name for p in paths[:3]) + ("…" if len(paths) > 3 else "")

        async def _go(archive: Archive) -> int:
            return await archive.upload(paths, folder, self._progress)

        def _done(total: int) -> None:
            self._say(f"Uploaded {names} into {folder} ({format_bytes(total)}).")
            if folder == self.folder:
                text = self.message.text()
                self._transfer = False
                self.list_folder(folder, select=paths[0].name)
                self._after_list = text  # keep saying what was uploaded after the re-list

        self._run(_go, _done, f"Uploading {names} into {folder}…", transfer=True)

    def cancel(self) -> None:
        task, self._task = self._task, None
        self._transfer = False
        if task is not None and not task.done():
            task.cancel()
            self._say("Cancelled.")
        self._busy_row.hide()

    # -- plumbing --------------------------------------------------------------------------
    def _run(
        self,
        work: Callable[[Archive], Awaitable[Any]],
        done: Callable[[Any], None],
        what: str,
        *,
        transfer: bool = False,
    ) -> None:
        """Run one archive operation; a new one replaces a listing, never a transfer."""
        if self._transfer and self._task is not None and not self._task.done():
            self._say("Wait for the transfer to finish, or cancel it.", error=True)
            return
        client = self.ctx.client
        if client is None or self._closed:
            self._say("Not connected to the engine.", error=True)
            return
        if self._removed:
            self._say("The container was removed: its files are gone.", error=True)
            return
        archive = Archive(client, self.container_id)
        self._after_list = ""
        self._transfer = transfer
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self._busy_row.show()
        self._say("")

        def _done(result: Any) -> None:
            if not shiboken6.isValid(self):
                return
            self._busy_row.hide()
            self._transfer = False
            done(result)
            if self._after_list:
                self._say(self._after_list)

        def _failed(exc: BaseException) -> bool:
            if shiboken6.isValid(self):
                self._busy_row.hide()
                self._transfer = False
                self.path_bar.setText(self.folder)  # still the folder shown, not the one asked
                self._say(explain(exc, what), error=True)
            return True

        self._task = self.ctx.runner.run(
            lambda: work(archive),
            key=f"files.{self.container_id}",
            title="Files",
            on_done=_done,
            on_error=_failed,
            work=what.rstrip("…") if transfer else "",  # a listing is not worth a question
        )

    def _progress(self, done: int, total: int | None) -> None:
        if not shiboken6.isValid(self):
            return
        label = self.progress.format().split(" — ")[0]
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
            self.progress.setFormat(f"{label} — {format_bytes(done)} of {format_bytes(total)}")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{label} — {format_bytes(done)}")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setObjectName("fieldError" if error else "muted")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.setText(text)
        self.message.setVisible(bool(text))
