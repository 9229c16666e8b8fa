"""The details pane of one container: a live logs tail, an inspect summary, the raw inspect.

``show_container`` inspects the container once (runner task keyed ``containers.details``) and
starts one ``logs(follow=True)`` task on the loop that feeds the :class:`LogPane`; showing another
container or closing the pane cancels it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.views.containers.logs import LOG_TAIL_LINES, LogPane
from engine.errors import EngineError, NotFound


class DetailsPanel(QWidget):
    """Inspect summary + a live logs tail of one container."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id: str | None = None
        self._logs_task: asyncio.Task[None] | None = None
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close details (Esc)")
        close.clicked.connect(self.close_panel)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(close)

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.logs = LogPane()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.logs, "Logs")
        self.tabs.addTab(self.form_host, "Summary")
        self.tabs.addTab(self.raw, "Inspect")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.tabs)
        QShortcut(
            QKeySequence(Qt.Key.Key_Escape),
            self,
            self.close_panel,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )

    def show_container(self, cid: str) -> None:
        self.stop_logs()
        self.container_id = cid
        self.logs.reset()
        self.title.setText(cid[:12])
        self.show()
        client = self.ctx.client
        if client is None:
            return
        self.ctx.runner.run(
            lambda: client.containers.inspect(cid),
            key="containers.details",
            title="Inspect container",
            on_done=self._fill,
        )
        self._logs_task = asyncio.ensure_future(self._follow_logs(client, cid))

    def _fill(self, details: Any) -> None:
        raw = getattr(details, "raw", {}) or {}
        config = raw.get("Config") or {}
        state = raw.get("State") or {}
        host = raw.get("HostConfig") or {}
        self.title.setText(str(raw.get("Name", "")).lstrip("/") or str(details.id)[:12])
        while self.form.rowCount():
            self.form.removeRow(0)
        ports = ", ".join(
            f"{(h or {}).get('HostPort', '')}→{p}"
            for p, hs in (host.get("PortBindings") or {}).items()
            for h in hs or [{}]
        )
        mounts = "\n".join(
            f"{m.get('Source') or m.get('Name', '')} → {m.get('Destination', '')}"
            for m in raw.get("Mounts") or ()
        )
        rows = [
            ("ID", str(raw.get("Id", ""))),
            ("Image", str(config.get("Image", ""))),
            (
                "State",
                f"{state.get('Status', '')}"
                + (
                    f" (exit code {state.get('ExitCode')})"
                    if state.get("Status") == "exited"
                    else ""
                ),
            ),
            ("Started", str(state.get("StartedAt", ""))),
            ("Command", " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])),
            ("Ports", ports or "none"),
            ("Mounts", mounts or "none"),
            ("Networks", ", ".join((raw.get("NetworkSettings") or {}).get("Networks") or {})),
            ("Restart", str((host.get("RestartPolicy") or {}).get("Name") or "no")),
            ("Environment", f"{len(config.get('Env') or [])} variables"),
        ]
        for label, value in rows:
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            self.form.addRow(label, field)
        self.raw.setPlainText(json.dumps(raw, indent=2, sort_keys=True))

    async def _follow_logs(self, client: Any, cid: str) -> None:
        try:
            async for _kind, text in client.containers.logs(cid, follow=True, tail=LOG_TAIL_LINES):
                self.logs.feed(text)
        except NotFound:
            self.logs.feed("\n[the container was removed]\n")
        except (EngineError, OSError) as exc:
            self.logs.feed(f"\n[log stream ended: {exc}]\n")

    def stop_logs(self) -> None:
        if self._logs_task is not None and not self._logs_task.done():
            self._logs_task.cancel()
        self._logs_task = None

    def close_panel(self) -> None:
        self.stop_logs()
        self.container_id = None
        self.hide()
