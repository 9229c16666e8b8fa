"""Empty states of the Images and Volumes views (the helper lives with the Containers code).

The hint follows every change of the row count — an empty first list, the last row removed —
and its buttons open the next step. Other tests share the engine, so "empty" is reached by
emptying the model the way a removal does (rowsRemoved), after the real first list.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import wait_for

pytestmark = [pytest.mark.gui, pytest.mark.engine]


@pytest.mark.parametrize(
    ("module", "cls", "title", "button"),
    [
        ("app.views.images", "ImagesView", "No images yet", "Pull an image…"),
        ("app.views.volumes", "VolumesView", "No volumes yet", "Create a volume…"),
    ],
)
def test_empty_state_shows_with_its_next_step(
    app_ctx: Any, qtbot: Any, module: str, cls: str, title: str, button: str
) -> None:
    import importlib

    view = getattr(importlib.import_module(module), cls)(app_ctx)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    wait_for(qtbot, lambda: view.empty_state.was_listed)
    assert view.empty_state.isVisible() == (view.model.rowCount() == 0)
    view.model.clear()  # the last rows go: rowsRemoved, not rowsInserted
    assert view.empty_state.isVisible() and not view.table.isVisible()
    assert view.empty_state.title.text() == title
    first = view.empty_state.buttons["0"]
    assert first.text() == button
    before = len(view._dialogs)
    qtbot.mouseClick(first, Qt.MouseButton.LeftButton)
    assert len(view._dialogs) == before + 1
    dialog = view._dialogs[-1]
    assert dialog.isVisible()
    dialog.reject()
