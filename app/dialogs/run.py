"""The "Run image" dialog: validated form → (pull) → create + start; engine errors by their field.

Like ``docker run``, an image that is not present locally is pulled first — with the credentials
stored for its registry (the keyring, as Pull and Push use them), its progress folded into one bar
in the dialog. When the registry refuses the pull for lack of credentials the dialog offers
"Sign in…" and runs again once the login was checked and stored.

The network list (default bridge, the user's networks, host, none) and the engine's CPU count are
read once when the dialog opens, through the runner; until they arrive the combo offers the
built-in networks and any name can be typed.

Validation is :mod:`app.dialogs.run_spec` (pure). When the engine refuses the start (a host port
already taken, a bad bind, a missing executable…) the container just created is removed again, so a
failed run leaves nothing behind, and the engine's own message is shown under the field it
concerns (ports for "port is already allocated" / "address already in use").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs import run_spec as rs
from app.dialogs.base import FieldErrorLabel, guarded
from app.dialogs.common import is_auth_error, registry_host, validate_reference
from app.dialogs.frame import (
    PortsideDialog,
    WrapLabel,
    grow_to_fit,
    name_field,
    name_form_fields,
    release_when_finished,
)
from app.dialogs.operation import AuthProvider, describe, stored_auth_for
from app.dialogs.progress import ProgressFold
from engine.errors import NotFound, PortsideError

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)


class RunDialog(PortsideDialog):
    """Name, ports, network, env, volumes/binds, command, labels, limits, restart policy, remove.

    Signals:
        started(str): the id of the container that was created and started.
    """

    started = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        image: str = "",
        parent: QWidget | None = None,
        *,
        auth_provider: AuthProvider = stored_auth_for,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.auth_provider = auth_provider
        self.setWindowTitle("Run image")
        self.setMinimumWidth(560)
        self.task: asyncio.Task[Any] | None = None
        self.container_id = ""
        self.fold = ProgressFold()
        self.pulled = ""  # the reference pulled because it was missing locally, if any
        self._signin_server: str | None = None
        self.signin_dialog: QDialog | None = None

        self.image = QLineEdit(image, self)
        self.image.setPlaceholderText("e.g. nginx:1.27")
        self.first_field = self.image
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("optional, e.g. web")
        self.ports = QLineEdit(self)
        self.ports.setPlaceholderText("8080:80, 127.0.0.1:5353:53/udp")
        self.network = QComboBox(self)
        self.network.setEditable(True)
        self.network.addItems([rs.DEFAULT_NETWORK, "host", "none"])
        self.network.setToolTip(
            "bridge: the default, ports can be published; host: the host's own network (no "
            "publishing); none: no network; or one of your networks"
        )
        self.network.currentTextChanged.connect(self._network_changed)
        self.network_hint = WrapLabel("", self)
        self.network_hint.hide()
        self.env = QPlainTextEdit(self)
        self.env.setPlaceholderText("KEY=VALUE, one per line")
        self.env.setFixedHeight(70)
        self.volumes = QPlainTextEdit(self)
        self.volumes.setPlaceholderText("data:/var/lib/data\n/host/dir:/srv:ro")
        self.volumes.setFixedHeight(70)
        self.command = QLineEdit(self)
        self.command.setPlaceholderText("empty: the image's default command")
        self.restart = QComboBox(self)
        self.restart.setEditable(True)
        self.restart.addItems(["no", "always", "unless-stopped", "on-failure", "on-failure:3"])
        self.labels = QPlainTextEdit(self)
        self.labels.setPlaceholderText("key=value, one per line")
        self.labels.setFixedHeight(56)
        self.memory = QLineEdit(self)
        self.memory.setPlaceholderText("no limit, e.g. 512m or 2g")
        self.cpus = QLineEdit(self)
        self.cpus.setPlaceholderText("no limit, e.g. 0.5 or 2")
        limits = QWidget(self)
        limits_lay = QHBoxLayout(limits)
        limits_lay.setContentsMargins(0, 0, 0, 0)
        limits_lay.addWidget(self.memory, 1)
        cpus_label = QLabel("CPUs", limits)
        cpus_label.setBuddy(self.cpus)
        limits_lay.addWidget(cpus_label)
        limits_lay.addWidget(self.cpus, 1)
        self.memory.setAccessibleName("Memory limit")
        self.cpus.setAccessibleName("CPU limit")
        self.engine_cpus: int | None = None
        for edit in (self.image, self.name, self.ports, self.command):
            edit.setMinimumWidth(340)
        self.auto_remove = QCheckBox("Remove the container when it exits", self)

        self.field_errors: dict[str, FieldErrorLabel] = {}
        form = QFormLayout()
        for key, label, widget in (
            (rs.IMAGE, "Image", self.image),
            (rs.NAME, "Name", self.name),
            (rs.PORTS, "Ports", self.ports),
            (rs.NETWORK, "Network", self.network),
            (rs.ENV, "Environment", self.env),
            (rs.VOLUMES, "Volumes / binds", self.volumes),
            (rs.COMMAND, "Command", self.command),
            (rs.LABELS, "Labels", self.labels),
            (rs.MEMORY, "Memory limit", limits),
            (rs.RESTART, "Restart policy", self.restart),
        ):
            err = FieldErrorLabel(self)
            self.field_errors[key] = err
            form.addRow(label, widget)
            if key == rs.NETWORK:
                form.addRow("", self.network_hint)
            form.addRow("", err)
        # The CPU limit shares the memory row; its errors go under that row too.
        self.field_errors[rs.CPUS] = self.field_errors[rs.MEMORY]
        form.addRow("", self.auto_remove)
        name_form_fields(form)
        name_field(self.network, "Network")
        self.general_error = FieldErrorLabel(self)
        # Pull progress, shown only while (or after) a missing image is pulled.
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName("Pull progress")
        self.bar.hide()
        self.pull_status = WrapLabel("", self)
        self.pull_status.hide()
        self.signin_button = QPushButton("Sign in…", self)
        self.signin_button.hide()
        self.signin_button.clicked.connect(self.open_signin)
        self.buttons = QDialogButtonBox(self)
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.run_button.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.set_default_button(self.run_button, self.buttons)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.bar)
        lay.addWidget(self.pull_status)
        lay.addWidget(self.general_error)
        lay.addWidget(self.signin_button)
        lay.addWidget(self.buttons)
        self.networks_task: asyncio.Task[Any] | None = self._load_networks()

    # -- networks -------------------------------------------------------------------------------
    def _load_networks(self) -> asyncio.Task[Any] | None:
        """Offer the engine's networks: bridge first, then the user's, then host and none."""
        client = self.ctx.client
        if client is None:
            return None

        async def fetch() -> tuple[list[str], int]:
            networks, info = await asyncio.gather(client.networks.list(), client.info())
            return [n.name for n in networks], int(info.ncpu or 0)

        def done(result: tuple[list[str], int]) -> None:
            names, ncpu = result
            self.engine_cpus = ncpu or None
            self.set_networks(names)

        def failed(exc: BaseException) -> bool:
            log.warning("listing networks for the run dialog failed: %s", exc)
            return True  # the built-in networks stay offered; any name can be typed

        return self.ctx.runner.run(
            fetch, title="Networks", on_done=guarded(self, done), on_error=guarded(self, failed)
        )

    def set_networks(self, names: list[str]) -> None:
        current = self.network.currentText()
        user = sorted(n for n in names if n not in ("bridge", "host", "none"))
        self.network.blockSignals(True)
        self.network.clear()
        self.network.addItems([rs.DEFAULT_NETWORK, *user, "host", "none"])
        self.network.setCurrentText(current or rs.DEFAULT_NETWORK)
        self.network.blockSignals(False)
        self._network_changed(self.network.currentText())

    def _network_changed(self, text: str) -> None:
        name = text.strip()
        hints = {
            "host": "On “host” the container shares the host's network: its ports are the host's "
            "own, so nothing is published (Ports must stay empty).",
            "none": "On “none” the container has no network: nothing can reach it and no port "
            "can be published.",
        }
        hint = hints.get(name, "")
        self.network_hint.setText(hint)
        self.network_hint.setVisible(bool(hint))
        if hint:
            grow_to_fit(self)

    # -- errors ---------------------------------------------------------------------------------
    def errors(self) -> dict[str, str]:
        """The error texts currently shown, by field (``""`` for the general one)."""
        out = {k: w.text() for k, w in self.field_errors.items() if w.text()}
        if self.general_error.text():
            out[""] = self.general_error.text()
        return out

    def clear_errors(self) -> None:
        for w in self.field_errors.values():
            w.show_error("")
        self.general_error.show_error("")

    def show_errors(self, errors: dict[str, str]) -> None:
        # Memory and CPUs share one row (and one error label): show both messages there.
        by_label: dict[FieldErrorLabel, list[str]] = {}
        for key, text in errors.items():
            by_label.setdefault(self.field_errors.get(key, self.general_error), []).append(text)
        for label, texts in by_label.items():
            label.show_error("\n".join(texts))

    def form_values(self) -> rs.RunForm:
        return rs.RunForm(
            image=self.image.text(),
            name=self.name.text(),
            ports=self.ports.text(),
            env=self.env.toPlainText(),
            volumes=self.volumes.toPlainText(),
            command=self.command.text(),
            restart=self.restart.currentText(),
            auto_remove=self.auto_remove.isChecked(),
            network=self.network.currentText(),
            labels=self.labels.toPlainText(),
            memory=self.memory.text(),
            cpus=self.cpus.text(),
            engine_cpus=self.engine_cpus,
        )

    # -- running --------------------------------------------------------------------------------
    def submit(self) -> asyncio.Task[Any] | None:
        """Validate, then create + start; returns the task, or None when the form is invalid."""
        if self.task is not None and not self.task.done():
            return self.task
        self.clear_errors()
        self.signin_button.hide()
        self._signin_server = None
        try:
            spec = rs.build_run_spec(self.form_values())
        except rs.RunFormErrors as exc:
            self.show_errors(exc.errors)
            return None
        client = self.ctx.client
        if client is None:
            self.general_error.show_error("Not connected to the engine. Start it, then retry.")
            return None
        self.run_button.setEnabled(False)
        self.task = self.ctx.runner.run(
            lambda: self._create_and_start(client, spec),
            title="Run image",
            work=f"Run {spec.config.get('Image', '')}",
            on_done=guarded(self, self._on_started),
            on_error=guarded(self, self._on_error),
        )
        self.task.add_done_callback(self._task_finished)
        return self.task

    def _task_finished(self, _task: asyncio.Task[Any]) -> None:
        if shiboken6.isValid(self):
            self.run_button.setEnabled(True)

    async def _create_and_start(self, client: Any, spec: rs.RunSpec) -> str:
        try:
            container_id: str = await client.containers.create(spec.config, name=spec.name)
        except NotFound as exc:
            if "image" not in str(exc).lower():
                raise
            # Not here locally: pull it, as `docker run` does, then create again.
            await self._pull_missing(client, str(spec.config.get("Image", "")), exc)
            container_id = await client.containers.create(spec.config, name=spec.name)
        try:
            await client.containers.start(container_id)
        except BaseException:
            # Never leave a created-but-never-started container behind.
            with contextlib.suppress(PortsideError, OSError):
                await asyncio.shield(
                    client.containers.remove(container_id, force=True, volumes=True)
                )
            raise
        return container_id

    async def _pull_missing(self, client: Any, image: str, missing: NotFound) -> None:
        """Pull ``image`` with the stored credentials for its registry, showing progress."""
        try:
            ref = validate_reference(image)
        except ValueError:  # an image id or short id: nothing a registry could serve
            raise _FieldFailure(rs.IMAGE, f"{describe(missing)}.") from missing
        self.fold = ProgressFold()
        self._show_pull(None, f"{image} is not here: pulling {ref}…")
        auth = await self.auth_provider(ref)
        try:
            async with contextlib.aclosing(client.images.pull(ref, auth=auth)) as stream:
                async for progress in stream:
                    self.fold.feed(progress)
                    self._show_pull(self.fold.fraction, self.fold.status)
        except (PortsideError, OSError) as exc:
            self._show_pull(0.0, "Pull failed.")
            server = _registry_of(ref)
            text = f"Pulling {ref} failed: {describe(exc)}"
            if is_auth_error(exc) and server:
                text += (
                    f"\n\nThe registry {server} wants credentials: sign in, then Portside "
                    "runs the image again."
                )
                raise _FieldFailure(rs.IMAGE, text, signin_server=server) from exc
            raise _FieldFailure(rs.IMAGE, text) from exc
        self.pulled = ref
        self._show_pull(1.0, f"Pulled {ref}. Creating the container…")

    def _show_pull(self, fraction: float | None, text: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.bar.show()
        self.pull_status.show()
        if fraction is None:
            self.bar.setRange(0, 0)  # busy until a size is known
        else:
            if self.bar.maximum() == 0:
                self.bar.setRange(0, 1000)
            self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if text:
            self.pull_status.setText(text)

    def open_signin(self) -> None:
        """Open the sign-in dialog for the registry that refused the pull; run again after it."""
        if not self._signin_server:
            return
        from app.dialogs.signin import SignInDialog

        dialog = SignInDialog(self.ctx, server=self._signin_server, parent=self)
        dialog.signed_in.connect(lambda _server, _user: self.submit())
        self.signin_dialog = release_when_finished(dialog)
        dialog.open()

    def reject(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()  # stops a pull in progress; a created container is removed
        super().reject()

    def _on_started(self, container_id: str) -> None:
        self.container_id = container_id
        self.started.emit(container_id)
        self.accept()

    def _on_error(self, exc: BaseException) -> bool:
        if isinstance(exc, _FieldFailure):
            self.show_errors({exc.field: exc.message})
            if exc.signin_server:
                self._signin_server = exc.signin_server
                self.signin_button.show()
            return True
        text = describe(exc)
        field = rs.field_for_engine_error(text)
        if field is not None:
            self.field_errors[field].show_error(text)
        else:
            self.general_error.show_error(text)
        return True


def _registry_of(reference: str) -> str | None:
    try:
        return registry_host(reference)
    except ValueError:
        return None


class _FieldFailure(Exception):
    def __init__(self, field: str, message: str, *, signin_server: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.signin_server = signin_server
