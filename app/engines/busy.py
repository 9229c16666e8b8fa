"""Ask before an engine switch stops work in flight on the old engine.

Data flow: long work the user started runs through ``ctx.runner.run(..., work="Pull nginx")``
(pull, push, save, load and build dialogs, Run's pull-then-start, Commit, Files transfers,
Terminal sessions, actions on several containers, removing several images, volumes or networks,
prunes, Troubleshoot's engine restart, clean-up, purge and bundle, the guide's first container,
sign-in, Apply & restart of engine settings);
:meth:`app.runner.Runner.work_in_flight` lists what still runs.
:meth:`app.engines.switcher.EngineSwitcher.switch_to` — the one way the footer button, the tray
submenu and the Engines window switch — calls :func:`confirm_switch` first, and so does the
first-run guide before ``AppContext.use_engine`` (app/wizard/start.py). Nothing runs: no
question. Something runs: a modal question names each piece of work; "Keep working on <old>" is
the default and the Escape answer, "Stop them and switch" goes ahead (the switch cancels them,
``AppContext.switch_engine``). Runs on the GUI thread; ``exec()`` spins a nested Qt loop, so the
work it lists keeps running (and may finish) while the question is up.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

#: at most this many names in the question; the rest are counted ("and 3 more")
SHOWN = 8


def describe_work(work: list[str], old: str, new: str) -> str:
    """The question's text: how many things run on ``old``, each by name, and the consequence."""
    count = len(work)
    things = "operation is" if count == 1 else "operations are"
    names = [f"• {name}" for name in work[:SHOWN]]
    if count > SHOWN:
        names.append(f"… and {count - SHOWN} more")
    return (
        f"{count} {things} running on {old}:\n" + "\n".join(names)
        + f"\n\nSwitching to {new} stops {'it' if count == 1 else 'them'}."
    )


class SwitchQuestion(QMessageBox):
    """Keep working on the old engine (default, Escape) or stop the work and switch."""

    def __init__(self, work: list[str], old: str, new: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Warning, "Switch engine?",
                         describe_work(work, old, new), parent=parent)
        self.setObjectName("engineSwitchQuestion")
        self.setAccessibleName("Switch engine?")
        self.setAccessibleDescription(self.text())
        self.keep_button = self.addButton(
            f"Keep working on {old}", QMessageBox.ButtonRole.RejectRole
        )
        self.keep_button.setAccessibleName(f"Keep working on {old}")
        self.stop_button = self.addButton(
            "Stop them and switch" if len(work) > 1 else "Stop it and switch",
            QMessageBox.ButtonRole.DestructiveRole,
        )
        self.stop_button.setAccessibleName(self.stop_button.text())
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.keep_button)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.keep_button.setFocus()  # the safe answer has the focus, as it is the default


def engine_name(ctx: Any) -> str:
    """The name the engines switcher of ``ctx``'s window shows, else the engine's address."""
    for widget in QApplication.topLevelWidgets():
        switcher = getattr(widget, "engine_switcher", None)
        if switcher is not None and switcher.ctx is ctx:
            return str(switcher.current_name())
    return str(getattr(ctx.engine, "endpoint", "") or ctx.engine.name)


def confirm_switch(work: list[str], old: str, new: str, parent: QWidget | None = None) -> bool:
    """True when the switch may go ahead: nothing runs, or the user chose to stop it."""
    if not work:
        return True
    box = SwitchQuestion(work, old, new, parent)
    box.exec()
    answer = box.clickedButton() is box.stop_button
    box.deleteLater()  # a child of the window: don't leave it behind as a hidden window
    return answer
