"""What every first-run page shares: its key, Skip, the first focus, and wrapping text.

A page is a ``QWizardPage`` with a stable ``key`` (what ``Settings.wizard_step`` stores). The
wizard's Next button runs :meth:`Page.apply` through ``validatePage`` (return False to stay, e.g.
while something asynchronous finishes); the Skip button moves on without it. ``first_focus``
gets the keyboard focus each time the page is shown, so Tab/Enter work at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget, QWizard, QWizardPage

from app.dialogs.base import guarded
from app.dialogs.frame import WrapLabel

if TYPE_CHECKING:
    from app.wizard.wizard import FirstRunWizard


class Page(QWizardPage):
    """A wizard page with a key, an optional ``apply`` step and a widget to focus first."""

    key = ""
    title_text = ""
    subtitle_text = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"wizard-{self.key}")
        self.setTitle(self.title_text)
        self.setSubTitle(self.subtitle_text)
        self.first_focus: QWidget | None = None
        self.body = QVBoxLayout(self)
        self.body.setSpacing(10)

    # -- helpers ------------------------------------------------------------------------------
    @property
    def wiz(self) -> FirstRunWizard:
        from app.wizard.wizard import FirstRunWizard

        wizard = self.wizard()
        assert isinstance(wizard, FirstRunWizard)
        return wizard

    def run(self, factory: Callable[[], Awaitable[Any]], *, key: str, title: str,
            on_done: Callable[[Any], Any] | None = None,
            on_error: Callable[[BaseException], bool] | None = None, work: str = "") -> Any:
        """Engine I/O through the app's runner; results for a closed (deleted) guide are dropped;
        ``work`` names long work for an engine switch's question (app/engines/busy.py)."""
        return self.wiz.ctx.runner.run(factory, key=key, title=title,
                                       on_done=guarded(self, on_done),
                                       on_error=guarded(self, on_error), work=work)

    def text(self, text: str = "", *, name: str = "") -> WrapLabel:
        """A wrapping, selectable paragraph added to the page."""
        label = WrapLabel(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if name:
            label.setObjectName(name)
        self.body.addWidget(label)
        return label

    # -- the wizard's hooks -------------------------------------------------------------------
    def initializePage(self) -> None:
        self.enter()

    def enter(self) -> None:
        """Called each time the page is shown (also when resuming on it)."""

    def focus_first(self) -> None:
        """The page's first control, else the default button: the keyboard always has a target."""
        target = self.first_focus
        if target is None or not (target.isVisible() and target.isEnabled()):
            wizard = self.wizard()
            last = wizard.nextId() == -1
            target = wizard.button(QWizard.WizardButton.FinishButton if last
                                   else QWizard.WizardButton.NextButton)
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def validatePage(self) -> bool:
        if self.wiz.skipping:
            return True
        return self.apply()

    def apply(self) -> bool:
        """Next was pressed: act on the page; False keeps the page (e.g. work still running)."""
        return True

    def skipped(self) -> None:
        """Skip was pressed: the page's work is not done (nothing is written)."""

    def leave(self) -> None:
        """The wizard closes (finished or closed half-way): stop what the page runs."""

