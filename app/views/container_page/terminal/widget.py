"""The terminal widget: paints pyte's cell grid, turns keys and the mouse into terminal input.

Data flow: :meth:`TerminalWidget.feed` (output of the exec, any chunk size) goes into the
:class:`TermScreen` (pyte parses it) — small chunks at once, big ones in slices within a time
budget per event-loop turn (``backlog``/``drained`` let the session pause reading) — and only
starts a short single-shot timer; when the timer fires, the rows pyte marked dirty (plus the
cursor's old and new row) are invalidated and Qt repaints just those rows — never once per byte
or per chunk. ``paintEvent`` has :class:`GridPainter` draw each exposed row as runs of cells
that share colours and attributes, with the selection, then the cursor. Key presses become
bytes (:func:`keys.key_bytes`) and leave through the ``send`` signal, as do pastes and pyte's
replies to the program (cursor position reports). A resize
recomputes rows × columns from the font's cell size, resizes the screen at once and emits
``size_changed``; the session debounces that into the exec's resize endpoint.

Scrollback is the screen's ``history`` shown through the vertical scroll bar (wheel,
Shift+PgUp/PgDn). Selection is by mouse in absolute line numbers, so it stays on its text
while output scrolls; Ctrl+Shift+C / Ctrl+Shift+V and the context menu copy and paste.
Tab and Shift+Tab go to the program; Ctrl+Tab moves the focus out, as in Qt's text editors.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QInputMethodEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QMenu, QWidget

from app import theme
from app.views.container_page.terminal.colours import cell_colour
from app.views.container_page.terminal.feeding import FeedQueue
from app.views.container_page.terminal.keys import key_bytes
from app.views.container_page.terminal.painting import GridPainter
from app.views.container_page.terminal.screen import Line, TermScreen
from app.views.container_page.terminal.selection import Selection

REPAINT_DELAY_MS = 12
FLOOD_REPAINT_MS = 33
#: Output parsed per slice, and the parsing time allowed per turn of the event loop.
Mod = Qt.KeyboardModifier
Key = Qt.Key


class TerminalWidget(QAbstractScrollArea):
    """A VT/xterm terminal on a pyte screen.

    Signals:
        send(bytes): bytes for the program's stdin (keys, pastes, terminal replies).
        size_changed(int, int): the grid's new (rows, columns).
        drained(): the unparsed backlog is low again (the feed queue's); the session reads on.
    """

    send = Signal(bytes)
    size_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None, *, history: int = 5000) -> None:
        super().__init__(parent)
        self.term = TermScreen(80, 24, history_limit=history)
        self.term.on_reply = lambda text: self.send.emit(text.encode())
        self._offset = 0  # lines scrolled back into history (0: the live screen)
        self._seen_added = 0
        self._selection = Selection()
        self._cursor_row = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_DELAY_MS)
        self._last_flush = 0.0
        self._timer.timeout.connect(self._flush)
        self._feeder = FeedQueue(self.term.feed, self._schedule_repaint, self)
        self.drained = self._feeder.drained
        #: Counters the tests and the benchmark read: repaint batches and rows invalidated.
        self.flushes = 0
        self.rows_invalidated = 0
        self.bytes_fed = 0

        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(theme.font_pt(1.0))
        self._set_font(font)

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        bar = self.verticalScrollBar()
        bar.setSingleStep(1)
        bar.setAccessibleName("Terminal scrollback")
        bar.valueChanged.connect(self._on_scrollbar)
        self.setAccessibleName("Terminal")
        self.setAccessibleDescription(
            "Interactive shell. Ctrl+Shift+C copies, Ctrl+Shift+V pastes, Shift+Page Up scrolls "
            "back, Ctrl+Tab leaves the terminal."
        )
        self._update_scrollbar()

    # -- geometry -----------------------------------------------------------------------------
    def _set_font(self, font: QFont) -> None:
        self._grid = GridPainter(font)
        self._cw, self._ch = self._grid.cw, self._grid.ch

    @property
    def cell_size(self) -> tuple[int, int]:
        return self._cw, self._ch

    @property
    def rows(self) -> int:
        return int(self.term.lines)

    @property
    def columns(self) -> int:
        return int(self.term.columns)

    def grid_for(self, width: int, height: int) -> tuple[int, int]:
        """(rows, columns) that fit a viewport of that many pixels."""
        return max(2, height // self._ch), max(10, width // self._cw)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rows, cols = self.grid_for(self.viewport().width(), self.viewport().height())
        if (rows, cols) != (self.rows, self.columns):
            self.term.resize(rows, cols)
            self._cursor_row = self.term.cursor.y
            self._update_scrollbar()
            self.viewport().update()
            self.size_changed.emit(rows, cols)

    # -- output -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Take a chunk of the program's output (parsed now or in slices: :mod:`.feeding`)."""
        self.bytes_fed += len(data)
        self._feeder.feed(data)

    @property
    def backlog(self) -> int:
        """Bytes received but not parsed yet."""
        return self._feeder.backlog

    @property
    def idle(self) -> bool:
        """Everything received is parsed and painted."""
        return not self._feeder.backlog and not self._timer.isActive()

    def _schedule_repaint(self) -> None:
        if self._timer.isActive():
            return
        if self._feeder.backlog:
            delay = FLOOD_REPAINT_MS  # a flood at ~30 frames/s leaves the time to parsing it
        elif time.monotonic() - self._last_flush >= REPAINT_DELAY_MS / 1000:
            delay = 1  # the first change after a quiet spell (a typed key's echo): next turn
        else:
            delay = REPAINT_DELAY_MS  # steady output: at most ~80 repaints a second
        self._timer.start(delay)

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        screen = self.term
        added = screen.history_added - self._seen_added
        self._seen_added = screen.history_added
        self.flushes += 1
        if added:
            if self._offset:
                self._offset = min(self._offset + added, len(screen.history))
            self._update_scrollbar()
        if self._offset:
            if added or screen.dirty:
                self.viewport().update()
                self.rows_invalidated += self.rows
            screen.dirty.clear()
            return
        rows = set(screen.dirty)
        screen.dirty.clear()
        rows.update((self._cursor_row, screen.cursor.y))
        self._cursor_row = screen.cursor.y
        region = QRegion()
        width = self.viewport().width()
        for y in rows:
            if 0 <= y < self.rows:
                region += QRect(0, y * self._ch, width, self._ch)
        self.rows_invalidated += len(rows)
        self.viewport().update(region)

    # -- scrollback ---------------------------------------------------------------------------
    def _update_scrollbar(self) -> None:
        bar = self.verticalScrollBar()
        depth = len(self.term.history)
        bar.blockSignals(True)
        bar.setRange(0, depth)
        bar.setPageStep(self.rows)
        bar.setValue(depth - self._offset)
        bar.blockSignals(False)

    def _on_scrollbar(self, value: int) -> None:
        self._offset = max(0, len(self.term.history) - value)
        self.viewport().update()

    def scroll_lines(self, delta: int) -> None:
        """Scroll back (positive) or forward (negative) by ``delta`` lines."""
        self._offset = max(0, min(len(self.term.history), self._offset + delta))
        self._update_scrollbar()
        self.viewport().update()

    @property
    def scroll_offset(self) -> int:
        return self._offset

    def _row_line(self, view_y: int) -> Line:
        history = self.term.history
        index = len(history) - self._offset + view_y
        if index < len(history):
            return history[index]
        return self.term.buffer[index - len(history)]

    def _absolute(self, view_y: int) -> int:
        """The absolute line number of a visible row (stable while lines scroll away)."""
        return self.term.history_added - self._offset + view_y

    def _line_at_absolute(self, line: int) -> Line | None:
        history = self.term.history
        index = line - (self.term.history_added - len(history))
        if index < 0:
            return None
        if index < len(history):
            return history[index]
        if index - len(history) < self.rows:
            return self.term.buffer[index - len(history)]
        return None

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        rect = event.rect()
        painter.fillRect(rect, cell_colour("default", foreground=False))
        first = max(0, rect.top() // self._ch)
        last = min(self.rows - 1, rect.bottom() // self._ch)
        for view_y in range(first, last + 1):
            sel = self._selection.columns_on(self._absolute(view_y), self.columns)
            self._grid.paint_row(painter, self._row_line(view_y), view_y, self.columns, sel)
        cursor = self.term.cursor
        if not self._offset and not cursor.hidden:
            x, y = min(cursor.x, self.columns - 1), cursor.y
            self._grid.paint_cursor(painter, self.term.buffer[y][x], x, y, self.hasFocus())
        painter.end()

    # -- selection and clipboard --------------------------------------------------------------
    def _cell_at(self, pos: QPoint) -> tuple[int, int]:
        view_y = max(0, min(self.rows - 1, pos.y() // self._ch))
        column = max(0, min(self.columns, round(pos.x() / self._cw)))
        return self._absolute(view_y), column

    def selected_text(self) -> str:
        return self._selection.text(self._line_at_absolute, self.columns)

    def select_all(self) -> None:
        first = self.term.history_added - len(self.term.history)
        self._selection.start((first, 0))
        self._selection.extend((self.term.history_added + self.rows - 1, self.columns))
        self.viewport().update()

    def copy(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def paste(self, text: str | None = None) -> None:
        if text is None:
            text = QGuiApplication.clipboard().text()
        if not text:
            return
        data = text.replace("\r\n", "\r").replace("\n", "\r").encode("utf-8")
        if self.term.bracketed_paste:
            data = b"\x1b[200~" + data + b"\x1b[201~"
        self._to_program(data)

    def clear_scrollback(self) -> None:
        self.term.history.clear()
        self._offset = 0
        self._selection.clear()
        self._update_scrollbar()
        self.viewport().update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._selection.start(self._cell_at(event.position().toPoint()))
            self.viewport().update()
        elif event.button() == Qt.MouseButton.MiddleButton:
            clipboard = QGuiApplication.clipboard()
            if clipboard.supportsSelection():
                self.paste(clipboard.text(clipboard.Mode.Selection))
        else:
            super().mousePressEvent(event)
            return
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._selection.extend(self._cell_at(event.position().toPoint()))
            self.viewport().update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        clipboard = QGuiApplication.clipboard()
        text = self.selected_text()
        if text and clipboard.supportsSelection():
            clipboard.setText(text, clipboard.Mode.Selection)
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu()
        menu.exec(event.globalPos())
        menu.deleteLater()

    def context_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setAccessibleName("Terminal menu")
        copy = QAction("Copy", menu, shortcut=QKeySequence("Ctrl+Shift+C"))
        copy.setEnabled(bool(self.selected_text()))
        copy.triggered.connect(self.copy)
        paste = QAction("Paste", menu, shortcut=QKeySequence("Ctrl+Shift+V"))
        paste.setEnabled(bool(QGuiApplication.clipboard().text()))
        paste.triggered.connect(lambda: self.paste())
        select_all = QAction("Select all", menu)
        select_all.triggered.connect(self.select_all)
        clear = QAction("Clear scrollback", menu)
        clear.triggered.connect(self.clear_scrollback)
        for action in (copy, paste, select_all):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(clear)
        return menu

    # -- keyboard -----------------------------------------------------------------------------
    def _to_program(self, data: bytes) -> None:
        if self._offset:
            self.scroll_lines(-self._offset)
        self.send.emit(data)

    def _own_shortcut(self, event: QKeyEvent) -> bool:
        mods = event.modifiers() & ~Mod.KeypadModifier
        key = event.key()
        if mods == (Mod.ControlModifier | Mod.ShiftModifier) and key in (Key.Key_C, Key.Key_V):
            return True
        return mods == Mod.ShiftModifier and key in (
            Key.Key_PageUp,
            Key.Key_PageDown,
            Key.Key_Home,
            Key.Key_End,
        )

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            # While the terminal has the focus, its keys go to the program, not to the
            # window's shortcuts (Ctrl+W, Ctrl+F… mean something to shells and editors).
            mods = event.modifiers()
            if self._own_shortcut(event) or (
                not (mods & Mod.ControlModifier and event.key() == Key.Key_Tab)
                and key_bytes(event.key(), mods, event.text()) is not None
            ):
                event.accept()
                return True
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            ctrl = event.modifiers() & Mod.ControlModifier
            if event.key() in (Key.Key_Tab, Key.Key_Backtab) and not ctrl:
                self.keyPressEvent(event)  # to the shell (completion), not to focus chain
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers() & ~Mod.KeypadModifier
        key = event.key()
        if self._own_shortcut(event):
            if key == Key.Key_C:
                self.copy()
            elif key == Key.Key_V:
                self.paste()
            elif key == Key.Key_PageUp:
                self.scroll_lines(max(1, self.rows - 1))
            elif key == Key.Key_PageDown:
                self.scroll_lines(-max(1, self.rows - 1))
            elif key == Key.Key_Home:
                self.scroll_lines(len(self.term.history))
            else:
                self.scroll_lines(-self._offset)
            return
        data = key_bytes(key, mods, event.text(), app_cursor=self.term.app_cursor_keys)
        if data is None:
            super().keyPressEvent(event)
            return
        self._selection.clear()
        self._to_program(data)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        if event.commitString():
            self._to_program(event.commitString().encode("utf-8"))

    def focusInEvent(self, event: object) -> None:
        super().focusInEvent(event)  # type: ignore[arg-type]
        self._update_cursor_row()

    def focusOutEvent(self, event: object) -> None:
        super().focusOutEvent(event)  # type: ignore[arg-type]
        self._update_cursor_row()

    def _update_cursor_row(self) -> None:
        y = self.term.cursor.y
        self.viewport().update(QRect(0, y * self._ch, self.viewport().width(), self._ch))

    # -- reading (tests, accessibility) -------------------------------------------------------
    def visible_text(self) -> list[str]:
        """The rows on show, as plain text without trailing blanks."""
        return [
            "".join(self._row_line(y)[x].data for x in range(self.columns)).rstrip()
            for y in range(self.rows)
        ]
