"""Settings > Engine: the engine's ``daemon.json`` in an editor, checked as you type.

Data flow: the text comes from ``<engine folder>/daemon.json`` (``NativeEngine.paths``). Every
edit runs ``engine.lifecycle.daemon_config.check`` (pure, instant): errors (bad JSON with line and
column, wrong types, keys Portside sets itself) are listed in red and block "Apply & restart";
unknown keys are listed as warnings and do not. "Apply & restart" runs
``daemon_config.apply_and_restart`` on the app's runner (key ``engine.daemon-json``): write with
a backup, restart; when dockerd refuses the file the previous one is back and the engine runs
again, and this tab shows dockerd's error and the log's last lines. The engine's own status
changes reach the rest of the window as for any restart (AppContext reconnects).

An engine Portside does not run (attached with ``--host``/``DOCKER_HOST``, or the VM, whose
dockerd reads its configuration inside the VM) has no editable daemon.json here; the tab says so.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded, still_alive
from app.dialogs.frame import WrapLabel, grow_to_fit
from engine.lifecycle import daemon_config

log = logging.getLogger(__name__)

RUN_KEY = "engine.daemon-json"


def managed_paths(ctx: Any) -> Any:
    """The EnginePaths of Portside's own native engine, or None (attached, VM)."""
    from engine.lifecycle import NativeEngine

    engine = getattr(ctx, "engine", None)
    if isinstance(engine, NativeEngine) and not getattr(ctx, "attached", False):
        return engine.paths
    return None


class EngineTab(QWidget):
    """The daemon.json editor with live checks and Apply & restart (automatic roll-back)."""

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window_ = window
        self.ctx = window.ctx
        self.paths = managed_paths(self.ctx)
        self.where = WrapLabel()
        self.where.setObjectName("muted")
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("daemon.json")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setTabChangesFocus(True)
        self.problems = WrapLabel()
        self.problems.setObjectName("fieldError")
        self.problems.setAccessibleName("Problems in daemon.json")
        self.warnings = WrapLabel()
        self.warnings.setObjectName("muted")
        self.result = WrapLabel()
        self.result.setAccessibleName("Result of the last apply")
        self.engine_log = QPlainTextEdit()
        self.engine_log.setReadOnly(True)
        self.engine_log.setAccessibleName("Engine log of the failed start")
        self.engine_log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.engine_log.setMaximumHeight(140)
        self.engine_log.hide()
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Show the file as it is on disk again")
        self.revert_button.clicked.connect(self.reload)
        self.apply_button = QPushButton("Apply && restart")
        self.apply_button.setObjectName("primaryButton")
        self.apply_button.setAccessibleName("Apply and restart the engine")
        self.apply_button.setToolTip("Save daemon.json (the old one is kept as daemon.json.bak) "
                                     "and restart the engine; a file it refuses is rolled back")
        self.apply_button.clicked.connect(self.apply)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problems)
        layout.addWidget(self.warnings)
        layout.addWidget(self.result)
        layout.addWidget(self.engine_log)
        layout.addLayout(buttons)
        self.first_field: QWidget = self.editor
        self._saved_text = ""
        self.report = daemon_config.Report()
        self.editor.textChanged.connect(self._on_text)
        self.reload()

    def reload(self) -> None:
        """Load daemon.json from disk (or explain why there is nothing to edit)."""
        if self.paths is None:
            engine = getattr(self.ctx, "engine", None)
            if getattr(self.ctx, "attached", False) or not getattr(engine, "manages_process",
                                                                     False):
                self.where.setText(
                    "Portside does not run this engine itself, so it has no daemon.json to edit "
                    "here. Change the configuration where that engine runs (its daemon.json), "
                    "then restart it there."
                )
            else:  # the VM: its dockerd reads the configuration baked into the VM image
                self.where.setText(
                    "The Linux VM's dockerd uses the configuration of the VM image, so there is "
                    "no daemon.json to edit here; the VM's resources are under Resources and its "
                    "proxies under Proxies."
                )
            self.editor.setPlainText("")
            self.editor.setEnabled(False)
            self.apply_button.setEnabled(False)
            self.revert_button.setEnabled(False)
            self.problems.hide()
            self.warnings.hide()
            self.result.hide()
            return
        path = self.paths.daemon_json
        self.where.setText(f"{path} — dockerd's configuration. Unknown keys are kept; "
                           "the engine restarts to use a change.")
        try:
            text = daemon_config.read_text(path)
        except OSError as exc:
            text = ""
            self.result.setText(f"Could not read {path}: {exc.strerror or exc}")
        self._saved_text = text
        self.editor.setPlainText(text)
        self._on_text()

    def _on_text(self) -> None:
        text = self.editor.toPlainText()
        self.report = daemon_config.check(text)
        errors = [p.message for p in self.report.errors]
        warnings = [p.message for p in self.report.warnings]
        self.problems.setText("\n".join(errors))
        self.problems.setVisible(bool(errors))
        self.warnings.setText("\n".join(f"Note: {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))
        busy = self.ctx.runner.in_flight(RUN_KEY)
        self.apply_button.setEnabled(self.paths is not None and self.report.ok and not busy)
        self.revert_button.setEnabled(text != self._saved_text and not busy)

    def show_error_at(self, line: int, column: int) -> None:
        """Put the cursor where the JSON error is (line and column from 1)."""
        block = self.editor.document().findBlockByLineNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.Right, n=max(0, column - 1))
        self.editor.setTextCursor(cursor)

    def apply(self) -> None:
        """Apply & restart on the runner; the outcome is shown under the editor."""
        if self.paths is None or not self.report.ok:
            if self.report.errors and self.report.errors[0].line:
                self.show_error_at(self.report.errors[0].line, self.report.errors[0].column)
            return
        text = self.editor.toPlainText()
        path = self.paths.daemon_json
        engine = self.ctx.engine
        self.result.setObjectName("muted")
        self.result.setText("Saving daemon.json and restarting the engine…")
        self.result.show()
        self.engine_log.hide()
        self.apply_button.setEnabled(False)
        self.revert_button.setEnabled(False)
        self.editor.setReadOnly(True)
        self.ctx.runner.run(
            lambda: daemon_config.apply_and_restart(engine, path, text),
            key=RUN_KEY,
            title="Apply daemon.json",
            on_done=guarded(self, self._applied),  # the window may be deleted by then
            work="Apply engine settings and restart",
            on_error=self._failed,
        )

    def _applied(self, result: daemon_config.ApplyResult) -> None:
        self.editor.setReadOnly(False)
        self.result.setObjectName("muted" if result.ok else "fieldError")
        self._restyle(self.result)
        if result.ok:
            self.result.setText(result.message())
        else:
            # the tail goes in its own box: the label says what happened in a few lines
            head = ApplyMessage.head(result)
            self.result.setText(head)
            if result.log_tail:
                self.engine_log.setPlainText(result.log_tail)
                self.engine_log.show()
        self.reload()
        self.result.show()
        grow_to_fit(self)  # the error and the log fit without squeezing the editor away

    def _failed(self, exc: BaseException) -> bool:
        if not still_alive(self):
            return False  # the tab is gone: the runner tells the user what failed
        self.editor.setReadOnly(False)
        self.result.setObjectName("fieldError")
        self._restyle(self.result)
        self.result.setText(str(exc))
        self.result.show()
        self._on_text()
        return True

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)


class ApplyMessage:
    """The short text for a failed apply (the log tail is shown apart)."""

    @staticmethod
    def head(result: daemon_config.ApplyResult) -> str:
        error = result.error.rstrip()
        parts = [f"The engine refused the new daemon.json: {error}"
                 + ("" if error.endswith((".", "!", "?")) else ".")]
        if result.rolled_back and result.running:
            parts.append("The previous daemon.json is back and the engine runs with it again.")
        elif result.rolled_back:
            parts.append("The previous daemon.json is back.")
        if result.restart_error:
            parts.append(f"Starting the engine again failed too: {result.restart_error}")
        return " ".join(parts)
