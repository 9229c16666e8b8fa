"""Build an image from a folder with a Dockerfile, streaming the build output into a text view."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from app.dialogs.base import FieldErrorLabel
from app.dialogs.build_context import BuildContextError, context_files, make_context_tar
from app.dialogs.common import human_size, validate_reference
from app.dialogs.operation import OperationDialog

if TYPE_CHECKING:
    from app.context import AppContext


class BuildDialog(OperationDialog):
    """Folder + Dockerfile + tag → ``POST /build``; output appended line by line."""

    op_title = "Build image"
    start_text = "Build"

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, folder: str = "", tag: str = ""
    ) -> None:
        super().__init__(ctx, parent, with_log=True)
        self.folder = QLineEdit(folder, self)
        self.folder.setPlaceholderText("Folder containing a Dockerfile")
        self.folder.setAccessibleName("Build folder")
        self.folder.setAccessibleDescription("The folder that holds the Dockerfile and its files")
        self.folder.setMinimumWidth(320)
        self.first_field = self.folder
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Browse for the build folder")
        browse.clicked.connect(self._browse)
        row = QWidget(self)
        row_lay = QHBoxLayout(row)
        row_lay.setContentsMargins(0, 0, 0, 0)
        row_lay.addWidget(self.folder, 1)
        row_lay.addWidget(browse)
        self._browse_button = browse
        self.folder_error = FieldErrorLabel(self)
        self.dockerfile = QLineEdit("Dockerfile", self)
        self.dockerfile_error = FieldErrorLabel(self)
        self.tag = QLineEdit(tag, self)
        self.tag.setPlaceholderText("myapp:latest (optional)")
        self.tag_error = FieldErrorLabel(self)
        self.form.addRow("Folder", row)
        self.form.addRow("", self.folder_error)
        self.form.addRow("Dockerfile", self.dockerfile)
        self.form.addRow("", self.dockerfile_error)
        self.form.addRow("Tag", self.tag)
        self.form.addRow("", self.tag_error)
        # The log was created first (by the base class): fields first in the Tab order.
        QWidget.setTabOrder(self.folder, browse)
        QWidget.setTabOrder(browse, self.dockerfile)
        QWidget.setTabOrder(self.dockerfile, self.tag)
        if self.log is not None:
            QWidget.setTabOrder(self.tag, self.log)
        self.image_id = ""
        self._tag_value: str | None = None
        self._folder = Path()

    def input_widgets(self) -> list[QWidget]:
        return [self.folder, self._browse_button, self.dockerfile, self.tag]

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Build folder", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def validate(self) -> bool:
        ok = True
        for label in (self.folder_error, self.dockerfile_error, self.tag_error):
            label.show_error("")
        folder = Path(self.folder.text().strip()).expanduser()
        self._folder = folder
        dockerfile = self.dockerfile.text().strip() or "Dockerfile"
        if not self.folder.text().strip():
            self.folder_error.show_error("Choose the folder that holds your Dockerfile.")
            ok = False
        else:
            try:
                context_files(folder, dockerfile)
            except BuildContextError as exc:
                target = self.dockerfile_error if "Dockerfile" in str(exc) else self.folder_error
                if "not a folder" in str(exc):
                    target = self.folder_error
                target.show_error(str(exc))
                ok = False
        tag = self.tag.text().strip()
        self._tag_value = None
        if tag:
            try:
                validate_reference(tag)
            except ValueError as exc:
                self.tag_error.show_error(str(exc))
                ok = False
            else:
                if "@" in tag:
                    self.tag_error.show_error("A build tag is repository:tag, without a digest.")
                    ok = False
                self._tag_value = tag
        return ok

    async def body(self, client: Any) -> str:
        folder = self._folder
        dockerfile = self.dockerfile.text().strip() or "Dockerfile"
        if self.log is not None:
            self.log.clear()
        self.status_label.setText("Packing the build context…")
        tar = await asyncio.to_thread(make_context_tar, folder, dockerfile)
        self.show_status(f"Sending the build context ({human_size(len(tar))})…")
        self.image_id = ""
        async for progress in client.images.build(tar, tag=self._tag_value, dockerfile=dockerfile):
            stream = getattr(progress, "stream", None)
            if stream:
                self.append_log(stream)
                if stream.startswith("Step "):
                    self.show_status(stream.strip())
            elif getattr(progress, "status", ""):
                self.append_log(progress.status)
            aux = getattr(progress, "aux", None)
            if isinstance(aux, dict) and aux.get("ID"):
                self.image_id = str(aux["ID"])
        return self._tag_value or self.image_id

    def done_text(self, result: Any) -> str:
        return f"Built {result or 'the image'}."
