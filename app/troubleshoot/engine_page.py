"""Troubleshoot ▸ Engine: restart the engine (progress, result) and its live log (view, save).

Data flow: "Restart engine" runs ``engine.restart()`` on the runner (key ``engine.lifecycle``,
the same as the footer's Restart, so the two never overlap); while it runs, the context's
``engine_status_changed`` names the step (stopping, starting) next to a busy bar, and the result
(how long it took, or the engine's error) replaces it. The log below is a :class:`LogTail` on the
engine's log file (``files.engine_files``); an engine Portside attaches to has no log or restart
of ours, and the page says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded, still_alive
from app.dialogs.frame import WrapLabel
from app.runner import describe_error
from app.troubleshoot.files import engine_files
from app.troubleshoot.logview import LogTail, save_log
from app.troubleshoot.parts import action_row, open_save_dialog
from engine.lifecycle.base import EngineState, EngineStatus

STEP_TEXT = {
    EngineState.STOPPING: "Stopping the engine…",
    EngineState.STOPPED: "Engine stopped; starting it again…",
    EngineState.STARTING: "Starting the engine…",
    EngineState.RUNNING: "Engine running.",
    EngineState.FAILED: "The engine failed.",
}


class EnginePage(QWidget):
    """Restart with progress and result; the engine log, live, with Save log…"""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.files = engine_files(ctx.engine)
        self._started_at: float | None = None
        self.save_dialog: QFileDialog | None = None

        intro = WrapLabel(
            "Restarting stops the engine and starts it again; running containers stop, and "
            "those with a restart policy start again with it."
        )
        self.restart_button = QPushButton("Restart engine")
        self.restart_button.setObjectName("primaryButton")
        self.restart_button.clicked.connect(self.restart)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Restart progress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.result_label = WrapLabel("")
        self.result_label.setAccessibleName("Restart result")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        title = QLabel("Engine log")
        title.setObjectName("sectionTitle")
        self.path_label = WrapLabel("")
        self.path_label.setObjectName("muted")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.follow_box = QCheckBox("Follow new lines")
        self.follow_box.setChecked(True)
        self.follow_box.toggled.connect(self._set_follow)
        self.save_button = QPushButton("Save log…")
        self.save_button.setToolTip("Save the engine log with passwords and tokens redacted")
        self.save_button.clicked.connect(self.ask_save)
        log_row = QHBoxLayout()
        log_row.addWidget(title)
        log_row.addStretch(1)
        log_row.addWidget(self.follow_box)
        log_row.addWidget(self.save_button)
        self.log = LogTail(self)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(action_row(self.restart_button, self.progress))
        lay.addWidget(self.result_label)
        lay.addSpacing(8)
        lay.addLayout(log_row)
        lay.addWidget(self.path_label)
        lay.addWidget(self.log, 1)

        if self.files.log_file is None:
            self.restart_button.setEnabled(False)
            self.save_button.setEnabled(False)
            self.follow_box.setEnabled(False)
            message = (
                f"Portside is attached to an engine it does not run ({self.files.endpoint}): "
                "restart it, and read its log, where it runs (for a system Docker: "
                "`sudo systemctl restart docker`, `journalctl -u docker`)."
            )
            self.result_label.setText(message)
            for widget in (title, self.follow_box, self.save_button, self.path_label, self.log):
                widget.hide()  # no log of ours to show
            lay.addStretch(1)
        else:
            self.path_label.setText(str(self.files.log_file))
            self.log.set_path(self.files.log_file)
        ctx.engine_status_changed.connect(guarded(self, self._on_status))

    # -- restart ------------------------------------------------------------------------------
    def restart(self) -> None:
        """Restart the engine; the page shows each step and then the result."""
        if self.ctx.runner.in_flight("engine.lifecycle"):
            self.result_label.setText("The engine is already starting or stopping; wait for it.")
            return
        self._started_at = time.monotonic()
        self.restart_button.setEnabled(False)
        self.progress.show()
        self.result_label.setText("Restarting the engine…")
        self.ctx.runner.run(
            self.ctx.engine.restart,
            key="engine.lifecycle",
            title="Restart engine",
            on_done=guarded(self, self._restarted),
            on_error=self._restart_failed,
            notify_when_hidden=True,
            work="Restart the engine",  # an engine switch asks before stopping it
        )

    def _on_status(self, status: EngineStatus) -> None:
        if self._started_at is not None and status.state in STEP_TEXT:
            self.result_label.setText(STEP_TEXT[status.state])

    def _finish(self) -> float:
        took = time.monotonic() - (self._started_at or time.monotonic())
        self._started_at = None
        self.progress.hide()
        self.restart_button.setEnabled(True)
        return took

    def _restarted(self, status: Any) -> None:
        took = self._finish()
        self.result_label.setText(f"The engine runs again (the restart took {took:.1f} s).")
        self.log.read_new()

    def _restart_failed(self, exc: BaseException) -> bool:
        if not still_alive(self):
            return False  # the window was deleted: the runner shows the error instead
        self._finish()
        if not self.isVisible():
            return False  # the window is closed: the runner shows the error instead
        self.result_label.setText(
            f"The engine did not start again: {describe_error(exc).splitlines()[0]} "
            "The engine log below says why; fix it, then Restart again."
        )
        self.log.read_new()
        return True

    # -- log ----------------------------------------------------------------------------------
    def _set_follow(self, on: bool) -> None:
        self.log.follow = on
        if on:
            self.log.read_new()

    def ask_save(self) -> QFileDialog:
        """A Save dialog (Qt's own, so it looks and behaves the same everywhere)."""
        self.save_dialog = open_save_dialog(
            self, "Save the engine log", "portside-engine-%Y%m%d-%H%M%S.log",
            "Log files (*.log);;All files (*)", "log", self.save_to,
        )
        return self.save_dialog

    def save_to(self, target: Path) -> None:
        assert self.files.log_file is not None
        try:
            size = save_log(self.files.log_file, target)
        except OSError as exc:
            self.result_label.setText(
                f"Could not save the log to {target}: {exc.strerror or exc}. Choose another "
                "folder."
            )
            return
        self.result_label.setText(
            f"Saved the engine log to {target} ({size} bytes; passwords and tokens are "
            "replaced by <redacted>)."
        )
