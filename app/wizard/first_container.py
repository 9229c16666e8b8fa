"""The last page: run a first container and open its logs in the window.

Finish ("Run and show logs", Enter) runs :func:`app.wizard.first_image.run_first_container`
as a task of the app's runner (registry when reachable, else the offline sample image), shows
each step, and when the container started emits ``container_started(id)`` — the window opens
the Containers view on that container's Logs tab — and closes the guide as finished. Skip
finishes without running anything.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPlainTextEdit, QWizard

from app.wizard.base import Page
from app.wizard.first_image import SAMPLE_TAG, registry_image, run_first_container


class FirstContainerPage(Page):
    """Pull or load a tiny image, start it, then show its logs."""

    key = "first"
    title_text = "Run your first container"
    subtitle_text = "A tiny container that prints a greeting; its logs open in the window."

    def __init__(self) -> None:
        super().__init__()
        self.intro = self.text(
            f"Portside pulls {registry_image()} when its registry is reachable; without a "
            f"network it uses {SAMPLE_TAG}, a small image Portside built offline. Run and show "
            "logs (Enter) starts it; Skip finishes the guide without it."
        )
        self.steps = QPlainTextEdit()
        self.steps.setReadOnly(True)
        self.steps.setAccessibleName("Progress")
        self.body.addWidget(self.steps, 1)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Run and show logs")
        self.container_id = ""
        self.image = ""
        self.running = False
        self.image_override: str | None = None
        self.reachable: Any = None
        self._task: Any = None

    def enter(self) -> None:
        self.first_focus = self.wiz.button(QWizard.WizardButton.FinishButton)
        if self.wiz.ctx.client is None:
            self.steps.setPlainText("The engine is not running: go Back to start it, or Skip.")

    def leave(self) -> None:
        """Closed half-way (Close, Escape): the run stops. The step is kept, so the next launch
        runs it again; left going, it died at its next progress line on the deleted page."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def isComplete(self) -> bool:
        return not self.running

    def apply(self) -> bool:
        if self.container_id:
            return True
        if self.running:
            return False
        client = self.wiz.ctx.client
        if client is None:
            self.steps.appendPlainText(
                "The engine is not running: go Back to start it, or Skip to finish without a "
                "container.")
            return False
        self.running = True
        self.completeChanged.emit()
        self.steps.clear()
        kwargs: dict[str, Any] = {"image": self.image_override}
        if self.reachable is not None:
            kwargs["reachable"] = self.reachable
        self._task = self.run(
            lambda: run_first_container(client, self.steps.appendPlainText, **kwargs),
            key="wizard.first", title="Run the first container", work="Run the first container",
            on_done=self._started, on_error=self._failed,
        )
        return False

    def _started(self, result: tuple[str, str]) -> None:
        self.running = False
        self.container_id, self.image = result
        self.steps.appendPlainText(f"Started {self.container_id[:12]} from {self.image}.")
        self.wiz.container_started.emit(self.container_id)
        self.wiz.accept()

    def _failed(self, exc: BaseException) -> bool:
        self.running = False
        self.completeChanged.emit()
        self.steps.appendPlainText(f"Could not run the first container: {exc}")
        self.setButtonText(QWizard.WizardButton.FinishButton, "T&ry again")
        return True
