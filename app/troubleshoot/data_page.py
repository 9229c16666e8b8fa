"""Troubleshoot ▸ Reset: purge the engine's data, reset the settings to factory defaults.

Purge data, data flow: "Purge data…" measures the plan on a worker thread
(``engine.diagnostics.purge.plan_purge``), shows it in a :class:`PurgeDialog`, and once the user
ticked the box and chose Purge: stops the engine (``engine.stop()``), deletes exactly the plan
(``purge`` on a worker thread; it refuses while the engine still holds its lock or a mount is
left) and starts the engine again, empty. All on the runner under ``troubleshoot.purge``.

Reset, data flow: a question (Cancel is the default) -> ``app.troubleshoot.reset.reset_settings``
on the shared Settings object (a copy of the file is kept) -> the theme follows the system again
(through the main window when there is one) -> the page says where the copy is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded, still_alive
from app.dialogs.common import human_size
from app.dialogs.frame import WrapLabel
from app.troubleshoot.files import engine_files
from app.troubleshoot.purge_dialog import PurgeDialog
from app.troubleshoot.reset import ResetResult, reset_settings
from engine.diagnostics.purge import PurgePlan, PurgeResult, plan_purge, purge
from engine.lifecycle.base import EngineState


def _left(button: QPushButton) -> QHBoxLayout:
    """A row with ``button`` at its natural width on the left."""
    row = QHBoxLayout()
    row.addWidget(button)
    row.addStretch(1)
    return row


class DataPage(QWidget):
    """Two sections: Purge data…, Reset to factory defaults…"""

    def __init__(self, ctx: Any, settings: Any, main_window: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings
        self.main_window = main_window
        self.files = engine_files(ctx.engine)
        self.purge_dialog: PurgeDialog | None = None
        self.purge_result: PurgeResult | None = None
        self.reset_result: ResetResult | None = None
        self.question: QMessageBox | None = None

        purge_title = QLabel("Purge data")
        purge_title.setObjectName("sectionTitle")
        purge_text = WrapLabel(
            "Deletes every image, container and volume and the build cache of Portside's "
            "engine (and the VM's disks), after stopping it. Your settings, daemon.json, the "
            "docker CLI's configuration and your logins are kept. You see the list, with sizes, "
            "before anything is deleted."
        )
        self.purge_button = QPushButton("Purge data…")
        self.purge_button.clicked.connect(self.ask_purge)
        reset_title = QLabel("Reset to factory defaults")
        reset_title.setObjectName("sectionTitle")
        reset_text = WrapLabel(
            "Puts every Portside setting back to its default and turns start-at-login off; a "
            "copy of your current settings is kept. The first-run guide opens the next time "
            "Portside starts. The engine's data and your logins are not touched."
        )
        self.reset_button = QPushButton("Reset to factory defaults…")
        self.reset_button.clicked.connect(self.ask_reset)
        self.result_label = WrapLabel("")
        self.result_label.setAccessibleName("Result")
        lay = QVBoxLayout(self)
        lay.addWidget(purge_title)
        lay.addWidget(purge_text)
        lay.addLayout(_left(self.purge_button))
        lay.addSpacing(12)
        lay.addWidget(reset_title)
        lay.addWidget(reset_text)
        lay.addLayout(_left(self.reset_button))
        lay.addSpacing(12)
        lay.addWidget(self.result_label)
        lay.addStretch(1)
        if not self.files.managed:
            self.purge_button.setEnabled(False)
            purge_text.setText(
                f"Portside is attached to an engine it does not run ({self.files.endpoint}); "
                "its data is not Portside's to delete."
            )

    # -- purge --------------------------------------------------------------------------------
    def ask_purge(self) -> Any:
        """Measure what a purge deletes, then show it and ask."""
        paths, vm_root = self.files.paths, self.files.vm_root
        if paths is None:
            return None
        self.purge_button.setEnabled(False)
        self.result_label.setText("Measuring the engine's data…")
        return self.ctx.runner.run(
            lambda: asyncio.to_thread(plan_purge, paths, vm_root),
            key="troubleshoot.purge",
            title="Purge data",
            on_done=guarded(self, self._show_plan),
            on_error=guarded(self, self._purge_failed),
        )

    def _show_plan(self, plan: PurgePlan) -> None:
        self.result_label.setText("")
        self.purge_button.setEnabled(True)
        dialog = PurgeDialog(plan, self)
        dialog.accepted.connect(lambda: self.run_purge(plan))
        dialog.finished.connect(dialog.deleteLater)
        self.purge_dialog = dialog
        dialog.open()

    def run_purge(self, plan: PurgePlan) -> Any:
        """Stop the engine, delete the plan, start the engine again."""
        paths, vm_root = self.files.paths, self.files.vm_root
        assert paths is not None
        engine = self.ctx.engine
        was_stopped = engine.status.state is EngineState.STOPPED
        self.purge_button.setEnabled(False)
        self.result_label.setText("Stopping the engine…")

        async def go() -> PurgeResult:
            if engine.status.state is not EngineState.STOPPED:
                await engine.stop()
            if still_alive(self):
                self.result_label.setText(f"Deleting {human_size(plan.total)}…")
            return await asyncio.to_thread(purge, plan, paths, vm_root)

        ctx = self.ctx

        # The page goes with its window; the engine this purge stopped starts again regardless
        # (guarded callbacks alone would leave it stopped), and a refusal nobody can see on the
        # page is reported by the runner.
        def purged(result: PurgeResult) -> None:
            if still_alive(self):
                self._purged(result)
            else:
                ctx.start_engine()

        def refused(exc: BaseException) -> bool:
            if still_alive(self):
                return self._purge_refused(exc, was_stopped)
            if not was_stopped:
                ctx.start_engine()
            return False

        return self.ctx.runner.run(
            go, key="troubleshoot.purge", title="Purge data", work="Purge engine data",
            on_done=purged, on_error=refused,
        )

    def _purge_refused(self, exc: BaseException, was_stopped: bool) -> bool:
        """Nothing was deleted (e.g. another process owns the VM or the engine): the engine this
        purge stopped starts again, as the dialog promised."""
        self._purge_failed(exc)
        if not was_stopped:
            self.result_label.setText(self.result_label.text() + " The engine starts again.")
            self.ctx.start_engine()
        return True

    def _purged(self, result: PurgeResult) -> None:
        self.purge_result = result
        self.purge_button.setEnabled(True)
        text = f"Purged: {len(result.removed)} item(s), {human_size(result.freed)} freed."
        if result.failed:
            text += " Not deleted: " + "; ".join(f"{p} ({why})" for p, why in result.failed)
        self.result_label.setText(text + " The engine starts again, empty.")
        self.ctx.start_engine()

    def _purge_failed(self, exc: BaseException) -> bool:
        self.purge_button.setEnabled(True)
        self.result_label.setText(f"Nothing more was deleted: {exc}")
        return True

    # -- reset --------------------------------------------------------------------------------
    def ask_reset(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question, "Reset to factory defaults",
            "Put every Portside setting back to its default?", parent=self,
        )
        box.setInformativeText(
            "A copy of your current settings is kept next to them. The first-run guide opens "
            "the next time Portside starts. The engine's data and your logins are not touched."
        )
        reset = box.addButton("Reset", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _r: box.clickedButton() is reset and self.reset())
        box.finished.connect(box.deleteLater)
        self.question = box
        box.open()
        return box

    def reset(self) -> ResetResult | None:
        try:
            result = reset_settings(self.settings)
        except (OSError, ValueError) as exc:
            self.result_label.setText(
                f"Could not reset the settings ({self.settings.path}): {exc}. Nothing changed."
            )
            return None
        self.reset_result = result
        if self.main_window is not None and hasattr(self.main_window, "set_theme"):
            self.main_window.set_theme(self.settings.theme)
        kept = f" Your previous settings are in {result.backup}." if result.backup else ""
        self.result_label.setText(
            "The settings are back to their defaults." + kept + " " + " ".join(result.notes)
            + " The first-run guide opens the next time Portside starts."
        )
        return result
