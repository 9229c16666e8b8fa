"""The system tray icon: engine state in the icon; Open, Start/Stop/Restart engine, Quit.

Long operations that finish while the window is hidden notify through :meth:`Tray.notify`
(connected to ``AppContext.notification_requested``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.resources import icon
from engine.lifecycle.base import EngineState, EngineStatus

STATE_ICONS = {
    EngineState.RUNNING: "engine-running",
    EngineState.STARTING: "engine-starting",
    EngineState.STOPPING: "engine-stopping",
    EngineState.STOPPED: "engine-stopped",
    EngineState.FAILED: "engine-failed",
}


class Tray(QSystemTrayIcon):
    """Tray icon + menu bound to the AppContext."""

    def __init__(self, ctx: Any, open_window: Callable[[], None], quit_app: Callable[[], None]):
        super().__init__(icon("engine-stopped"))
        self.ctx = ctx
        self.menu = QMenu()
        self.open_action = QAction("Open Portside", self.menu)
        self.open_action.triggered.connect(open_window)
        self.start_action = QAction(icon("action-start"), "Start engine", self.menu)
        self.start_action.triggered.connect(ctx.start_engine)
        self.stop_action = QAction(icon("action-stop"), "Stop engine", self.menu)
        self.stop_action.triggered.connect(ctx.stop_engine)
        self.restart_action = QAction(icon("action-restart"), "Restart engine", self.menu)
        self.restart_action.triggered.connect(ctx.restart_engine)
        self.quit_action = QAction(icon("action-quit"), "Quit Portside", self.menu)
        self.quit_action.triggered.connect(quit_app)
        self.menu.addAction(self.open_action)
        self.menu.addSeparator()
        for action in (self.start_action, self.stop_action, self.restart_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.setContextMenu(self.menu)
        self.activated.connect(
            lambda reason: (
                open_window() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
            )
        )
        ctx.engine_status_changed.connect(self.show_status)
        ctx.notification_requested.connect(self.notify)
        self.notifications: list[tuple[str, str]] = []
        self.show_status(ctx.engine.status)

    def show_status(self, status: EngineStatus) -> None:
        self.setIcon(icon(STATE_ICONS.get(status.state, "engine-stopped")))
        where = "attached to " if self.ctx.attached else ""
        tip = f"Portside — engine {status.state.value}"
        if status.endpoint:
            tip += f" ({where}{status.endpoint})"
        self.setToolTip(tip)
        running = status.state == EngineState.RUNNING
        busy = status.state in (EngineState.STARTING, EngineState.STOPPING)
        self.start_action.setEnabled(not running and not busy)
        self.stop_action.setEnabled(running and not self.ctx.attached)
        self.restart_action.setEnabled(running and not self.ctx.attached)
        self.stop_action.setVisible(not self.ctx.attached)
        self.restart_action.setVisible(not self.ctx.attached)

    def notify(self, title: str, message: str) -> None:
        self.notifications.append((title, message))
        if QSystemTrayIcon.isSystemTrayAvailable() and self.isVisible():
            self.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 8000)
