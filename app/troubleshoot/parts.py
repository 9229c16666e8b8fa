"""Pieces the Troubleshoot pages share: the Save dialog and the button-with-progress row.

Data flow: a page calls :func:`open_save_dialog` from its button; the dialog opens window-modal
(``open``, not ``exec``, so the qasync loop keeps running), and the chosen path reaches the
page's callback through ``fileSelected``; the dialog deletes itself when it closes. The page
keeps the returned dialog (tests type a file name into it). :func:`action_row` lays out a page's
primary button with its progress bar beside it. All on the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QProgressBar, QPushButton, QWidget


def open_save_dialog(
    parent: QWidget,
    title: str,
    name_pattern: str,
    filters: str,
    suffix: str,
    on_chosen: Callable[[Path], object],
) -> QFileDialog:
    """Open Qt's own Save dialog (the same on every desktop) in the home folder.

    ``name_pattern`` is a ``time.strftime`` pattern for the proposed file name; ``suffix`` is
    added when the user types a name without one.
    """
    name = time.strftime(name_pattern)
    dialog = QFileDialog(parent, title, str(Path.home() / name), filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setDefaultSuffix(suffix)
    dialog.fileSelected.connect(lambda path: on_chosen(Path(path)))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def action_row(button: QPushButton, progress: QProgressBar) -> QHBoxLayout:
    """The page's primary button with its (at most 320 px wide) progress bar beside it."""
    progress.setMaximumWidth(320)
    row = QHBoxLayout()
    row.addWidget(button)
    row.addWidget(progress, 1)
    row.addStretch(1)
    return row
