"""Putting the Containers view on screen, opening a container's page and its tabs as a user does.

Data flow: :func:`shown_containers_view` shows the Containers view (by default as the active
window) and waits for its first full list. :func:`open_container_page` waits until the view
lists the container, types its name into the search box, waits until the filter leaves that one
row, clicks the row and presses Enter (the view opens its page), and returns the page once it has
the container's details (its first inspect landed). :func:`click_tab` clicks a tab of the page
by its title on the tab bar and checks the page switched to it. :func:`open_details_pane` opens
the Containers view's details pane for one container and waits until no engine work is in
flight.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.gui.conftest import wait_for
from tests.gui.display.drive import settle


def shown_containers_view(
    qtbot: Any,
    ctx: Any,
    size: tuple[int, int] = (1200, 760),
    active_within: float | None = 5,
    synced_within: float = 15,
) -> Any:
    """The Containers view of ``size``, shown, with its first list done (``synced_within`` s).

    By default it is made the active window (keys go to the focused widget of the active window,
    as for a user) within ``active_within`` seconds; ``None`` only shows it.
    """
    from app.views.containers import ContainersView

    view = ContainersView(ctx)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    if active_within is not None:
        view.activateWindow()
        wait_for(qtbot, view.isActiveWindow, timeout=active_within)
    wait_for(qtbot, lambda: view.store.synced_once, timeout=synced_within)
    return view


def open_container_page(qtbot: Any, view: Any, container_id: str) -> Any:
    """The page of ``container_id``, opened from the Containers ``view`` by click and Enter."""
    wait_for(qtbot, lambda: container_id in view.model)
    view.search.setText(view.model.get(container_id)["name"])
    wait_for(qtbot, lambda: view.proxy.rowCount() == 1)
    rect = view.tree.visualRect(view.proxy.index(0, 0))
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    page = view.page
    wait_for(qtbot, lambda: page is not None and page.details is not None)
    return page


def open_details_pane(qtbot: Any, ctx: Any, window: Any, container_id: str) -> Any:
    """The Containers view, shown in ``window``, with ``container_id``'s details pane open."""
    containers = window.show_view("containers")
    containers.select([container_id])
    containers.open_selected()
    wait_for(qtbot, lambda: containers.details.isVisible())
    settle(qtbot, ctx)
    return containers


def click_tab(qtbot: Any, page: Any, title: str) -> Any:
    """Click the page's tab called ``title``; returns the tab, now the current one."""
    index = next(i for i in range(page.tabs.count()) if page.tabs.tabText(i) == title)
    bar = page.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert page.tabs.currentIndex() == index, title
    return page.tabs.widget(index)
