""""Commit to image…": repository, tag, message, author, pause while committing.

Data flow: the page opens the dialog for one container; Commit checks the fields here (the
engine's own reference rules, :func:`engine.registry.parse_reference`, so a bad name is
explained before any request), then ONE runner task calls ``client.containers.commit`` on the
qasync loop. While it runs the fields are disabled and the dialog says so; its answer (the new
image id) closes the dialog and ``committed`` carries a sentence for the page's status line. An
engine error stays in the dialog, under the fields, with the engine's words.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import FieldErrorLabel, guarded
from app.dialogs.frame import PortsideDialog, WrapLabel, name_form_fields
from engine.errors import PortsideError
from engine.registry import parse_reference


def check_target(repository: str, tag: str) -> tuple[str | None, str | None]:
    """(repo, tag) to send, or ValueError saying what to change. Empty repo: an unnamed image."""
    repository, tag = repository.strip(), tag.strip()
    if not repository:
        if tag:
            raise ValueError("A tag needs a repository: give one (e.g. 'myapp'), or clear the tag.")
        return None, None
    last = repository.rsplit("/", 1)[-1]
    if ":" in last or "@" in repository:
        raise ValueError(
            f"Put only the repository here ({repository.split('@')[0].rsplit(':', 1)[0]!r}); "
            "the tag goes in the Tag field."
        )
    parse_reference(f"{repository}:{tag}" if tag else repository)  # ValueError: the reason
    return repository, tag or None


class CommitDialog(PortsideDialog):
    """Create an image from the container's current file system and settings.

    Signals:
        committed(str): "Committed web to myapp:v2 (sha256:1a2b…)." once the engine answered.
    """

    committed = Signal(str)

    def __init__(self, ctx: Any, container_id: str, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.container_id = container_id
        self.container_name = name
        self.image_id = ""
        self.setWindowTitle(f"Commit {name} to an image")
        intro = WrapLabel(
            f"Save {name}'s file system changes and settings as a new image. Its volumes are "
            "not included."
        )
        self.repository = QLineEdit()
        self.repository.setPlaceholderText("e.g. myapp or registry.example.com/team/app")
        self.tag = QLineEdit()
        self.tag.setPlaceholderText("latest")
        self.message = QPlainTextEdit()
        self.message.setTabChangesFocus(True)
        self.message.setPlaceholderText("What changed (shown in the image's history)")
        self.message.setFixedHeight(self.message.fontMetrics().lineSpacing() * 4 + 12)
        self.author = QLineEdit()
        self.author.setPlaceholderText("e.g. Jane Doe <jane@example.com>")
        self.pause = QCheckBox("Pause the container while committing")
        self.pause.setChecked(True)
        self.pause.setToolTip(
            "Recommended: a running container's files could change half-way through the commit"
        )
        form = QFormLayout()
        form.addRow("Repository:", self.repository)
        form.addRow("Tag:", self.tag)
        form.addRow("Message:", self.message)
        form.addRow("Author:", self.author)
        form.addRow("", self.pause)
        name_form_fields(form)
        self.error = FieldErrorLabel()
        self.error.setAccessibleName("Commit problem")
        self.progress = WrapLabel("")
        self.progress.setObjectName("muted")
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.commit_button = self.buttons.addButton(
            "Commit", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.commit_button.setAccessibleName("Commit")
        self.set_default_button(self.commit_button, self.buttons)
        self.buttons.accepted.connect(self.start_commit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)
        self.first_field = self.repository
        self.setMinimumWidth(480)
        self._task: Any = None

    def start_commit(self) -> Any:
        """Check the fields, then commit (one runner task); errors stay in the dialog."""
        try:
            repo, tag = check_target(self.repository.text(), self.tag.text())
        except ValueError as exc:
            self.error.show_error(str(exc))
            self.repository.setFocus()
            return None
        client = self.ctx.client
        if client is None:
            self.error.show_error("Not connected to the engine: wait until it runs, then retry.")
            return None
        self.error.show_error("")
        message = self.message.toPlainText().strip() or None
        author = self.author.text().strip() or None
        pause = self.pause.isChecked()
        cid = self.container_id
        target = f"{repo}:{tag or 'latest'}" if repo else "an unnamed image"
        self._busy(True, f"Committing {self.container_name} to {target}…")

        async def _commit() -> str:
            image_id = await client.containers.commit(
                cid, repo, tag, comment=message, author=author, pause=pause
            )
            return str(image_id)

        def done(image_id: str) -> None:
            self.image_id = image_id
            short = image_id.split(":", 1)[-1][:12]
            self.committed.emit(f"Committed {self.container_name} to {target} ({short}).")
            self._busy(False, "")
            self.accept()

        def failed(exc: BaseException) -> bool:
            self._busy(False, "")
            if isinstance(exc, PortsideError):
                self.error.show_error(f"The engine could not commit: {exc}")
                return True
            return False

        # the page (with this dialog) may be deleted while the engine writes the image (its
        # window destroyed): the image is made all the same; only the dialog's answer is dropped
        self._task = self.ctx.runner.run(
            _commit, title=f"Commit {self.container_name}", on_done=guarded(self, done),
            on_error=guarded(self, failed), work=f"Commit {self.container_name}",
        )
        return self._task

    def _busy(self, busy: bool, text: str) -> None:
        for w in (self.repository, self.tag, self.message, self.author, self.pause):
            w.setEnabled(not busy)
        self.commit_button.setEnabled(not busy)
        self.progress.setText(text)
        self.progress.setVisible(bool(text))

    def reject(self) -> None:
        if self._task is not None and not self._task.done():
            return  # the engine is writing the image: closing now would hide its answer
        super().reject()
