"""Troubleshoot ▸ Diagnostics: write the diagnostics bundle, with progress, then "Show in folder".

Data flow: "Create diagnostics bundle…" opens a Save dialog; the chosen path and the app's
sources (``files.bundle_sources``: the engine in use, the settings file, the app log) go to
``engine.diagnostics.bundle.build_bundle`` on a worker thread (``asyncio.to_thread`` through the
runner). Its progress callback runs on that thread and hands each step to the GUI thread with
``loop.call_soon_threadsafe``; the bar counts the steps. The result lists the files the zip
holds; "Show in folder" opens the folder in the file manager (``QDesktopServices``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.dialogs.common import human_size
from app.dialogs.frame import WrapLabel
from app.troubleshoot.files import bundle_sources
from app.troubleshoot.parts import action_row, open_save_dialog
from engine.diagnostics.bundle import BundleReport, build_bundle

#: collect() reports about this many steps, then "Writing the zip"
STEPS = 9


class BundlePage(QWidget):
    """One button that writes the bundle, a progress bar, the result and "Show in folder"."""

    def __init__(self, ctx: Any, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings
        self.report: BundleReport | None = None
        self.file_dialog: QFileDialog | None = None
        self.steps: list[str] = []
        intro = WrapLabel(
            "A zip to send to whoever helps you: the versions of Portside, Python, Qt, the OS "
            "and the engine; your settings; the engine log; daemon.json; the VM's settings and "
            "console; the system checks; the docker CLI's view and config.json. Passwords, "
            "tokens, registry logins and private keys are replaced by <redacted>. "
            "`portside diagnostics --out FILE.zip` writes the same zip without the window."
        )
        self.create_button = QPushButton("Create diagnostics bundle…")
        self.create_button.setObjectName("primaryButton")
        self.create_button.clicked.connect(self.ask_path)
        self.progress = QProgressBar()
        self.progress.setRange(0, STEPS + 1)
        self.progress.setAccessibleName("Bundle progress")
        self.progress.hide()
        self.status = WrapLabel("")
        self.status.setAccessibleName("Bundle result")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.contents = QPlainTextEdit()
        self.contents.setReadOnly(True)
        self.contents.setAccessibleName("Files in the bundle")
        self.contents.hide()
        self.show_button = QPushButton("Show in folder")
        self.show_button.setToolTip("Open the folder that holds the bundle")
        self.show_button.clicked.connect(self.show_in_folder)
        self.show_button.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(action_row(self.create_button, self.progress))
        lay.addWidget(self.status)
        lay.addWidget(self.contents, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.show_button)
        lay.addLayout(bottom)
        lay.addStretch(0)

    def ask_path(self) -> QFileDialog:
        """The Save dialog (Qt's own, the same on every desktop); choosing a file starts."""
        self.file_dialog = open_save_dialog(
            self, "Save the diagnostics bundle", "portside-diagnostics-%Y%m%d-%H%M%S.zip",
            "Zip files (*.zip)", "zip", self.write_to,
        )
        return self.file_dialog

    def write_to(self, out: Path) -> Any:
        """Write the bundle to ``out`` on a worker thread, showing each step."""
        loop = asyncio.get_running_loop()
        sources = bundle_sources(self.ctx.engine, self.settings.path)
        status = self.ctx.engine.status
        sources = replace(sources, app_state={
            "engine": getattr(self.ctx.engine, "name", type(self.ctx.engine).__name__),
            "attached": self.ctx.attached,
            "state": status.state.value,
            "endpoint": status.endpoint,
            "pid": status.pid,
            "detail": status.detail,
            "connected": self.ctx.client is not None,
            "connection_detail": getattr(self.ctx, "connection_detail", ""),
            "server_version": getattr(self.ctx, "server_version", ""),
            "api_version": getattr(self.ctx, "api_version", ""),
        })
        self.steps = []
        self.report = None
        self.create_button.setEnabled(False)
        self.show_button.hide()
        self.contents.hide()
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(f"Writing {out}…")

        def progress(text: str) -> None:  # on the worker thread
            loop.call_soon_threadsafe(self._step, text)

        return self.ctx.runner.run(
            lambda: asyncio.to_thread(build_bundle, out, sources, progress),
            key="troubleshoot.bundle",
            title="Diagnostics bundle",
            work=f"Write the diagnostics bundle {out.name}",
            on_done=guarded(self, self._done),
            on_error=guarded(self, self._failed),
        )

    def _step(self, text: str) -> None:
        import shiboken6

        if not shiboken6.isValid(self):
            return
        self.steps.append(text)
        self.progress.setValue(min(len(self.steps), STEPS))
        self.status.setText(f"{text}…")

    def _done(self, report: BundleReport) -> None:
        self.report = report
        self.progress.setValue(self.progress.maximum())
        self.progress.hide()
        self.create_button.setEnabled(True)
        self.status.setText(
            f"Saved {report.path} ({human_size(report.size)}, {len(report.entries)} files, "
            f"{report.seconds:.1f} s). Secrets are replaced by <redacted>."
        )
        self.contents.setPlainText(
            "\n".join(f"{e.name}  ({human_size(e.size)}): {e.what}" for e in report.entries)
        )
        self.contents.show()
        self.show_button.show()

    def _failed(self, exc: BaseException) -> bool:
        self.progress.hide()
        self.create_button.setEnabled(True)
        where = getattr(exc, "filename", None)
        reason = getattr(exc, "strerror", None) or str(exc)
        self.status.setText(
            f"Could not write the bundle{f' to {where}' if where else ''}: {reason}. Choose a "
            "folder you can write to and try again."
        )
        return True

    def folder(self) -> Path | None:
        return self.report.path.parent if self.report is not None else None

    def show_in_folder(self) -> bool:
        folder = self.folder()
        if folder is None:
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
