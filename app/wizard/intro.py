"""The guide's first two pages: welcome, and the system checks with a fix for each failure.

The checks come from :func:`engine.doctor.run_checks` (the same list ``portside doctor``
prints); it blocks for up to a second, so it runs in a worker thread through ``ctx.runner`` and
the table fills in when it returns. "Check again" re-runs it after the user applied a fix.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.frame import WrapLabel
from app.wizard.base import Page


class WelcomePage(Page):
    """What the guide does, and that every step can be skipped."""

    key = "welcome"
    title_text = "Welcome to Portside"
    subtitle_text = "A few steps from here to a running engine and your first container."

    def __init__(self) -> None:
        super().__init__()
        self.text(
            "Portside runs a container engine for you and shows your containers, images, "
            "volumes and networks. This guide checks your system, lets you choose the engine "
            "(Portside's own, a Linux VM, or one already on this machine), starts it and runs "
            "a first container."
        )
        self.text(
            "Every step can be skipped (Skip, Alt+S). Close the guide at any time: it continues "
            "where you left off, and Help ▸ First-run guide… opens it again later."
        )
        self.body.addStretch(1)


class ChecksPage(Page):
    """Each system check with pass/fail, what was found, and the fix when it failed."""

    key = "checks"
    title_text = "System checks"
    subtitle_text = "What this machine has for running containers."

    def __init__(self) -> None:
        super().__init__()
        self.summary = self.text("Checking…", name="checksSummary")
        self.list_host = QWidget()
        self.list_host.setObjectName("checksList")
        self.rows = QVBoxLayout(self.list_host)
        self.rows.setContentsMargins(0, 0, 8, 0)
        self.rows.setSpacing(6)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.list_host)
        self.scroller.setAccessibleName("System checks")
        self.body.addWidget(self.scroller, 1)
        row = QHBoxLayout()
        self.again = QPushButton("Check &again")
        self.again.setAutoDefault(False)
        self.again.setToolTip("Run the checks again after applying a fix")
        self.again.clicked.connect(self.run_checks)
        row.addWidget(self.again)
        row.addStretch(1)
        self.body.addLayout(row)
        self.checks: list[Any] = []
        self.labels: list[QLabel] = []

    def enter(self) -> None:
        if not self.checks:
            self.run_checks()

    def run_checks(self) -> None:
        source = self.wiz.checks_source
        if source is None:
            from engine.doctor import run_checks

            source = run_checks
        self.summary.setText("Checking…")
        self.again.setEnabled(False)
        self.run(
            lambda: asyncio.to_thread(source), key="wizard.checks", title="System checks",
            on_done=self.show_checks, on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> bool:
        self.again.setEnabled(True)
        self.summary.setText(f"The checks could not run: {exc}")
        return True

    def show_checks(self, checks: list[Any]) -> None:
        self.checks = list(checks)
        self.again.setEnabled(True)
        while self.rows.count():
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # now: deleteLater alone leaves it drawn under the new rows
                widget.deleteLater()
        self.labels = []
        # failures first (blocking ones on top): what needs doing is seen without scrolling
        for check in sorted(self.checks, key=lambda c: (c.ok, not c.blocking)):
            if check.ok:
                mark = "✓ Passed"
            else:
                mark = "✗ Failed, blocks every engine" if check.blocking else "✗ Failed"
            head = WrapLabel(f"{mark} — {check.title}: {check.detail}")
            if not check.ok:
                head.setObjectName("fieldError")
            head.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.rows.addWidget(head)
            self.labels.append(head)
            if not check.ok and check.fix:
                fix = WrapLabel(f"Fix: {check.fix}")
                fix.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                fix.setContentsMargins(18, 0, 0, 0)
                self.rows.addWidget(fix)
                self.labels.append(fix)
        self.rows.addStretch(1)
        failed = [c for c in self.checks if not c.ok]
        blocking = [c for c in failed if c.blocking]
        if not failed:
            self.summary.setText(f"All {len(self.checks)} checks passed.")
        elif blocking:
            self.summary.setText(
                f"{len(failed)} of {len(self.checks)} checks failed; "
                f"{len(blocking)} block{'s' if len(blocking) == 1 else ''} every engine until "
                "fixed. Each says what to do; then Check again."
            )
        else:
            self.summary.setText(
                f"{len(failed)} of {len(self.checks)} checks failed, none blocks an engine; "
                "each says what to do."
            )
