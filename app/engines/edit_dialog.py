"""Add or edit an engine: unix socket, TCP with TLS files, or SSH — with a connection test.

Data flow: the fields go through :func:`app.engines.form.engine_request` (pure rules, a
sentence per mistake shown under the form, the field to fix gets the focus); **Test
connection** probes a throw-away :class:`engine.engines.EngineEntry` on the qasync loop and
shows the state, version and OS/arch or the reason in words (which side of TLS failed, what ssh
said); **Save** calls ``engine.engines.add_engine`` / ``update_engine`` (engines.json, written
atomically; TLS files copied with mode 0600 by the engine side) and emits ``saved(entry)``.
The CA, certificate and key fields each have a Browse… button (a file picker).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import PortsideDialog, WrapLabel, grow_to_fit, name_form_fields
from app.engines.form import (
    EXAMPLES,
    KIND_TITLES,
    KINDS,
    FormError,
    FormValues,
    engine_request,
    split_url,
)
from engine.engines import EngineEntry, add_engine, probe, update_engine
from engine.errors import PortsideError

TLS_FIELDS = (("ca", "CA certificate"), ("cert", "Client certificate"), ("key", "Client key"))


class EngineEditDialog(PortsideDialog):
    """The add/edit form; ``entry`` None adds a new engine."""

    saved = Signal(object)  # the EngineEntry written
    survives_engine_switch = True

    def __init__(self, entry: EngineEntry | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setWindowTitle("Edit engine" if entry else "Add engine")
        self.name = QLineEdit()
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(KIND_TITLES[kind], kind)
        self.address = QLineEdit()
        self.tls = QCheckBox("Use TLS")
        self.tls.setAccessibleName("Use TLS")
        self.verify = QCheckBox("Verify the engine's certificate (--tlsverify)")
        self.verify.setAccessibleName("Verify the engine's certificate")
        self.verify.setChecked(True)
        self.files: dict[str, QLineEdit] = {}
        self.browse: dict[str, QPushButton] = {}
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Connect over:", self.kind)
        form.addRow("Address:", self.address)
        self.ssh_note = WrapLabel(
            "Portside runs `ssh … docker system dial-stdio` with your ssh config and agent, like "
            "the docker CLI. The host key must be known already: connect once with ssh first."
        )
        self.ssh_note.setObjectName("muted")
        form.addRow("", self.ssh_note)
        form.addRow("", self.tls)
        form.addRow("", self.verify)
        self.file_rows: dict[str, QWidget] = {}
        for key, title in TLS_FIELDS:
            edit = QLineEdit()
            edit.setAccessibleName(title)
            button = QPushButton("Browse…")
            button.setAccessibleName(f"Choose the {title.lower()} file")
            button.clicked.connect(lambda _c=False, k=key, t=title: self.pick_file(k, t))
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(edit, 1)
            line.addWidget(button)
            self.files[key], self.browse[key], self.file_rows[key] = edit, button, row
            form.addRow(f"{title}:", row)
        name_form_fields(form)
        self.form = form
        self.error = WrapLabel()
        self.error.setObjectName("fieldError")
        self.error.hide()
        self.outcome = WrapLabel()
        self.outcome.setObjectName("muted")
        self.outcome.hide()
        self.test_button = QPushButton("Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = box.addButton(
            "Save" if entry else "Add", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setAccessibleName("Save engine" if entry else "Add engine")
        box.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.rejected.connect(self.reject)
        self.save_button.clicked.connect(self.save)
        self.set_default_button(self.save_button, box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.outcome)
        layout.addWidget(box)
        self.first_field = self.name
        self._probe_task: asyncio.Task[None] | None = None
        self.file_dialog: QFileDialog | None = None
        self.kind.currentIndexChanged.connect(self._update)
        self.tls.toggled.connect(self._update)
        self.verify.toggled.connect(self._update)
        if entry is not None:
            self._fill(entry)
        self._update()
        self.setMinimumWidth(560)

    def _fill(self, entry: EngineEntry) -> None:
        kind, address = split_url(entry.url)
        self.name.setText(entry.name)
        self.kind.setCurrentIndex(KINDS.index(kind))
        self.address.setText(address)
        tls = entry.tls
        self.tls.setChecked(tls is not None)
        if tls is not None:
            self.verify.setChecked(tls.verify)
            for key, path in (("ca", tls.ca_cert), ("cert", tls.client_cert),
                              ("key", tls.client_key)):
                self.files[key].setText(str(path or ""))

    def _update(self, *_: Any) -> None:
        kind = self.kind.currentData()
        self.address.setPlaceholderText(EXAMPLES[kind])
        tcp = kind == "tcp"
        self.ssh_note.setVisible(kind == "ssh")
        self.tls.setVisible(tcp)
        on = tcp and self.tls.isChecked()
        self.verify.setVisible(on)
        for row in self.file_rows.values():
            row.setVisible(on)
            label = self.form.labelForField(row)
            if label is not None:
                label.setVisible(on)
        layout = self.layout()
        if self.isVisible() and layout is not None:
            # fields came or went: as tall as the form now needs (grow_to_fit never shrinks)
            layout.activate()
            self.resize(self.width(), layout.totalSizeHint().height())
        grow_to_fit(self)

    def values(self) -> FormValues:
        return FormValues(
            name=self.name.text(), kind=str(self.kind.currentData()),
            address=self.address.text(), tls=self.tls.isChecked(),
            verify=self.verify.isChecked(), ca=self.files["ca"].text(),
            cert=self.files["cert"].text(), key=self.files["key"].text(),
        )

    def pick_file(self, key: str, title: str) -> QFileDialog:
        """The file picker for one TLS file; opens window-modal and fills the field when done."""
        start = self.files[key].text() or self.files["ca"].text()
        dialog = QFileDialog(self, f"Choose the {title.lower()}", start,
                             "PEM files (*.pem *.crt *.key);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.files[key].setText)
        self.file_dialog = dialog
        dialog.open()
        return dialog

    # -- checking -----------------------------------------------------------------------------
    def show_error(self, text: str, field: str = "") -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        target = {"name": self.name, "address": self.address, "kind": self.kind}.get(field)
        target = target or self.files.get(field)
        if target is not None:
            target.setFocus()
        grow_to_fit(self)

    def request(self) -> tuple[str, Any] | None:
        try:
            url, tls = engine_request(self.values())
        except FormError as exc:
            self.show_error(str(exc), exc.field)
            return None
        self.show_error("")
        return url, tls

    def test_connection(self) -> asyncio.Task[None] | None:
        """Probe what the form describes; the answer shows under the form."""
        got = self.request()
        if got is None:
            return None
        url, tls = got
        entry = EngineEntry(id="test", name=self.name.text().strip(), kind="user", url=url,
                            tls=tls)
        self.outcome.setText(f"Connecting to {url}…")
        self.outcome.show()
        self.test_button.setEnabled(False)
        if self._probe_task is not None:
            self._probe_task.cancel()
        self._probe_task = asyncio.ensure_future(self._test(entry))
        return self._probe_task

    async def _test(self, entry: EngineEntry) -> None:
        try:
            found = await probe(entry)
        finally:
            if shiboken6.isValid(self):
                self.test_button.setEnabled(True)
        if not shiboken6.isValid(self):
            return
        if found.running:
            self.outcome.setText(
                f"Connected: Docker {found.version} on {found.os}/{found.arch}."
            )
        else:
            self.outcome.setText(f"Not connected ({found.state}): {found.reason}")
        grow_to_fit(self)

    # -- saving -------------------------------------------------------------------------------
    def save(self) -> EngineEntry | None:
        got = self.request()
        if got is None:
            return None
        url, tls = got
        name = self.name.text().strip()
        try:
            if self.entry is None:
                entry = add_engine(name, url, tls)
            else:
                entry = update_engine(self.entry.id, name=name, url=url, tls=tls)
        except (PortsideError, OSError) as exc:
            self.show_error(f"The engine was not saved: {exc}")
            return None
        self.saved.emit(entry)
        self.accept()
        return entry

    def done(self, result: int) -> None:
        if self._probe_task is not None:
            with contextlib.suppress(RuntimeError):
                self._probe_task.cancel()
        super().done(result)
