"""The container page's header: back, name, image, state (uptime or exit code), port links, actions.

Plain widgets filled by :meth:`PageHeader.set_details` from the page's newest inspect (the page
calls it after every engine event for the container, and with ``None`` once it is removed). The
state line ages by itself: a timer re-reads the start/finish time every few seconds while the
header is shown. A pending action ("stopping…", from the Containers model) wins over the
inspect's word until the engine answers. Buttons only emit; the page runs the actions.
"""

from __future__ import annotations

import html
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.models.containers import human_duration, port_url
from app.models.images import parse_created

AGE_REFRESH_MS = 5_000
# (verb, button text, accessible name / tooltip)
ACTIONS = (
    ("start", "Start", "Start the container"),
    ("stop", "Stop", "Stop the container"),
    ("restart", "Restart", "Restart the container"),
    ("pause", "Pause", "Pause the container"),
    ("kill", "Kill", "Kill the container"),
    ("remove", "Remove…", "Remove the container"),
    ("commit", "Commit to image…", "Commit the container to an image"),
)


def state_line(raw: dict[str, Any] | None, now: float | None = None) -> str:
    """"Running · up 3 minutes", "Exited with code 137 · 2 minutes ago", "Removed"…"""
    if raw is None:
        return "Removed"
    state = raw.get("State") or {}
    now = time.time() if now is None else now
    status = str(state.get("Status") or "")
    if status == "running" and not state.get("Paused") and not state.get("Restarting"):
        started = parse_created(state.get("StartedAt"))
        text = "Running"
        if started > 0:
            text += f" · up {human_duration(max(0.0, now - started)).lower()}"
        health = (state.get("Health") or {}).get("Status")
        return text + (f" ({health})" if health else "")
    if state.get("Paused") or status == "paused":
        return "Paused"
    if state.get("Restarting") or status == "restarting":
        return f"Restarting (last exit code {state.get('ExitCode')})"
    if status in ("exited", "dead"):
        text = f"{'Exited' if status == 'exited' else 'Dead'} with code {state.get('ExitCode')}"
        if state.get("OOMKilled"):
            text += " (out of memory)"
        finished = parse_created(state.get("FinishedAt"))
        if finished > 0:
            text += f" · {human_duration(max(0.0, now - finished)).lower()} ago"
        if state.get("Error"):
            text += f" · {state['Error']}"
        return text
    if status == "created":
        return "Created, never started"
    return status.capitalize() or "Unknown"


def port_links(raw: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(url, "8080→80/tcp") per published binding, v4/v6 any-address folded, by host port."""
    ports = ((raw or {}).get("NetworkSettings") or {}).get("Ports") or {}
    out: dict[str, str] = {}
    for private, bindings in ports.items():
        for b in bindings or ():
            if not b or not b.get("HostPort"):
                continue
            url = port_url(b.get("HostIp"), b["HostPort"])
            out.setdefault(url, f"{b['HostPort']}→{private}")
    return sorted(out.items(), key=lambda kv: (int(kv[0].rsplit(":", 1)[1]), kv[0]))


class ElidedLabel(QLabel):
    """One line of text elided in the middle to the width it gets; the whole text in its tooltip
    and :meth:`full_text`."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        width = self.fontMetrics().horizontalAdvance(self._full) + 4
        return QSize(width, super().sizeHint().height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = max(0, self.contentsRect().width())
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width))


class PageHeader(QWidget):
    """Back button, title block and the action buttons of one container.

    Signals:
        back_requested(): the Back button.
        action_requested(str): a verb of :data:`ACTIONS` ("pause" means pause OR resume).
        link_activated(str): a port link was clicked (the page opens it).
    """

    back_requested = Signal()
    action_requested = Signal(str)
    link_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._raw: dict[str, Any] | None = None
        self._removed = False
        self._pending = ""
        self.back = QToolButton()
        self.back.setText("← Containers")
        self.back.setAccessibleName("Back to containers")
        self.back.setToolTip("Back to the containers list (Esc, Alt+Left)")
        self.back.setAutoRaise(True)
        self.back.clicked.connect(self.back_requested)
        self.name = QLabel()
        self.name.setObjectName("viewTitle")
        self.name.setAccessibleDescription("Container name")
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.image = ElidedLabel()  # a long registry/…/app:tag elides, never widens the page
        self.image.setObjectName("muted")
        self.image.setAccessibleDescription("Image")
        self.image.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = QLabel()
        self.state.setAccessibleDescription("State")
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ports = QLabel()
        self.ports.setAccessibleDescription("Published ports")
        self.ports.setTextFormat(Qt.TextFormat.RichText)
        self.ports.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.ports.setOpenExternalLinks(False)
        self.ports.setWordWrap(True)  # many ports wrap instead of widening the window
        self.ports.linkActivated.connect(self.link_activated)
        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        actions.setSpacing(4)
        for verb, text, name in ACTIONS:
            button = QPushButton(text)
            button.setAccessibleName(name)
            button.setToolTip(name)
            button.setEnabled(False)
            button.clicked.connect(lambda _c=False, v=verb: self.action_requested.emit(v))
            actions.addWidget(button)
            self.buttons[verb] = button
        actions.addStretch(1)

        title_row = QHBoxLayout()
        title_row.addWidget(self.back)
        title_row.addWidget(self.name)
        title_row.addWidget(self.image, 1)
        facts = QHBoxLayout()
        facts.addWidget(self.state)
        facts.addSpacing(16)
        facts.addWidget(self.ports, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(title_row)
        layout.addLayout(facts)
        layout.addLayout(actions)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._age = QTimer(self)
        self._age.setInterval(AGE_REFRESH_MS)
        self._age.timeout.connect(self._show_state)

    # -- filling --------------------------------------------------------------------------------
    def set_placeholder(self, cid: str) -> None:
        """Before the first inspect answers: the short id, nothing to act on yet."""
        self.name.setText(cid[:12])

    def set_details(self, raw: dict[str, Any] | None) -> None:
        """The newest inspect (``None``: removed — everything but Back is disabled)."""
        if raw is None:
            self._removed = True
        else:
            self._raw = raw
            self.name.setText(str(raw.get("Name") or "").lstrip("/") or str(raw.get("Id"))[:12])
            self.image.set_full_text(str((raw.get("Config") or {}).get("Image") or ""))
        links = port_links(None if self._removed else self._raw)
        self.ports.setText(
            "  ".join(
                f'<a href="{html.escape(url)}">{html.escape(url)}</a> ({html.escape(what)})'
                for url, what in links
            )
            if links
            else "No published ports"
        )
        self.ports.setToolTip("Click to open in your browser" if links else "")
        self._show_state()
        self._update_buttons()

    def set_pending(self, text: str) -> None:
        """The Containers model's pending word ("stopping…"), or "" once the engine answered."""
        self._pending = text
        self._show_state()

    @property
    def removed(self) -> bool:
        return self._removed

    def _show_state(self) -> None:
        if self._removed:
            text = "Removed"
        elif self._pending:
            text = self._pending[:1].upper() + self._pending[1:]
        elif self._raw is None:
            text = "Reading the container…"
        else:
            text = state_line(self._raw)
        self.state.setText(text)

    def _update_buttons(self) -> None:
        state = (self._raw or {}).get("State") or {}
        live = self._raw is not None and not self._removed
        running = bool(state.get("Running"))
        paused = bool(state.get("Paused"))
        b = self.buttons
        b["start"].setEnabled(live and not running)
        b["stop"].setEnabled(live and running)
        b["restart"].setEnabled(live)
        b["pause"].setEnabled(live and running)
        b["pause"].setText("Resume" if paused else "Pause")
        b["pause"].setAccessibleName("Resume the container" if paused else "Pause the container")
        b["kill"].setEnabled(live and running and not paused)
        b["remove"].setEnabled(live)
        b["commit"].setEnabled(live)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._show_state()
        self._age.start()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._age.stop()
