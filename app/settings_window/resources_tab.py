"""Settings > Resources: what the Linux VM gets (CPUs, memory, disk size, swap, shared folders).

Data flow: the VM folder's ``vm.json`` (``VMPaths.default().settings_file``, or the running
VMEngine's) -> ``VMSettings`` -> ``resolve_resources`` (the defaults, bounded by this host) ->
the spin boxes, whose ranges are the host's limits (CPUs up to the host's count, memory up to the
host's RAM less 512 MiB). "Apply" writes the changed keys with ``engine.vm.vmjson.update``
(unknown keys kept, old file as ``vm.json.bak``); the VM uses them from its next start (the disk
only grows: ``qemu-img resize``). "Use defaults" removes the keys again.

Swap is not offered: the VM image has no swap support yet (it would need the guest's init to
make and enable a swap file). On Linux the native engine is the default; these settings matter
when the ``engine`` setting is ``vm`` (or on macOS and Windows).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import WrapLabel, grow_to_fit, name_form_fields
from engine.errors import LifecycleError
from engine.vm import vmjson
from engine.vm.layout import VMPaths, VMSettings, host_memory_bytes, resolve_resources
from engine.vm.share import default_shares


def vm_settings_file(ctx: Any) -> Path:
    """The vm.json of the VM the app runs, else of the default VM folder."""
    paths = getattr(getattr(ctx, "engine", None), "paths", None)
    if isinstance(paths, VMPaths):
        return paths.settings_file
    return VMPaths.default().settings_file


class ResourcesTab(QWidget):
    """CPUs, memory, disk and shared folders of the VM, bounded by the host."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.ctx = window.ctx
        self.path = vm_settings_file(self.ctx)
        self.host_cpus = max(1, os.cpu_count() or 1)
        memory = host_memory_bytes()
        self.host_mib = memory // (1024 * 1024) if memory else None
        self.intro = WrapLabel()
        self.intro.setObjectName("muted")
        self.cpus = QSpinBox()
        self.cpus.setRange(1, self.host_cpus)
        self.cpus.setSuffix(f" of {self.host_cpus}")
        self.memory = QSpinBox()
        top = max(512, self.host_mib - 512) if self.host_mib else 1024 * 1024
        self.memory.setRange(512, top)
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MiB")
        self.disk = QSpinBox()
        self.disk.setRange(8, 64 * 1024)
        self.disk.setSuffix(" GiB")
        self.disk.setToolTip("The VM's data disk: it takes only what is written, and only grows")
        self.swap = QSpinBox()
        self.swap.setRange(0, 64 * 1024)
        self.swap.setSingleStep(256)
        self.swap.setSuffix(" MiB")
        self.swap.setSpecialValueText("None")
        self.swap.setToolTip("A swap file on the VM's data disk (at most a quarter of it)")
        self.shares = QListWidget()
        self.shares.setAccessibleName("Shared folders")
        self.shares.setMaximumHeight(110)
        self.add_share = QPushButton("Add folder…")
        self.add_share.clicked.connect(self._add_folder)
        self.remove_share = QPushButton("Remove")
        self.remove_share.setAccessibleName("Remove the selected shared folder")
        self.remove_share.clicked.connect(self._remove_folder)
        share_buttons = QVBoxLayout()
        share_buttons.addWidget(self.add_share)
        share_buttons.addWidget(self.remove_share)
        share_buttons.addStretch(1)
        share_row = QWidget()
        share_layout = QHBoxLayout(share_row)
        share_layout.setContentsMargins(0, 0, 0, 0)
        share_layout.addWidget(self.shares, 1)
        share_layout.addLayout(share_buttons)
        form = QFormLayout()
        form.addRow("CPUs:", self.cpus)
        form.addRow("Memory:", self.memory)
        form.addRow("Disk size:", self.disk)
        form.addRow("Swap:", self.swap)
        form.addRow("Shared folders:", share_row)
        name_form_fields(form)
        self.message = WrapLabel()
        self.message.hide()
        self.defaults_button = QPushButton("Use defaults")
        self.defaults_button.setToolTip("Remove these keys from vm.json: the VM gets what fits "
                                        "this machine")
        self.defaults_button.clicked.connect(self.use_defaults)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("primaryButton")
        self.apply_button.setAccessibleName("Apply the VM resources")
        self.apply_button.clicked.connect(self.apply)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.defaults_button)
        row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(row)
        self.first_field: QWidget = self.cpus
        #: Return in a spin box applies (SettingsWindow makes it the default button here)
        self.default_button = self.apply_button
        self.reload()

    def reload(self) -> None:
        host = f"This machine has {self.host_cpus} CPUs" + (
            f" and {self.host_mib} MiB of memory." if self.host_mib else "."
        )
        self.intro.setText(
            f"The Linux VM's resources ({self.path}); the VM uses them from its next start. "
            + host
        )
        try:
            settings = VMSettings.load(self.path)
        except LifecycleError as exc:
            self._say(f"{exc} Apply writes the values shown here instead of the bad ones.", True)
            settings = VMSettings()
        res = resolve_resources(settings, os.cpu_count(), host_memory_bytes())
        self.cpus.setValue(res.cpus)
        self.memory.setValue(res.memory_mib)
        self.disk.setValue(res.disk_gib)
        self.swap.setValue(res.swap_mib)
        self.shares.clear()
        if settings.shares is not None:
            folders = list(settings.shares)
        else:
            folders = [s.host_path for s in default_shares()[0]]
        self.shares.addItems(folders)
        if res.notes:
            self._say("; ".join(res.notes) + ".", False)

    def _say(self, text: str, error: bool) -> None:
        self.message.setObjectName("fieldError" if error else "muted")
        style = self.message.style()
        style.unpolish(self.message)
        style.polish(self.message)
        self.message.setText(text)
        self.message.show()
        grow_to_fit(self)

    def folders(self) -> list[str]:
        return [self.shares.item(i).text() for i in range(self.shares.count())]

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Share a folder with the VM",
                                                  str(Path.home()))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        if folder not in self.folders():
            self.shares.addItem(folder)

    def _remove_folder(self) -> None:
        for item in self.shares.selectedItems():
            self.shares.takeItem(self.shares.row(item))

    def apply(self) -> None:
        values = {
            "cpus": self.cpus.value(),
            "memory_mib": self.memory.value(),
            "disk_gib": self.disk.value(),
            "swap_mib": self.swap.value(),
            "shares": self.folders(),
        }
        try:
            vmjson.update(self.path, values)
        except (LifecycleError, OSError) as exc:
            self._say(f"Not saved: {exc}", True)
            return
        self._say(f"Saved in {self.path}. The VM uses these from its next start.", False)

    def use_defaults(self) -> None:
        try:
            keys = ("cpus", "memory_mib", "disk_gib", "swap_mib", "shares")
            vmjson.update(self.path, dict.fromkeys(keys))
        except (LifecycleError, OSError) as exc:
            self._say(f"Not saved: {exc}", True)
            return
        self.reload()
        self._say("Back to the defaults for this machine.", False)
