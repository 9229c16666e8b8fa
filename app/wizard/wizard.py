"""The first-run wizard: from nothing to a running engine and a first container's logs.

Pages, in order (keys are what ``Settings.wizard_step`` stores)::

    welcome ─► checks ─► engine ─► [resources: VM only] ─► cli ─► start ─► signin ─► first

Every page can be skipped (Skip, Alt+S) and the whole guide is resumable: each page shown is
saved as ``wizard_step``; closing the guide (Close, Escape) keeps it, so the next launch opens
on the same page. Finishing (or skipping the last page) sets ``first_run_done`` and clears the
step. The guide never blocks the window: it is a non-modal dialog over it, re-opened from
Help ▸ First-run guide… (:func:`app.wizard.open_first_run`).

What runs where: engine I/O (start, checks, pulls) goes through ``ctx.runner`` on the qasync
loop; the system checks, which block for up to a second, run in a worker thread
(``asyncio.to_thread``); engine state comes back through ``ctx.engine_status_changed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QPushButton, QWidget, QWizard

from app.wizard.base import Page
from app.wizard.choice import EngineChoice, EngineFactory, current_choice, make_engine

if TYPE_CHECKING:
    from app.wizard.start import StartPage

log = logging.getLogger(__name__)

KEYS = ("welcome", "checks", "engine", "resources", "cli", "start", "signin", "first")


class FirstRunWizard(QWizard):
    """The guide. ``ctx`` is the app's AppContext, ``settings`` the app's Settings (saved here).

    Signals:
        container_started(str): the first container runs; the window shows its logs.
        closed(bool): the guide closed; True when finished (or skipped to the end).
    """

    container_started = Signal(str)
    closed = Signal(bool)
    #: the guide switches engines itself: app/engines/forget.py must leave it open
    survives_engine_switch = True

    def __init__(
        self,
        ctx: Any,
        settings: Any,
        parent: QWidget | None = None,
        *,
        engine_factory: EngineFactory = make_engine,
        checks: Callable[[], list[Any]] | None = None,
        existing: Callable[[], list[Any]] | None = None,
    ) -> None:
        super().__init__(parent)
        from app.wizard.engine_pages import EnginePage, ResourcesPage
        from app.wizard.first_container import FirstContainerPage
        from app.wizard.intro import ChecksPage, WelcomePage
        from app.wizard.setup_pages import CliPage, SignInPage
        from app.wizard.start import StartPage

        self.ctx = ctx
        self.settings = settings
        self.engine_factory = engine_factory
        self.checks_source = checks
        self.existing_source = existing
        self.choice: EngineChoice = current_choice(settings)
        if ctx.attached:  # launched with --host / DOCKER_HOST: that engine is the choice
            self.choice = EngineChoice("existing", ctx.engine.endpoint)
        self.skipping = False
        self._closed_once = False
        self.setObjectName("first-run-wizard")
        self.setWindowTitle("Welcome to Portside")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setWindowFlag(Qt.WindowType.Dialog)
        self.setModal(False)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setOption(QWizard.WizardOption.NoDefaultButton, False)
        self.setButtonText(QWizard.WizardButton.CustomButton1, "&Skip")
        self.setButtonText(QWizard.WizardButton.BackButton, "&Back")
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.setButtonText(QWizard.WizardButton.CancelButton, "&Close")
        self.setButtonLayout([
            QWizard.WizardButton.CancelButton,
            QWizard.WizardButton.Stretch,
            QWizard.WizardButton.BackButton,
            QWizard.WizardButton.CustomButton1,
            QWizard.WizardButton.NextButton,
            QWizard.WizardButton.FinishButton,
        ])
        skip = self.button(QWizard.WizardButton.CustomButton1)
        skip.setToolTip("Leave this step as it is and go on (Alt+S)")
        skip.setAccessibleName("Skip this step")
        close = self.button(QWizard.WizardButton.CancelButton)
        close.setToolTip("Close the guide; it continues here next time (Escape)")
        close.setAccessibleName("Close the guide")
        self.customButtonClicked.connect(self._on_custom)

        self.pages: dict[str, Page] = {}
        for index, page in enumerate((
            WelcomePage(), ChecksPage(), EnginePage(), ResourcesPage(), CliPage(), StartPage(),
            SignInPage(), FirstContainerPage(),
        )):
            assert page.key == KEYS[index]
            self.setPage(index, page)
            self.pages[page.key] = page
        step = str(getattr(settings, "wizard_step", "") or "")
        self.setStartId(KEYS.index(step) if step in KEYS else 0)
        self.currentIdChanged.connect(self._on_page)
        self.setMinimumSize(760, 600)

    # -- navigation -----------------------------------------------------------------------------
    def nextId(self) -> int:
        current = self.currentId()
        if current < 0 or current >= len(KEYS) - 1:
            return -1
        nxt = current + 1
        if KEYS[nxt] == "resources" and self.choice.kind != "vm":
            nxt += 1
        return nxt

    def page_key(self) -> str:
        current = self.currentId()
        return KEYS[current] if 0 <= current < len(KEYS) else ""

    def start_page(self) -> StartPage:
        from app.wizard.start import StartPage

        page = self.pages["start"]
        assert isinstance(page, StartPage)
        return page

    def current(self) -> Page | None:
        page = self.currentPage()
        return page if isinstance(page, Page) else None

    def skip(self) -> None:
        """Skip: leave the current step undone and go on (on the last page: finish)."""
        page = self.current()
        if page is not None:
            page.skipped()
        # QWizard validates the page on Next and on accept(): skipping must pass both untouched
        self.skipping = True
        try:
            if self.nextId() == -1:
                self.accept()
            else:
                self.next()
        finally:
            self.skipping = False

    def _on_custom(self, which: int) -> None:
        if which == QWizard.WizardButton.CustomButton1.value:
            self.skip()

    def _on_page(self, index: int) -> None:
        if not 0 <= index < len(KEYS):
            return
        self.settings.wizard_step = KEYS[index]
        self._save()
        page = self.current()
        if page is not None:
            page.focus_first()
        self._default_button()

    def _default_button(self) -> None:
        """Enter presses Next (Finish on the last page), never Skip, Back or Close."""
        last = self.nextId() == -1
        target = self.button(
            QWizard.WizardButton.FinishButton if last else QWizard.WizardButton.NextButton
        )
        for which in (QWizard.WizardButton.CustomButton1, QWizard.WizardButton.CancelButton,
                      QWizard.WizardButton.BackButton):
            button = self.button(which)
            if isinstance(button, QPushButton):
                button.setAutoDefault(False)
                button.setDefault(False)
        if isinstance(target, QPushButton):
            target.setDefault(True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        page = self.current()
        if page is not None:
            page.focus_first()
        self._default_button()

    # -- closing --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        """Finished (the last page validated, or skipped) ends the guide for good; Close and
        Escape keep the step for the next launch."""
        if result == QWizard.DialogCode.Accepted.value:
            if not self.validateCurrentPage():
                return  # e.g. the first container is still starting; it accepts when it runs
            self.settings.first_run_done = True
            self.settings.wizard_step = ""
            self._save()
            self._close(True)
        else:
            self._close(False)
        QDialog.done(self, result)
        # A closed guide is gone (Help opens a new one). Deleted now, not later as a child of the
        # window: a QWizard deleted with its window made the next setStyleSheet (a theme switch)
        # crash in Qt 6.11.
        self.deleteLater()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._close(False)
        super().closeEvent(event)

    def _close(self, finished: bool) -> None:
        if self._closed_once:
            return
        self._closed_once = True
        for page in self.pages.values():
            page.leave()
        self.closed.emit(finished)

    def _save(self) -> None:
        try:
            self.settings.save()
        except (OSError, ValueError) as exc:
            log.warning("could not save the first-run step to %s: %s",
                        getattr(self.settings, "path", "settings"), exc)
