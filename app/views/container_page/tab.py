"""The protocol every tab of the container page follows (Logs, Terminal, Stats, Inspect, Files).

Data flow: :class:`app.views.container_page.page.ContainerPage` owns the one subscription to
``ctx.engine_event``. For every event about its container it inspects the container again (a
runner task on the qasync loop) and calls :meth:`PageTab.container_changed` on EVERY tab with the
fresh :class:`engine.models.ContainerDetails` — or with ``None`` once the container is removed.
Tabs never listen to events themselves. :meth:`PageTab.set_active` says whether the tab is the one
on screen (page shown and tab current), so streams that only matter while visible (stats) start
and stop there; :meth:`PageTab.close_tab` ends everything when the page closes.

A tab is a ``QWidget`` constructed as ``TabClass(ctx, container_id, parent)``; ``title`` is the
text of its tab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.models import ContainerDetails


@runtime_checkable
class PageTab(Protocol):
    """Every tab of the container page is a QWidget that also does this."""

    title: ClassVar[str]  # "Logs", "Terminal", "Stats", "Inspect", "Files"

    def __init__(
        self, ctx: AppContext, container_id: str, parent: QWidget | None = None
    ) -> None: ...

    def set_active(self, active: bool) -> None:
        """True when the page is shown AND this tab is the current one; False otherwise.

        Streams that only matter while visible (stats) start/stop here.
        """
        ...

    def container_changed(self, details: ContainerDetails | None) -> None:
        """A fresh inspect after every engine event for this container (start, die, restart,
        rename, pause…); ``None`` when the container was removed. Follow restarts with this."""
        ...

    def close_tab(self) -> None:
        """The page is closing: cancel every task, close every stream/socket; idempotent."""
        ...
