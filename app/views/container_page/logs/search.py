"""Search in a log view: the pattern (pure :class:`Matcher`) and the bar that edits it.

The bar emits ``changed`` when the text or an option changes (the view recounts, re-highlights
and, with "Only matching lines", redraws), and ``step(forward)`` for next/previous (Enter,
Shift+Enter, F3, the buttons). The count is of matches in the lines the view holds, not only
the drawn ones; an invalid regular expression says what is wrong instead of matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

HINT = "Enter: next match, Shift+Enter: previous, Esc: clear"


class Matcher:
    """A compiled search: plain text or regex, case-sensitive or not."""

    def __init__(self, text: str, *, case: bool = False, regex: bool = False) -> None:
        self.text = text
        self.error = ""
        flags = 0 if case else re.IGNORECASE
        self.pattern: re.Pattern[str] | None = None
        if text:
            try:
                self.pattern = re.compile(text if regex else re.escape(text), flags)
            except re.error as exc:
                self.error = f"Not a valid regular expression: {exc}"

    def __bool__(self) -> bool:
        return self.pattern is not None

    def count(self, texts: Iterable[str]) -> int:
        if self.pattern is None:
            return 0
        find = self.pattern.findall
        return sum(len(find(t)) for t in texts)

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.pattern is None:
            return []
        return [(m.start(), m.end()) for m in self.pattern.finditer(text) if m.end() > m.start()]

    def matches(self, text: str) -> bool:
        return self.pattern is not None and self.pattern.search(text) is not None


class SearchBar(QWidget):
    """Field, Case and Regex options, "Only matching lines", previous/next and the count."""

    changed = Signal()
    step = Signal(bool)  # True: next, False: previous

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit()
        self.field.setPlaceholderText("Search logs")
        self.field.setAccessibleName("Search logs")
        self.field.setToolTip(HINT)
        self.case = QCheckBox("Match case")
        self.regex = QCheckBox("Regex")
        self.only = QCheckBox("Only matching lines")
        self.previous = QToolButton()
        self.previous.setText("Previous")
        self.previous.setAccessibleName("Previous match")
        self.next = QToolButton()
        self.next.setText("Next")
        self.next.setAccessibleName("Next match")
        self.count = QLabel("")
        self.count.setObjectName("muted")
        self.count.setAccessibleDescription("Matches")
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("10,000 matches"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.field, 1)
        for w in (self.case, self.regex, self.only, self.previous, self.next, self.count):
            layout.addWidget(w)
        self.field.textChanged.connect(lambda _t: self.changed.emit())
        for box in (self.case, self.regex, self.only):
            box.toggled.connect(lambda _on: self.changed.emit())
        self.field.returnPressed.connect(lambda: self.step.emit(True))
        self.next.clicked.connect(lambda: self.step.emit(True))
        self.previous.clicked.connect(lambda: self.step.emit(False))
        back = QShortcut(QKeySequence("Shift+Return"), self.field)
        back.setContext(Qt.ShortcutContext.WidgetShortcut)
        back.activated.connect(lambda: self.step.emit(False))
        clear = QShortcut(QKeySequence("Escape"), self.field)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.field.clear)

    def matcher(self) -> Matcher:
        return Matcher(self.field.text(), case=self.case.isChecked(), regex=self.regex.isChecked())

    def show_count(self, matcher: Matcher, total: int) -> None:
        if matcher.error:
            self.count.setText("Invalid regex")
            self.count.setToolTip(matcher.error)
            self.field.setToolTip(matcher.error)
        elif not matcher:
            self.count.setText("")
            self.count.setToolTip("")
            self.field.setToolTip(HINT)
        else:
            self.count.setText(f"{total:,} match{'es' if total != 1 else ''}")
            self.count.setToolTip("")
            self.field.setToolTip(HINT)
