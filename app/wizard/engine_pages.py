"""Choose the engine, and (for the VM) its CPUs, memory and disk.

Engine page: Portside's own engine, Portside's Linux VM, or one radio per engine this machine
already has (:func:`engine.doctor.existing_engines`: ``/var/run/docker.sock``, ``DOCKER_HOST``,
docker contexts — probed in a worker thread, each ``/_ping`` with a short timeout). Next stores
the choice in the settings (:mod:`app.wizard.choice`); the start page switches to it.

Resources page (only after choosing the VM): spin boxes bounded by the host
(:func:`engine.vm.layout.resolve_resources`), written to the VM's ``vm.json`` atomically with a
``.bak`` backup, other keys kept.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from PySide6.QtWidgets import QButtonGroup, QFormLayout, QLabel, QRadioButton, QSpinBox

from app.wizard.base import Page
from app.wizard.choice import EngineChoice, apply_choice, same_engine

ATTACHABLE = ("unix://", "tcp://")


class EnginePage(Page):
    """One radio per engine Portside can use."""

    key = "engine"
    title_text = "Choose the engine"
    subtitle_text = "Where your containers run. You can change it later in Settings."

    def __init__(self) -> None:
        super().__init__()
        self.group = QButtonGroup(self)
        self.options: list[tuple[QRadioButton, EngineChoice]] = []
        self.native = self._option(
            "Portside's own &engine", EngineChoice("native"),
            "Runs dockerd on this machine, started and stopped with Portside.")
        self.vm = self._option(
            "Portside's Linux &VM", EngineChoice("vm"),
            "Runs dockerd in a small QEMU virtual machine, apart from this system.")
        self.existing_title = QLabel("Engines already on this machine:")
        self.body.addWidget(self.existing_title)
        self.existing_note = self.text("Looking for engines…", name="muted")
        self._existing_start = self.body.count()
        self.body.addStretch(1)
        self.found: list[Any] = []
        self._looked = False
        self.first_focus = self.native

    def _option(self, label: str, choice: EngineChoice, note: str,
                index: int | None = None) -> QRadioButton:
        radio = QRadioButton(label)
        radio.setAccessibleDescription(note)
        radio.setToolTip(note)
        self.group.addButton(radio)
        self.options.append((radio, choice))
        if index is None:
            self.body.addWidget(radio)
            hint = self.text(note, name="muted")
            hint.setContentsMargins(24, 0, 0, 0)
        else:
            self.body.insertWidget(index, radio)
        return radio

    def enter(self) -> None:
        self._select(self.wiz.choice)
        if not self._looked:
            self._looked = True
            source = self.wiz.existing_source
            if source is None:
                from engine.doctor import existing_engines

                source = existing_engines
            self.run(
                lambda: asyncio.to_thread(source), key="wizard.existing",
                title="Look for engines", on_done=self.show_existing, on_error=self._failed,
            )

    def _failed(self, exc: BaseException) -> bool:
        self.existing_note.setText(f"Could not look for other engines: {exc}")
        return True

    def show_existing(self, engines: list[Any]) -> None:
        self.found = list(engines)
        index = self._existing_start
        for found in self.found:
            usable = found.endpoint.startswith(ATTACHABLE)
            if found.reachable is True:
                state = "answers"
            elif found.reachable is False:
                state = "does not answer"
            else:
                state = "not checked"
            label = f"{found.name} — {found.endpoint} ({state})"
            radio = self._option(label, EngineChoice("existing", found.endpoint),
                                 found.detail or f"found through {found.source}", index)
            radio.setAccessibleName(f"Existing engine {found.name}")
            radio.setEnabled(usable and found.reachable is not False)
            if not usable:
                radio.setToolTip(f"Portside attaches to unix:// and tcp:// engines only. "
                                 f"{found.detail}")
            index += 1
        self.existing_note.setText(
            "Attaching leaves that engine running when Portside quits, like `portside --host`."
            if self.found else
            "None found (no /var/run/docker.sock, DOCKER_HOST or docker context answers)."
        )
        self._select(self.wiz.choice)

    def _select(self, choice: EngineChoice) -> None:
        from app.wizard.choice import _normal

        for radio, option in self.options:
            if option.kind == choice.kind and (
                option.kind != "existing" or _normal(option.host) == _normal(choice.host)
            ):
                radio.setChecked(True)
                return

    def selected(self) -> EngineChoice | None:
        for radio, option in self.options:
            if radio.isChecked():
                return option
        return None

    def apply(self) -> bool:
        choice = self.selected()
        if choice is None:
            return True
        self.wiz.choice = choice
        apply_choice(self.wiz.settings, choice)
        self.wiz._save()
        if choice.kind != "vm":  # the VM waits for its resources page
            self.wiz.start_page().start_early()
        return True


class ResourcesPage(Page):
    """CPUs, memory and disk of the VM, bounded by this host."""

    key = "resources"
    title_text = "Resources for the VM"
    subtitle_text = "What the Linux VM may use. Defaults fit this machine."

    def __init__(self) -> None:
        super().__init__()
        from engine.vm.layout import host_memory_bytes

        self.host_cpus = max(1, os.cpu_count() or 1)
        memory = host_memory_bytes()
        self.host_mib = memory // (1024 * 1024) if memory else 64 * 1024
        form = QFormLayout()
        self.cpus = QSpinBox()
        self.cpus.setRange(1, self.host_cpus)
        self.cpus.setSuffix(f" of {self.host_cpus}")
        self.memory = QSpinBox()
        self.memory.setRange(512, max(512, self.host_mib - 512))
        self.memory.setSingleStep(256)
        self.memory.setSuffix(" MiB")
        self.disk = QSpinBox()
        self.disk.setRange(8, 64 * 1024)
        self.disk.setSuffix(" GiB")
        form.addRow("CPUs:", self.cpus)
        form.addRow("Memory:", self.memory)
        form.addRow("Disk (grows as used):", self.disk)
        for label, spin in (("CPUs", self.cpus), ("Memory", self.memory),
                            ("Disk", self.disk)):
            spin.setAccessibleName(label)
            spin.setMaximumWidth(240)
        self.body.addLayout(form)
        self.note = self.text("", name="muted")
        self.body.addStretch(1)
        self.first_focus = self.cpus

    def settings_file(self) -> Any:
        from engine.vm.layout import VMPaths

        return VMPaths.default().settings_file

    def enter(self) -> None:
        from engine.errors import LifecycleError
        from engine.vm.layout import VMSettings, host_memory_bytes, resolve_resources

        path = self.settings_file()
        try:
            current = VMSettings.load(path)
        except LifecycleError as exc:
            self.note.setText(f"{exc} Next writes the values shown here instead.")
            current = VMSettings()
        else:
            self.note.setText(self._saving_note(path))
        res = resolve_resources(current, os.cpu_count(), host_memory_bytes())
        self.cpus.setValue(res.cpus)
        self.memory.setValue(res.memory_mib)
        self.disk.setValue(res.disk_gib)

    def _saving_note(self, path: Any) -> str:
        """What Next does with the values: a running VM gets them only from its next start."""
        from engine.lifecycle.base import EngineState

        ctx = self.wiz.ctx
        vm_runs = (same_engine(ctx.engine, ctx.attached, EngineChoice("vm"))
                   and ctx.engine.status.state == EngineState.RUNNING)
        if vm_runs:
            return f"Next saves them in {path}; the running VM uses them from its next start."
        return f"Next saves them in {path} and starts the VM with them."

    def apply(self) -> bool:
        from engine.lifecycle.jsonfiles import write_json_atomic

        path = self.settings_file()
        data: dict[str, Any] = {}
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                data = loaded
        except (OSError, ValueError):
            pass
        data.update(cpus=self.cpus.value(), memory_mib=self.memory.value(),
                    disk_gib=self.disk.value())
        try:
            write_json_atomic(path, data, backup=path.exists())
        except OSError as exc:
            self.note.setText(f"Could not write {path}: {exc.strerror}. Fix the folder's "
                              "permissions, or Skip to keep the defaults.")
            return False
        self.wiz.start_page().start_early()
        return True
