"""The docker CLI panel: one row per piece of CLI integration, each with its status and a button.

Used by the first-run wizard's CLI step (app/wizard/setup_pages.py) and the Settings window's CLI
tab. Rows::

    docker context “portside”   points at <Portside's endpoint>?      Create / Re-point | Remove
    Current context              which one the docker CLI uses          Make current | Undo
    Credential helper            credsStore "portside" + helper on PATH Turn on | Turn off
    docker CLI                   found on PATH, its version             Copy install command

Data flow: :meth:`refresh` reads the facts in a worker thread (``engine.cli_integration.status``,
``engine.credentials.toggle.describe``: file reads, ``docker --version``) through the app's one
runner (key ``cli-integration.refresh``: a newer refresh cancels the older one); each button runs
its ``engine`` action the same way (key ``cli-integration.action``), shows the action's sentence
in the note line and refreshes. Results for a deleted panel are dropped (``guarded``); buttons are
disabled while an action is in flight. ``/var/run/docker.sock`` is only reported, never touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.theme import Sizes
from engine.errors import DockerConfigError, PortsideError

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.cli_integration import Status
    from engine.credentials.toggle import CliStatus

INSTALL_CLI = "sudo apt-get install docker.io"


@dataclass(frozen=True)
class Facts:
    """What one refresh found (read in a worker thread)."""

    status: Status
    helper: CliStatus


def _endpoint_of(ctx: AppContext | None) -> str:
    if ctx is not None:
        engine = ctx.engine
        found = engine.status.endpoint or getattr(engine, "endpoint", None)
        if found:
            return str(found)
    from engine.cli_integration import portside_endpoint

    return portside_endpoint()


class _Row:
    """One row: a title, a status sentence and up to two buttons (only the relevant shown)."""

    def __init__(self, grid: QGridLayout, row: int, title: str, *buttons: QPushButton) -> None:
        self.title = QLabel(title)
        self.title.setObjectName("sectionTitle")
        self.state = QLabel("Checking…")
        self.state.setWordWrap(True)
        self.state.setMinimumWidth(260)
        self.title.setBuddy(buttons[0] if buttons else self.state)
        self.buttons = buttons
        # labels line up with the text of the row's buttons, also when the state wraps
        lift = max(0, (QPushButton("x").sizeHint().height() - self.state.fontMetrics().height())
                   // 2)
        for label in (self.title, self.state):
            label.setContentsMargins(0, lift, 0, 0)
        grid.addWidget(self.title, row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.state, row, 1, Qt.AlignmentFlag.AlignTop)
        box = QHBoxLayout()  # the row's buttons share one column: rows show different ones
        box.setSpacing(Sizes.SPACING)
        box.addStretch(1)
        for button in buttons:
            box.addWidget(button)
        grid.addLayout(box, row, 2, Qt.AlignmentFlag.AlignTop)

    def show(self, text: str, ok: bool | None) -> None:
        """``ok`` True: set up; False: broken or missing (red); None: optional and off."""
        self.state.setText({True: "✓ ", False: "✗ ", None: "– "}[ok] + text)
        self.state.setObjectName("fieldError" if ok is False else "")
        self.state.setAccessibleName(f"{self.title.text()}: {self.state.text()}")
        self.state.style().unpolish(self.state)
        self.state.style().polish(self.state)


class CliIntegrationPanel(QWidget):
    """Status and fix / undo buttons for the docker CLI's integration with Portside.

    Signals:
        refreshed(): the rows show the latest facts.
        changed(str): an action finished; its sentence (also shown in the note line).
    """

    refreshed = Signal()
    changed = Signal(str)

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None, *,
                 endpoint: str | None = None, docker_config: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cliIntegrationPanel")
        self.ctx = ctx
        self._endpoint = endpoint
        self.docker_config = docker_config
        self.facts: Facts | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

        def button(text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.setAccessibleName(tip)
            b.clicked.connect(slot)
            return b

        self.create_button = button("&Create context", "Create the docker context “portside”",
                                    self.install_context)
        self.remove_button = button("Remo&ve context", "Remove the docker context “portside”",
                                    self.remove_context)
        self.use_button = button("&Make current", "Make “portside” the docker CLI's current "
                                 "context", self.use_context)
        self.undo_button = button("&Undo", "Put back the docker context that was current before",
                                  self.undo_use)
        self.helper_on = button("&Turn on", "Keep the docker CLI's logins in Portside's keyring",
                                self.helper_enable)
        self.helper_off = button("Turn o&ff", "Stop using Portside's keyring for the docker CLI",
                                 self.helper_disable)
        self.copy_button = button("Cop&y install command", f"Copy “{INSTALL_CLI}”",
                                  self.copy_install)

        grid = QGridLayout()
        grid.setHorizontalSpacing(Sizes.GAP)
        grid.setVerticalSpacing(Sizes.GAP)
        grid.setColumnStretch(1, 1)
        self.context_row = _Row(grid, 0, "Docker context “portside”", self.create_button,
                                self.remove_button)
        self.current_row = _Row(grid, 1, "Current context", self.use_button, self.undo_button)
        self.helper_row = _Row(grid, 2, "Credential helper", self.helper_on, self.helper_off)
        self.cli_row = _Row(grid, 3, "Docker CLI", self.copy_button)
        self.socket_note = QLabel("")
        self.socket_note.setObjectName("muted")
        self.socket_note.setWordWrap(True)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Sizes.GAP)
        layout.addLayout(grid)
        layout.addWidget(self.socket_note)
        layout.addWidget(self.note)
        layout.addStretch(1)
        for b in self._buttons():
            b.hide()
        self._asked_for = ""
        if ctx is not None:  # the facts are about the app's engine: another engine, new facts
            ctx.engine_status_changed.connect(self._engine_changed)
        self.refresh()

    def _engine_changed(self, _status: Any) -> None:
        if self.endpoint != self._asked_for:
            self.refresh()

    @property
    def endpoint(self) -> str:
        """The engine the context points at: the one the app uses now (the wizard may switch)."""
        return self._endpoint or _endpoint_of(self.ctx)

    def _buttons(self) -> list[QPushButton]:
        return [self.create_button, self.remove_button, self.use_button, self.undo_button,
                self.helper_on, self.helper_off, self.copy_button]

    # -- running work ------------------------------------------------------------------------------
    def _run(self, key: str, work: Callable[[], Any], done: Callable[[Any], None],
             title: str) -> asyncio.Task[Any]:
        on_done = guarded(self, done)
        on_error = guarded(self, self._failed)
        if self.ctx is not None:
            return self.ctx.runner.run(lambda: asyncio.to_thread(work), key=key, title=title,
                                       on_done=on_done, on_error=on_error)
        task = asyncio.ensure_future(asyncio.to_thread(work))  # no app context (a bare panel)
        self._tasks.add(task)

        def finished(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                assert on_done is not None
                on_done(t.result())
            elif on_error is not None and not on_error(exc):
                raise exc

        task.add_done_callback(finished)
        return task

    def refresh(self) -> asyncio.Task[Any]:
        """Read the facts again (worker thread) and show them."""
        endpoint, folder = self.endpoint, self.docker_config
        self._asked_for = endpoint

        def read() -> Facts:
            from engine import cli_integration
            from engine.credentials import toggle

            return Facts(cli_integration.status(endpoint, folder), toggle.describe(folder))

        return self._run("cli-integration.refresh", read, self._show, "Docker CLI integration")

    def _act(self, work: Callable[[], Any], title: str) -> asyncio.Task[Any]:
        for b in self._buttons():
            b.setEnabled(False)
        return self._run("cli-integration.action", work, self._done, title)

    def _done(self, message: str) -> None:
        self.note.setObjectName("")
        self.note.setText(message)
        self._repolish(self.note)
        self.changed.emit(message)
        self.refresh()

    def _failed(self, exc: BaseException) -> bool:
        """Portside's own errors (a corrupt config.json, the CLI refusing) show in the panel."""
        if not isinstance(exc, PortsideError):
            return False
        self.note.setObjectName("fieldError")
        if isinstance(exc, DockerConfigError):  # the rows show the whole message already
            self.note.setText(f"Nothing was changed: fix or move aside {exc.path} first (see "
                              "Current context).")
        else:
            self.note.setText(f"Nothing was changed. {exc}")
        self._repolish(self.note)
        for b in self._buttons():
            b.setEnabled(True)
        self.refresh()
        return True

    @staticmethod
    def _repolish(label: QLabel) -> None:
        label.style().unpolish(label)
        label.style().polish(label)

    # -- showing -----------------------------------------------------------------------------------
    def _show(self, facts: Facts) -> None:
        self.facts = facts
        s, helper = facts.status, facts.helper
        if s.context_ok:
            self.context_row.show(f"Points at {s.endpoint}. Try: docker --context portside ps",
                                  True)
        elif s.context_host:
            self.context_row.show(f"Points at {s.context_host}, not at Portside's engine "
                                  f"({s.endpoint}).", False)
        else:
            self.context_row.show("Not created yet: `docker --context portside` does not work.",
                                  False)
        self.create_button.setText("Re-&point context" if s.context_host else "&Create context")
        self.create_button.setVisible(not s.context_ok)
        self.remove_button.setVisible(bool(s.context_host))
        if s.config_error:
            self.current_row.show(s.config_error, False)
        elif s.is_current:
            back = s.previous or "default"
            if s.override:
                self.current_row.show(f"“portside”, but {s.override} Undo goes back to "
                                      f"“{back}”.", False)
            else:
                self.current_row.show(f"“portside”: plain `docker` commands use Portside's "
                                      f"engine. Undo goes back to “{back}”.", True)
        else:
            override = f" ({s.override})" if s.override else ""
            self.current_row.show(f"“{s.current}”{override}: plain `docker` commands go there; "
                                  "only `docker --context portside` reaches Portside.", True)
        self.use_button.setVisible(not s.is_current and not s.config_error)
        self.use_button.setEnabled(bool(s.context_host))
        self.undo_button.setVisible(s.is_current)
        self.undo_button.setToolTip(f"Put back “{s.previous or 'default'}”")
        if helper.config is None and s.config_error:
            self.helper_row.show("Needs a readable config.json (see Current context).", False)
        else:
            # off is a choice (not a fault); set but not working (no helper on PATH) is one
            self.helper_row.show(helper.text, True if helper.working else
                                 (False if helper.configured else None))
        self.helper_on.setVisible(not helper.working and helper.config is not None)
        self.helper_off.setVisible(helper.configured)
        if s.docker_cli:
            self.cli_row.show(f"{s.docker_cli}" + (f" (version {s.version})" if s.version else ""),
                              True)
        else:
            self.cli_row.show(f"Not found on PATH. Install it: {INSTALL_CLI}", False)
        self.copy_button.setVisible(not s.docker_cli)
        self.socket_note.setText(f"{s.socket}. Portside never takes it over." if s.socket else "")
        self.socket_note.setVisible(bool(s.socket))
        for b in self._buttons():
            b.setEnabled(b is not self.use_button or bool(s.context_host))
        self.refreshed.emit()

    # -- actions -----------------------------------------------------------------------------------
    def install_context(self) -> asyncio.Task[Any]:
        from engine import cli_integration

        endpoint, folder, tls = self.endpoint, self.docker_config, self._tls()
        return self._act(
            lambda: cli_integration.install_context(endpoint, folder, tls=tls).message,
            "Create the docker context",
        )

    def _tls(self) -> Any:
        """The client certificates the engine's endpoint needs (the VM's ``tls`` mode), or None."""
        if self._endpoint:
            return None
        if self.ctx is None:
            from engine.cli_integration import portside_tls

            return portside_tls()
        how = getattr(self.ctx.engine, "client_endpoint", None)
        try:
            return how().tls_config if how is not None else None
        except PortsideError:
            return None

    def remove_context(self) -> asyncio.Task[Any]:
        from engine import cli_integration

        folder = self.docker_config
        return self._act(lambda: cli_integration.remove_context(folder).message,
                         "Remove the docker context")

    def use_context(self) -> asyncio.Task[Any]:
        from engine import cli_integration

        folder = self.docker_config
        return self._act(lambda: cli_integration.use_context(folder).message,
                         "Make “portside” the current docker context")

    def undo_use(self) -> asyncio.Task[Any]:
        from engine import cli_integration

        folder = self.docker_config
        return self._act(lambda: cli_integration.undo_use(folder).message,
                         "Put back the previous docker context")

    def helper_enable(self) -> asyncio.Task[Any]:
        from engine.credentials import toggle

        folder = self.docker_config
        return self._act(lambda: toggle.turn_on(migrate=False, folder=folder,
                                                retry=toggle.GUI_RETRY).message,
                         "Use Portside's keyring for the docker CLI")

    def helper_disable(self) -> asyncio.Task[Any]:
        from engine.credentials import toggle

        folder = self.docker_config
        return self._act(lambda: toggle.turn_off(folder=folder).message,
                         "Stop using Portside for the docker CLI")

    def copy_install(self) -> None:
        QGuiApplication.clipboard().setText(INSTALL_CLI)
        self.note.setText(f"Copied “{INSTALL_CLI}”: paste it into a terminal.")
