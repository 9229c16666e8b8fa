"""Start the chosen engine with live progress; on failure show the engine log and Retry.

    "Start engine" (Enter) ─► (choice differs from ctx.engine?) engine_factory ─► ctx.use_engine
          ─► ctx.runner.run(engine.start) ─► ctx.engine_status_changed ─► progress lines
          ─► RUNNING + ctx.client_changed(client) ─► the button says Next again

Nothing starts before the user asks (Skip leaves the engine as it is). Each state change is
one line with the seconds since the start, so "stuck on Starting" is visible as such; when the
start fails, the engine's own log (``log_tail``) is shown under the error and the button says
Retry. Nothing here blocks the loop: the start runs as a task of the app's runner.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QProgressBar, QWizard

from app.wizard.base import Page
from app.wizard.choice import same_engine
from engine.errors import PortsideError
from engine.lifecycle.base import EngineState, EngineStatus

LOG_LINES = 200


class StartPage(Page):
    """The engine's start as it happens."""

    key = "start"
    title_text = "Start the engine"
    subtitle_text = "Portside starts the engine you chose and connects to it."

    def __init__(self) -> None:
        super().__init__()
        self.state = self.text("", name="engineStartState")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Starting")
        self.bar.setMaximumHeight(8)
        self.body.addWidget(self.bar)
        self.steps = QPlainTextEdit()
        self.steps.setReadOnly(True)
        self.steps.setAccessibleName("Progress")
        self.steps.setMaximumBlockCount(500)
        self.steps.setFixedHeight(96)
        self.body.addWidget(self.steps)
        self.log_title = self.text("Engine log (last lines):")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setAccessibleName("Engine log")
        # wrapped: dockerd's one-line errors are long and the reason is at their end
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.log.setFont(mono)
        self.body.addWidget(self.log, 1)
        # takes the room the hidden log leaves, so the text stays at the top
        self.body.addStretch(1)
        self._stretch_index = self.body.count() - 1
        self._t0 = 0.0
        self._hooked = False
        self._switching = False
        self.starting = False
        self._show_failure(False)

    # -- state ------------------------------------------------------------------------------------
    def isComplete(self) -> bool:
        return not self.starting

    def ready(self) -> bool:
        """The chosen engine runs and the app is connected to it."""
        ctx = self.wiz.ctx
        return bool(ctx.engine.status.state == EngineState.RUNNING and ctx.client is not None
                    and same_engine(ctx.engine, ctx.attached, self.wiz.choice))

    def _hook(self) -> None:
        if not self._hooked:
            self._hooked = True
            self.wiz.ctx.engine_status_changed.connect(self._on_status)
            self.wiz.ctx.client_changed.connect(self._on_client)

    def enter(self) -> None:
        ctx = self.wiz.ctx
        self._hook()
        if not self.starting:
            self.steps.clear()
            self._t0 = 0.0
            if self.ready():
                self._line(f"{self._name()} is running.")
        self._show(ctx.engine.status)

    def apply(self) -> bool:
        if self.ready():
            return True
        if not self.starting:
            self.start()
        return False

    def start_early(self) -> None:
        """The engine was chosen (Next on the engine or resources page): start it now, so it is
        up or nearly so when this page shows; Skip here no longer waits for it."""
        if not self.starting and not self.ready():
            self.start()

    def _name(self) -> str:
        text = self.wiz.choice.describe()  # not capitalize(): it lowercases "Linux VM"
        return text[:1].upper() + text[1:]

    def start(self) -> None:
        """Start (after switching to) the chosen engine; progress follows its status."""
        ctx = self.wiz.ctx
        if not same_engine(ctx.engine, ctx.attached, self.wiz.choice):
            from app.engines.busy import confirm_switch, engine_name

            old = engine_name(ctx)
            if not confirm_switch(ctx.runner.work_in_flight(), old, self._name(), self):
                self._line(f"Still using {old}: its work goes on. Skip, or start again later.")
                return
        self._hook()
        self._t0 = time.monotonic()
        self.starting = True
        self._show_failure(False)
        self.steps.clear()
        self._line(f"Starting {self.wiz.choice.describe()}…")
        self.completeChanged.emit()

        async def _go() -> None:
            choice = self.wiz.choice
            if not same_engine(ctx.engine, ctx.attached, choice):
                engine, attached = self.wiz.engine_factory(choice)
                # the new engine's "stopped" before its start is no step of the start
                self._switching = True
                try:
                    await ctx.use_engine(engine, attached=attached)
                finally:
                    self._switching = False
            status = await ctx.engine.start()
            if status.state == EngineState.RUNNING and ctx.client is None:
                ctx.reconnect()

        self.run(_go, key="engine.lifecycle", title="Start engine", on_error=self._failed)

    def _failed(self, exc: BaseException) -> bool:
        self.starting = False
        status = self.wiz.ctx.engine.status
        detail = str(exc) if isinstance(exc, PortsideError) else f"{type(exc).__name__}: {exc}"
        if status.state != EngineState.FAILED:  # else its status line already said why
            self._line(f"failed: {detail.splitlines()[0] if detail else 'no reason given'}")
        self._show(EngineStatus(EngineState.FAILED, status.endpoint, status.detail or detail))
        return True  # shown on the page, with the log; no dialog on top of the guide

    def _on_status(self, status: EngineStatus) -> None:
        if self.wizard() is None or (self.wiz.currentPage() is not self and not self.starting):
            return
        if self._switching and status.state == EngineState.STOPPED:
            return
        detail = status.detail.splitlines()[0] if status.detail else ""
        self._line(f"{status.state.value}{': ' + detail if detail else ''}")
        self._show(status)

    def _on_client(self, client: Any) -> None:
        if self.wizard() is None or (self.wiz.currentPage() is not self and not self.starting):
            return
        if client is not None:
            version = self.wiz.ctx.server_version
            self._line(f"connected (Docker {version})" if version else "connected")
        self._show(self.wiz.ctx.engine.status)

    # -- showing ----------------------------------------------------------------------------------
    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self._t0 if self._t0 else 0.0
        self.steps.appendPlainText(f"{elapsed:5.1f} s  {text}")
        self.steps.show()

    def _show(self, status: EngineStatus) -> None:
        ctx = self.wiz.ctx
        state = status.state
        running = state == EngineState.RUNNING
        if self.ready():
            self.starting = False
            text = f"{self._name()} is running. Next goes on."
            button = "&Next"
        elif running and ctx.client is None and self.starting:
            text = f"{self._name()} is running; connecting…"
            button = "&Next"
        elif state == EngineState.FAILED and not self.starting:
            text = (f"{self._name()} did not start. The reason and the engine's log are below; "
                    "fix it and Retry, go Back to choose another engine, or Skip.")
            button = "&Retry"
        elif self.starting:
            text = f"Starting {self.wiz.choice.describe()}…"
            button = "&Next"
        else:
            text = (f"Start engine (Enter) starts {self.wiz.choice.describe()} and shows "
                    "each step here; Skip leaves it for later.")
            button = "S&tart engine"
        self.state.setText(text)
        self.setButtonText(QWizard.WizardButton.NextButton, button)
        self.bar.setVisible(self.starting)
        failed = state == EngineState.FAILED and not self.starting
        self._show_failure(failed)
        if failed:
            self.log.setPlainText(self._log_text(status))
        self.completeChanged.emit()
        if self.wiz.currentPage() is self:
            self.wiz.button(QWizard.WizardButton.NextButton).setFocus()

    def _log_text(self, status: EngineStatus) -> str:
        tail = getattr(self.wiz.ctx.engine, "log_tail", None)
        text = ""
        if callable(tail):
            try:
                text = str(tail(LOG_LINES))
            except OSError as exc:
                text = f"(the engine log cannot be read: {exc})"
        return text.strip() or status.detail or "(the engine wrote no log)"

    def _show_failure(self, failed: bool) -> None:
        self.log_title.setVisible(failed)
        self.log.setVisible(failed)
        self.body.setStretch(self._stretch_index, 0 if failed else 1)
        self.steps.setVisible(bool(self.steps.toPlainText()))

    def leave(self) -> None:
        if self._hooked:
            ctx = self.wiz.ctx
            ctx.engine_status_changed.disconnect(self._on_status)
            ctx.client_changed.disconnect(self._on_client)
            self._hooked = False
