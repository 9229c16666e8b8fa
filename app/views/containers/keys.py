"""Keyboard shortcuts with an explicit context.

PySide6 6.11 ignores the ``context=`` keyword of the ``QShortcut(key, parent, slot, context=…)``
constructor: the shortcut stays a ``WindowShortcut``, so a key meant for one pane fires (or
becomes ambiguous) anywhere in the window — Ctrl+F in the logs reached the list's search, Delete
in a text field removed containers. :func:`shortcut` sets the context after construction.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


def shortcut(
    key: QKeySequence | QKeySequence.StandardKey,
    parent: QWidget,
    slot: Callable[[], object],
    context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut,
) -> QShortcut:
    sc = QShortcut(QKeySequence(key), parent)
    sc.setContext(context)
    sc.activated.connect(slot)
    return sc
