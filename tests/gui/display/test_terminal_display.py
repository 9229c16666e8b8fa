"""The Terminal tab of the container page on a real X display, light and dark, two sizes.

A terminal in a running busybox container runs ``top``; a second terminal asked for ``bash``
(which the image lacks) shows its message. Texts must fit, every control has a name, the grid
fills the widget without sticking out, and top's header is drawn in colours that are not the
background. Screenshots go to ``$PORTSIDE_SCREENSHOTS/terminal/`` when set.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from app.views.container_page.page import ContainerPage
from app.views.container_page.terminal.colours import cell_colour
from tests.gui.conftest import wait_for
from tests.gui.display.looks import (
    WINDOW_SIZES,
    Looks,
    _mode,  # noqa: F401 - the mode fixture
    shown,
)

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@WINDOW_SIZES
def test_terminal_running_top_fits(
    qtbot: Any, app_ctx: Any, containers: Any, mode: str, size: tuple[int, int]
) -> None:
    cid = containers.create("term-shot", start=True)
    looks = Looks("terminal", f"{mode}-{size[0]}x{size[1]}")
    page = shown(qtbot, ContainerPage(app_ctx, cid), size)

    def look(name: str) -> None:
        looks.check(name, page.tabs.currentWidget(), picture=page)

    try:
        page.show_tab("Terminal")
        tab = page.tab("Terminal")
        look("empty")
        qtbot.mouseClick(tab.open_button, Qt.MouseButton.LeftButton)
        pane = tab.current_pane()
        terminal = pane.terminal
        wait_for(qtbot, lambda: any("/ #" in r for r in terminal.visible_text()))
        cw, ch = terminal.cell_size
        viewport = terminal.viewport()
        assert terminal.columns * cw <= viewport.width() < (terminal.columns + 1) * cw
        assert terminal.rows * ch <= viewport.height() < (terminal.rows + 1) * ch
        terminal.setFocus()
        qtbot.keyClicks(terminal, "top")
        qtbot.keyClick(terminal, Qt.Key.Key_Return)
        wait_for(qtbot, lambda: any(r.startswith("Mem:") for r in terminal.visible_text()))
        wait_for(qtbot, lambda: any("PID" in r for r in terminal.visible_text()))
        qtbot.wait(50)  # one repaint batch
        # top's column header is reverse video: painted in the text colour, not the background
        row = next(i for i, r in enumerate(terminal.visible_text()) if "PID" in r)
        pixel = viewport.grab().toImage().pixelColor(QPoint(cw // 2, row * ch + ch // 2))
        assert pixel == cell_colour("default", foreground=True)
        # ... to its last cell: the text stays on the cell grid however wide the font's glyphs
        last = len(terminal.visible_text()[row]) - 1
        image = viewport.grab().toImage()
        assert image.pixelColor(QPoint(last * cw + cw // 2, row * ch)) == pixel
        assert image.pixelColor(QPoint((last + 1) * cw + cw // 2, row * ch)) != pixel
        glyph = [
            image.pixelColor(QPoint(x, y))
            for x in range(last * cw, (last + 1) * cw)
            for y in range(row * ch, (row + 1) * ch)
        ]
        assert any(c != pixel for c in glyph), "the last letter is not drawn in its own cell"
        look("top")

        tab.shell.setCurrentText("bash")
        qtbot.mouseClick(tab.new_button, Qt.MouseButton.LeftButton)
        missing = tab.current_pane()
        wait_for(qtbot, lambda: missing.bar.isVisible())
        look("no-bash")
    finally:
        page.close_page()
    looks.assert_fine()
