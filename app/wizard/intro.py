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
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from app.resources import icon
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

    COLUMNS = ("Check", "Found", "Fix")

    def __init__(self) -> None:
        super().__init__()
        self.summary = self.text("Checking…", name="checksSummary")
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("checksTable")
        self.table.setAccessibleName("System checks")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.body.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.again = QPushButton("Check &again")
        self.again.setAutoDefault(False)
        self.again.setToolTip("Run the checks again after applying a fix")
        self.again.clicked.connect(self.run)
        row.addWidget(self.again)
        row.addStretch(1)
        self.body.addLayout(row)
        self.checks: list[Any] = []
        self.first_focus = self.table

    def enter(self) -> None:
        if not self.checks:
            self.run()

    def run(self) -> None:
        source = self.wiz.checks_source
        if source is None:
            from engine.doctor import run_checks

            source = run_checks
        self.summary.setText("Checking…")
        self.again.setEnabled(False)
        self.wiz.ctx.runner.run(
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
        self.table.setRowCount(len(self.checks))
        for row, check in enumerate(self.checks):
            state = "passed" if check.ok else ("failed, blocks the engine" if check.blocking
                                               else "failed")
            mark = icon("engine-running" if check.ok else "engine-failed")
            name = QTableWidgetItem(mark, check.title)
            name.setToolTip(f"{check.title}: {state}")
            name.setData(Qt.ItemDataRole.AccessibleTextRole, f"{check.title}: {state}")
            found = QTableWidgetItem(check.detail)
            found.setToolTip(check.detail)
            fix = QTableWidgetItem(check.fix if not check.ok else "")
            fix.setToolTip(check.fix)
            for col, item in enumerate((name, found, fix)):
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        failed = [c for c in self.checks if not c.ok]
        blocking = [c for c in failed if c.blocking]
        if not failed:
            self.summary.setText(f"All {len(self.checks)} checks passed.")
        elif blocking:
            self.summary.setText(
                f"{len(failed)} of {len(self.checks)} checks failed; "
                f"{len(blocking)} block{'s' if len(blocking) == 1 else ''} every engine until "
                "fixed. The Fix column says what to do; then Check again."
            )
        else:
            self.summary.setText(
                f"{len(failed)} of {len(self.checks)} checks failed, none blocks an engine; "
                "the Fix column says what to do."
            )
