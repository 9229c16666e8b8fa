"""Create-volume and create-network dialogs: validated fields, engine errors next to them."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import FieldErrorLabel, guarded
from app.dialogs.common import validate_gateway, validate_resource_name, validate_subnet
from app.dialogs.frame import PortsideDialog, name_form_fields
from app.dialogs.operation import describe

if TYPE_CHECKING:
    from app.context import AppContext


def parse_labels(text: str) -> dict[str, str]:
    """``key=value`` lines → labels; raises ValueError naming the bad line."""
    labels: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Label line {n} “{line}”: write key=value.")
        labels[key.strip()] = value.strip()
    return labels


class _CreateDialog(PortsideDialog):
    """Shared frame: a form, a general error, Create/Cancel; ``created(str)`` on success."""

    created = Signal(str)
    title = "Create"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.title)
        self.setMinimumWidth(440)
        self.form = QFormLayout()
        self.general_error = FieldErrorLabel(self)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(
            "Create", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_button.clicked.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.set_default_button(self.create_button, self.buttons)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.general_error)
        lay.addWidget(self.buttons)
        self.task: asyncio.Task[Any] | None = None
        self.result_id = ""

    def add_field(self, label: str, widget: QWidget) -> FieldErrorLabel:
        err = FieldErrorLabel(self)
        widget.setMinimumWidth(280)
        self.form.addRow(label, widget)
        self.form.addRow("", err)
        if self.first_field is None:
            self.first_field = widget
        name_form_fields(self.form)
        return err

    def submit(self) -> asyncio.Task[Any] | None:
        raise NotImplementedError

    def _launch(self, factory: Any) -> asyncio.Task[Any] | None:
        self.general_error.show_error("")
        if self.ctx.client is None:
            self.general_error.show_error("Not connected to the engine.")
            return None
        self.create_button.setEnabled(False)
        self.task = self.ctx.runner.run(
            factory,
            title=self.title,
            on_done=guarded(self, self._done),
            on_error=guarded(self, self._error),
        )
        self.task.add_done_callback(self._task_finished)
        return self.task

    def _task_finished(self, _task: asyncio.Task[Any]) -> None:
        if shiboken6.isValid(self):
            self.create_button.setEnabled(True)

    def _done(self, result: Any) -> None:
        self.result_id = str(result)
        self.created.emit(self.result_id)
        self.accept()

    def _error(self, exc: BaseException) -> bool:
        self.general_error.show_error(describe(exc))
        return True


class CreateVolumeDialog(_CreateDialog):
    title = "Create volume"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("empty: the engine picks a name")
        self.driver = QComboBox(self)
        self.driver.setEditable(True)
        self.driver.addItem("local")
        self.labels = QPlainTextEdit(self)
        self.labels.setPlaceholderText("key=value, one per line (optional)")
        self.labels.setFixedHeight(60)
        self.name_error = self.add_field("Name", self.name)
        self.driver_error = self.add_field("Driver", self.driver)
        self.labels_error = self.add_field("Labels", self.labels)

    def submit(self) -> asyncio.Task[Any] | None:
        ok = True
        for e in (self.name_error, self.driver_error, self.labels_error):
            e.show_error("")
        try:
            name = validate_resource_name(self.name.text(), "volume")
        except ValueError as exc:
            self.name_error.show_error(str(exc))
            ok = False
        driver = self.driver.currentText().strip()
        if not driver:
            self.driver_error.show_error("Choose a driver (local is the default).")
            ok = False
        try:
            labels = parse_labels(self.labels.toPlainText())
        except ValueError as exc:
            self.labels_error.show_error(str(exc))
            ok = False
        if not ok:
            return None
        client = self.ctx.client

        async def create() -> str:
            volume = await client.volumes.create(
                name=name or None, driver=driver, labels=labels or None
            )
            return str(getattr(volume, "name", volume))

        return self._launch(create)


class CreateNetworkDialog(_CreateDialog):
    title = "Create network"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("e.g. backend")
        self.driver = QComboBox(self)
        self.driver.setEditable(True)
        self.driver.addItems(["bridge", "macvlan", "ipvlan", "overlay"])
        self.subnet = QLineEdit(self)
        self.subnet.setPlaceholderText("optional CIDR, e.g. 172.30.0.0/24")
        self.gateway = QLineEdit(self)
        self.gateway.setPlaceholderText("optional, inside the subnet, e.g. 172.30.0.1")
        self.name_error = self.add_field("Name", self.name)
        self.driver_error = self.add_field("Driver", self.driver)
        self.subnet_error = self.add_field("Subnet", self.subnet)
        self.gateway_error = self.add_field("Gateway", self.gateway)

    def errors(self) -> dict[str, str]:
        return {
            k: w.text()
            for k, w in (
                ("name", self.name_error),
                ("driver", self.driver_error),
                ("subnet", self.subnet_error),
                ("gateway", self.gateway_error),
                ("", self.general_error),
            )
            if w.text()
        }

    def submit(self) -> asyncio.Task[Any] | None:
        ok = True
        for e in (self.name_error, self.driver_error, self.subnet_error, self.gateway_error):
            e.show_error("")
        name = ""
        try:
            name = validate_resource_name(self.name.text(), "network")
        except ValueError as exc:
            self.name_error.show_error(str(exc))
            ok = False
        if not self.name.text().strip():
            self.name_error.show_error("A network needs a name.")
            ok = False
        driver = self.driver.currentText().strip()
        if not driver:
            self.driver_error.show_error("Choose a driver (bridge is the default).")
            ok = False
        subnet: str | None = None
        try:
            subnet = validate_subnet(self.subnet.text())
        except ValueError as exc:
            self.subnet_error.show_error(str(exc))
            ok = False
        gateway: str | None = None
        if ok or subnet is not None:
            try:
                gateway = validate_gateway(self.gateway.text(), subnet)
            except ValueError as exc:
                self.gateway_error.show_error(str(exc))
                ok = False
        if not ok:
            return None
        client = self.ctx.client

        async def create() -> str:
            result: str = await client.networks.create(
                name, driver=driver, subnet=subnet, gateway=gateway
            )
            return result

        return self._launch(create)

    def _error(self, exc: BaseException) -> bool:
        text = describe(exc)
        low = text.lower()
        if "overlap" in low or "subnet" in low or "pool" in low:
            self.subnet_error.show_error(text)
        elif "already exists" in low:
            self.name_error.show_error(text)
        elif "driver" in low or "plugin" in low:
            self.driver_error.show_error(text)
        else:
            self.general_error.show_error(text)
        return True
