"""Long operations in a dialog: pull, push, save, load — one bar, a status line, Cancel.

:class:`OperationDialog` runs its :meth:`~OperationDialog.body` coroutine through the runner (so it
is tracked, and a finish while the window is hidden notifies through the tray), shows progress,
lets the user cancel (the task is cancelled, which closes the engine stream), and shows errors in
the dialog itself. A refusal for lack of credentials offers "Sign in…" and retries after a
successful sign-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import FieldErrorLabel, guarded, still_alive
from app.dialogs.common import human_size, is_auth_error, registry_host, validate_reference
from app.dialogs.frame import (
    PortsideDialog,
    WrapLabel,
    grow_to_fit,
    name_field,
    name_form_fields,
)
from app.dialogs.progress import ProgressFold
from engine.errors import CredentialsError, PortsideError

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.registry import AuthConfig

log = logging.getLogger(__name__)

AuthProvider = Callable[[str], Awaitable["AuthConfig | None"]]
CHUNK = 1 << 20


async def stored_auth_for(reference: str) -> AuthConfig | None:
    """Credentials stored for the reference's registry (keyring), or None.

    The keyring is read off the GUI thread. A missing/locked keyring is not fatal: the operation
    goes ahead anonymously and, if the registry then refuses, the dialog offers to sign in.
    """
    try:
        from engine.credentials.store import auth_for
    except ImportError:  # credentials support not installed in this build
        return None
    try:
        result: AuthConfig | None = await asyncio.to_thread(auth_for, reference)
    except (CredentialsError, ValueError) as exc:
        log.warning("stored credentials unavailable for %s: %s", reference, exc)
        return None
    return result


def describe(exc: BaseException) -> str:
    if isinstance(exc, PortsideError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class OperationDialog(PortsideDialog):
    """Base dialog: optional input form, progress bar, status, log, error, Start/Cancel/Close.

    Signals:
        succeeded(object): the body's result, after a successful run.
        failed(str): the error text shown.
    """

    succeeded = Signal(object)
    failed = Signal(str)
    start_text = "Start"
    op_title = "Operation"

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, with_log: bool = False
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.op_title)
        self.setMinimumWidth(520)
        self.task: asyncio.Task[Any] | None = None
        self.result_value: Any = None
        self.form = QFormLayout()
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName(f"{self.op_title} progress")
        self.status_label = WrapLabel("", self)
        self.log: QPlainTextEdit | None = None
        if with_log:
            self.log = QPlainTextEdit(self)
            self.log.setAccessibleName(f"{self.op_title} output")
            self.log.setReadOnly(True)
            self.log.setMaximumBlockCount(5000)
            self.log.setMinimumHeight(220)
            self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.error = FieldErrorLabel(self)
        self.signin_button = QPushButton("Sign in…", self)
        self.signin_button.hide()
        self.signin_button.clicked.connect(self.open_signin)
        self._signin_server: str | None = None
        self.signin_dialog: QDialog | None = None
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton(
            self.start_text, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        self.cancel_button.setEnabled(False)
        # Return starts; it never reaches Cancel, which takes the focus once the fields are
        # disabled (see app.dialogs.frame).
        self.set_default_button(self.start_button, self.buttons)

        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.bar)
        lay.addWidget(self.status_label)
        if self.log is not None:
            lay.addWidget(self.log, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.signin_button)
        lay.addWidget(self.buttons)

    # -- to override --------------------------------------------------------------------------
    def validate(self) -> bool:
        """Check the inputs, showing errors next to the fields; True to go ahead."""
        return True

    async def body(self, client: Any) -> Any:
        raise NotImplementedError

    def done_text(self, result: Any) -> str:
        return "Done."

    def input_widgets(self) -> list[QWidget]:
        return []

    def work_name(self) -> str:
        """What the running body is called when an engine switch asks before stopping it."""
        return self.op_title

    # -- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> asyncio.Task[Any] | None:
        """Validate and launch the body; returns the task (None when refused)."""
        if self.running:
            return self.task
        self.error.show_error("")
        self.signin_button.hide()
        if not self.validate():
            return None
        client = self.ctx.client
        if client is None:
            self.error.show_error("Not connected to the engine. Start it, then try again.")
            return None
        self.set_fraction(None)
        self.status_label.setText("Starting…")
        self._set_running(True)
        self.task = self.ctx.runner.run(
            lambda: self.body(client),
            title=self.op_title,
            on_done=guarded(self, self._on_done),
            on_error=guarded(self, self._on_error),
            notify_when_hidden=True,
            work=self.work_name(),
        )
        self.task.add_done_callback(self._on_task_finished)
        return self.task

    def cancel(self) -> None:
        if self.running and self.task is not None:
            self.task.cancel()
            self.status_label.setText("Cancelled.")

    def _on_task_finished(self, task: asyncio.Task[Any]) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_running(False)
        if task.cancelled():
            self.set_fraction(0.0)
            self.status_label.setText("Cancelled.")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in self.input_widgets():
            w.setEnabled(not running)
        if running:
            # The fields are disabled: keep the focus on Cancel (Space cancels; Return does
            # nothing while running, Escape cancels and closes).
            self.cancel_button.setFocus()
        elif self.first_field is not None:
            self.focus_first_field()
        else:
            self.start_button.setFocus()

    def showEvent(self, event: Any) -> None:
        name_form_fields(self.form)
        super().showEvent(event)

    def _on_done(self, result: Any) -> None:
        self.result_value = result
        self.set_fraction(1.0)
        self.status_label.setText(self.done_text(result))
        self.start_button.setText("Again")
        grow_to_fit(self)
        self.succeeded.emit(result)

    def _on_error(self, exc: BaseException) -> bool:
        text = describe(exc)
        self.set_fraction(0.0)
        self.status_label.setText("Failed.")
        server = self.auth_server()
        if is_auth_error(exc) and server:
            self._signin_server = server
            text += f"\n\nThe registry {server} wants credentials: sign in, then Portside retries."
            self.signin_button.show()
        self.error.show_error(text)
        self.failed.emit(text)
        return True

    def auth_server(self) -> str | None:
        """The registry to offer a sign-in for when the operation is refused (None: no offer)."""
        return None

    def open_signin(self) -> None:
        try:
            from app.dialogs.signin import SignInDialog
        except ImportError:
            self.error.show_error(
                f"Sign in to {self._signin_server} from the Accounts page, then press "
                f"{self.start_button.text()} again."
            )
            return
        from app.dialogs.frame import release_when_finished

        dialog = SignInDialog(self.ctx, server=self._signin_server, parent=self)
        # Retry as soon as the login was checked and stored.
        dialog.signed_in.connect(lambda _server, _user: self.start())
        self.signin_dialog = release_when_finished(dialog)
        dialog.open()

    # -- progress -----------------------------------------------------------------------------
    # A body calls these after its awaits. The dialog is deleted with its parent (the window
    # destroyed) without a close, so without a cancel: the work goes on to its end on the
    # engine, unseen; touching the deleted widgets would abort it with a RuntimeError.
    def show_status(self, text: str) -> None:
        if still_alive(self):
            self.status_label.setText(text)

    def set_fraction(self, fraction: float | None) -> None:
        if not still_alive(self):
            return
        if fraction is None:
            self.bar.setRange(0, 0)  # busy indicator
            return
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1000)
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))

    def append_log(self, text: str) -> None:
        if self.log is not None and text and still_alive(self):
            self.log.appendPlainText(text.rstrip("\n"))

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        self.cancel()
        super().reject()


class ProgressOperation(OperationDialog):
    """An operation whose body streams ``Progress`` messages folded into one bar."""

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, with_log: bool = False
    ) -> None:
        super().__init__(ctx, parent, with_log=with_log)
        self.fold = ProgressFold()

    def consume(self, progress: Any) -> None:
        self.fold.feed(progress)
        self.set_fraction(self.fold.fraction)
        if self.fold.status:
            self.show_status(self.fold.status)
        stream = getattr(progress, "stream", None)
        if stream:
            self.append_log(stream)


class RegistryTransfer(ProgressOperation):
    """Pull or push of ``self.canonical`` with the credentials stored for its registry."""

    canonical = ""
    verb = ""
    auth_provider: AuthProvider

    def work_name(self) -> str:
        return f"{self.start_text} {self.canonical}"  # "Pull nginx:latest"

    def auth_server(self) -> str | None:
        try:
            return registry_host(self.canonical)
        except ValueError:
            return None

    async def transfer(self, method: Callable[..., Any]) -> str:
        """Run ``method(ref, auth=...)`` (``client.images.pull``/``push``) into the bar."""
        self.fold = ProgressFold()
        ref = self.canonical
        auth = await self.auth_provider(ref)
        self.show_status(f"{self.verb} {ref}…")
        async with contextlib.aclosing(method(ref, auth=auth)) as stream:
            async for progress in stream:
                self.consume(progress)
        return ref


class PullDialog(RegistryTransfer):
    """Pull an image by reference, with stored credentials when there are any."""

    op_title = "Pull image"
    verb = "Pulling"
    start_text = "Pull"

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        reference: str = "",
        auth_provider: AuthProvider = stored_auth_for,
    ) -> None:
        super().__init__(ctx, parent)
        self.auth_provider = auth_provider
        self.reference = QLineEdit(reference, self)
        self.reference.setPlaceholderText("busybox, nginx:1.27, localhost:5000/team/app:v2")
        self.reference.setMinimumWidth(320)
        self.first_field = self.reference
        self.reference_error = FieldErrorLabel(self)
        self.form.addRow("Image reference", self.reference)
        self.form.addRow("", self.reference_error)
        self.canonical = ""

    def input_widgets(self) -> list[QWidget]:
        return [self.reference]

    def validate(self) -> bool:
        try:
            self.canonical = validate_reference(self.reference.text())
        except ValueError as exc:
            self.reference_error.show_error(str(exc))
            return False
        self.reference_error.show_error("")
        return True

    async def body(self, client: Any) -> str:
        return await self.transfer(client.images.pull)

    def done_text(self, result: Any) -> str:
        last = self.fold.messages[-1] if self.fold.messages else ""
        return f"Pulled {result}. {last}".strip()


class PushDialog(RegistryTransfer):
    """Push one of an image's tags, with stored credentials when there are any."""

    op_title = "Push image"
    verb = "Pushing"
    start_text = "Push"

    def __init__(
        self,
        ctx: AppContext,
        references: list[str],
        parent: QWidget | None = None,
        *,
        auth_provider: AuthProvider = stored_auth_for,
    ) -> None:
        super().__init__(ctx, parent)
        from PySide6.QtWidgets import QComboBox

        self.auth_provider = auth_provider
        self.reference = QComboBox(self)
        self.reference.setEditable(True)
        self.reference.addItems(references)
        self.reference.setMinimumWidth(320)
        name_field(self.reference, "Tag to push")
        self.first_field = self.reference
        self.reference_error = FieldErrorLabel(self)
        self.form.addRow("Push", self.reference)
        self.form.addRow("", self.reference_error)
        self.canonical = ""

    def input_widgets(self) -> list[QWidget]:
        return [self.reference]

    def validate(self) -> bool:
        text = self.reference.currentText()
        try:
            self.canonical = validate_reference(text)
        except ValueError as exc:
            self.reference_error.show_error(str(exc))
            return False
        if "@" in text:
            self.reference_error.show_error("Push a tag (repository:tag), not a digest.")
            return False
        self.reference_error.show_error("")
        return True

    async def body(self, client: Any) -> str:
        return await self.transfer(client.images.push)

    def done_text(self, result: Any) -> str:
        return f"Pushed {result}."


async def read_file_chunks(path: Path, on_chunk: Callable[[int], None]) -> AsyncIterator[bytes]:
    """Stream a file in 1 MiB chunks read off the GUI thread (never the whole file in memory)."""
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        while True:
            chunk = await asyncio.to_thread(fh.read, CHUNK)
            if not chunk:
                return
            on_chunk(len(chunk))
            yield chunk
    finally:
        fh.close()


class SaveDialog(OperationDialog):
    """Save images to a tar file, streamed chunk by chunk; written to ``.part`` then renamed."""

    op_title = "Save images"
    start_text = "Save"

    def __init__(
        self, ctx: AppContext, names: list[str], path: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, parent)
        self.names = names
        self.path = Path(path)
        self.form.addRow("Images", WrapLabel(", ".join(names), self))
        self.form.addRow("File", WrapLabel(str(self.path), self))
        self.written = 0

    async def body(self, client: Any) -> Path:
        part = self.path.with_name(self.path.name + ".part")
        self.written = 0
        fh = await asyncio.to_thread(open, part, "wb")
        ok = False
        try:
            async for chunk in client.images.save(self.names):
                await asyncio.to_thread(fh.write, chunk)
                self.written += len(chunk)
                self.show_status(f"Written {human_size(self.written)}…")
            await asyncio.to_thread(fh.flush)
            ok = True
        finally:
            fh.close()
            if not ok:
                with contextlib.suppress(OSError):
                    part.unlink()
        await asyncio.to_thread(part.replace, self.path)
        return self.path

    def done_text(self, result: Any) -> str:
        return f"Saved {human_size(self.written)} to {result}."


class LoadDialog(ProgressOperation):
    """Load images from a tar file, streamed to the engine chunk by chunk."""

    op_title = "Load images"
    start_text = "Load"

    def __init__(self, ctx: AppContext, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent, with_log=True)
        self.path = Path(path)
        self.form.addRow("File", WrapLabel(str(self.path), self))
        self.sent = 0
        self.loaded: list[str] = []

    def validate(self) -> bool:
        if not self.path.is_file():
            self.error.show_error(f"{self.path} is not a file. Choose a .tar made by Save.")
            return False
        return True

    async def body(self, client: Any) -> list[str]:
        size = max(1, self.path.stat().st_size)
        self.sent = 0
        self.loaded = []

        def sent(n: int) -> None:
            self.sent += n
            self.set_fraction(self.sent / size)
            self.show_status(f"Sent {human_size(self.sent)} of {human_size(size)}…")

        async for progress in client.images.load(read_file_chunks(self.path, sent)):
            stream = getattr(progress, "stream", None) or ""
            if stream:
                self.append_log(stream)
                for prefix in ("Loaded image: ", "Loaded image ID: "):
                    if stream.startswith(prefix):
                        self.loaded.append(stream[len(prefix) :].strip())
        return self.loaded

    def done_text(self, result: Any) -> str:
        return "Loaded " + (", ".join(result) if result else "the images") + "."
