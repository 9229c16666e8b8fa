"""The Run dialog filled in as a user does, for the tests that run images through it.

Data flow: :func:`filled_run_dialog` makes the dialog for an image (closed by qtbot after the
test) and types a container name and a command into it; the test adds what else it needs (ports,
environment, volumes) and submits it.
"""

from __future__ import annotations

from typing import Any

from app.dialogs.run import RunDialog


def filled_run_dialog(qtbot: Any, ctx: Any, image: str, name: str, command: str) -> RunDialog:
    """The Run dialog for ``image`` with ``name`` and ``command`` filled in, not yet submitted."""
    dialog = RunDialog(ctx, image)
    qtbot.addWidget(dialog)
    dialog.name.setText(name)
    dialog.command.setText(command)
    return dialog
