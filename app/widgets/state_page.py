"""The page every view shows instead of an empty table when there is no engine connection.

It says what is going on ("The engine is stopped", "starting", "failed: <detail>", "connecting",
"cannot reach <endpoint>") and offers what to do next: Start engine / Retry, and View log… for an
engine Portside manages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import WrapLabel
from app.resources import icon
from engine.lifecycle.base import EngineState

if TYPE_CHECKING:
    from app.context import AppContext


def describe_state(ctx: AppContext) -> tuple[str, str, str]:
    """(icon name, headline, detail) for the current engine/connection state."""
    status = ctx.engine.status
    where = status.endpoint or getattr(ctx.engine, "endpoint", "") or ""
    if status.state == EngineState.RUNNING:
        if ctx.client is not None:
            return "engine-running", "Connected to the engine", where
        if ctx.connection_detail:
            return (
                "engine-failed",
                "Cannot talk to the engine",
                f"{ctx.connection_detail}\nPortside keeps retrying.",
            )
        return "engine-starting", "Connecting to the engine…", where
    if status.state == EngineState.STARTING:
        return "engine-starting", "The engine is starting…", "This usually takes a few seconds."
    if status.state == EngineState.STOPPING:
        return "engine-stopping", "The engine is stopping…", ""
    if status.state == EngineState.FAILED:
        detail = status.detail or ctx.connection_detail or "No details were reported."
        return "engine-failed", "The engine failed", detail
    if ctx.attached:
        detail = ctx.connection_detail or status.detail or f"Nothing answers at {where}."
        return (
            "engine-stopped",
            "Not connected to the Docker engine",
            f"{detail}\nStart that engine, then press Retry.",
        )
    return (
        "engine-stopped",
        "The engine is stopped",
        "Start Portside's engine to see your containers, images, volumes and networks.",
    )


class EngineStatePage(QWidget):
    """Engine stopped/starting/failed (detail) + Start engine / Retry + View log…."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, what: str = "") -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._what = what
        self.setObjectName("engineStatePage")
        self.icon_label = QLabel()
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline = QLabel()
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.headline.setFont(font)
        self.headline.setWordWrap(True)
        # Word wrap plus breaks inside long socket paths; the label takes the page's width (up to
        # 640 px) so its height follows the wrapped text instead of cutting it.
        self.detail = WrapLabel()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setMaximumWidth(640)
        self.detail.setMinimumWidth(240)
        self.log_tail = QPlainTextEdit()
        self.log_tail.setReadOnly(True)
        self.log_tail.setMaximumHeight(160)
        self.log_tail.setMaximumWidth(720)
        self.log_tail.hide()

        self.icon_label.setAccessibleName("Engine state")
        self.start_button = QPushButton(icon("action-start"), "Start engine")
        self.start_button.clicked.connect(self._on_start)
        self.log_button = QPushButton(icon("action-log"), "View log…")
        self.log_button.clicked.connect(self._on_view_log)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.log_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.headline)
        detail_row = QHBoxLayout()
        detail_row.addStretch(1)
        detail_row.addWidget(self.detail, 100)
        detail_row.addStretch(1)
        layout.addLayout(detail_row)
        layout.addWidget(self.log_tail, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addStretch(3)

        ctx.engine_status_changed.connect(self.refresh)
        ctx.client_changed.connect(self.refresh)
        ctx.connection_changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self, *_args: object) -> None:
        icon_name, headline, detail = describe_state(self._ctx)
        self.icon_label.setPixmap(icon(icon_name).pixmap(56, 56))
        self.headline.setText(headline)
        self.icon_label.setAccessibleName(headline)
        lines = detail.split("\n\nLast lines of the engine log:\n", 1)
        self.detail.setText(lines[0])
        self.log_tail.setVisible(len(lines) > 1)
        if len(lines) > 1:
            self.log_tail.setPlainText(lines[1])
        state = self._ctx.engine.status.state
        busy = state in (EngineState.STARTING, EngineState.STOPPING) or (
            state == EngineState.RUNNING and self._ctx.client is None and not self._ctx.attached
        )
        self.start_button.setVisible(not busy and self._ctx.client is None)
        self.start_button.setText("Retry" if self._ctx.attached else "Start engine")
        self.log_button.setVisible(not self._ctx.attached and self._log_path() is not None)

    def _on_start(self) -> None:
        if self._ctx.attached:
            self._ctx.reconnect()
            self._ctx.start_engine()
        else:
            self._ctx.start_engine()

    def _log_path(self) -> str | None:
        paths = getattr(self._ctx.engine, "paths", None)
        log_file = getattr(paths, "log_file", None) or getattr(paths, "log", None)
        return str(log_file) if log_file else None

    def _on_view_log(self) -> None:
        path = self._log_path()
        if path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))
