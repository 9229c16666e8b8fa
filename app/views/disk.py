"""The Disk usage view: images, containers, local volumes, build cache — size, reclaimable, prune.

Numbers come from ``/system/df``, computed like ``docker system df``. That call is expensive for
the engine, so it runs when a client (re)connects, after a prune, on Refresh — and, when events
say something changed (image/container/volume/build events), once the view is shown again (or
after a short quiet period while it is visible). Never on a timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded, make_icon, show_page_for, stack_pages
from app.dialogs.common import human_size
from app.theme import Sizes
from app.widgets.view_header import ViewHeader

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

KINDS = (
    ("Images", "images"),
    ("Containers", "containers"),
    ("Local Volumes", "volumes"),
    ("Build Cache", "build_cache"),
)
#: each kind's prune button says what it removes (four "Prune…" buttons were indistinguishable)
PRUNE_BUTTONS = {
    "images": ("Prune dangling images…", "Remove untagged images no container uses"),
    "containers": ("Prune stopped containers…", "Remove every stopped container"),
    "volumes": ("Prune unused volumes…", "Remove every volume no container uses"),
    "build_cache": ("Prune build cache…", "Remove the build cache"),
}
COLUMN_TITLES = ("Total", "Active", "Size", "Reclaimable")
_DIRTY_EVENT_TYPES = {"image", "container", "volume", "builder"}
_DIRTY_ACTIONS = {
    "pull",
    "tag",
    "untag",
    "delete",
    "load",
    "import",
    "create",
    "destroy",
    "commit",
    "prune",
    "die",
    "start",
}


async def prune_build_cache(client: Any) -> Any:
    """``POST /build/prune?all=1`` through the client: the whole cache, as the question says.

    Without ``all`` BuildKit keeps the records a tagged image's build used (the "fileop target"
    of a COPY), so a user's "Prune build cache" left most of it in place.
    """
    return await client.build_prune(all=True)


class DiskUsageView(QWidget):
    """Four rows (images, containers, volumes, build cache) with a Prune button each."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        from app.widgets.state_page import EngineStatePage

        self.state_page = EngineStatePage(ctx, self, what="disk usage")
        self.usage: Any = None
        self._dirty = False
        self._df_task: asyncio.Task[Any] | None = None
        self._df_client: Any = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(1500)
        self._debounce.timeout.connect(self._refresh_if_dirty)

        content = QWidget(self)
        grid = QGridLayout()
        grid.setHorizontalSpacing(Sizes.GAP * 2)
        grid.setVerticalSpacing(Sizes.GAP)
        for col, text in enumerate(("", *COLUMN_TITLES, "")):
            label = QLabel(text)
            label.setObjectName("sectionTitle")
            label.setAlignment(
                Qt.AlignmentFlag.AlignRight if 0 < col < 5 else Qt.AlignmentFlag.AlignLeft
            )
            grid.addWidget(label, 0, col)
        self.cells: dict[str, dict[str, QLabel]] = {}
        self.prune_buttons: dict[str, QPushButton] = {}
        for row, (title, key) in enumerate(KINDS, start=1):
            grid.addWidget(QLabel(title), row, 0)
            cells = {}
            fields = ("total", "active", "size", "reclaimable")
            for col, (field, column) in enumerate(zip(fields, COLUMN_TITLES, strict=True), 1):
                label = QLabel("—")
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                label.setAccessibleDescription(f"{title}: {column.lower()}")
                grid.addWidget(label, row, col)
                cells[field] = label
            self.cells[key] = cells
            text, tip = PRUNE_BUTTONS[key]
            button = QPushButton(make_icon("image-prune"), text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, k=key: self.prune_clicked(k))
            grid.addWidget(button, row, 5)
            self.prune_buttons[key] = button
        grid.setColumnStretch(0, 2)
        for col in range(1, 5):
            grid.setColumnStretch(col, 1)
        self.header = ViewHeader("Disk usage")
        self.total_label = self.header.count
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.add_primary("Refresh", self.refresh, make_icon("action-refresh"),
                                tip="Read the disk usage again (F5 re-lists everything)")
        assert self.header.primary is not None
        self.refresh_button = self.header.primary
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(Sizes.GAP * 2)
        lay.addWidget(self.header)
        lay.addLayout(grid)
        lay.addWidget(self.result_label)
        lay.addStretch(1)
        self.content = content

        self.stack = stack_pages(self, self.state_page, content)

        ctx.client_changed.connect(self._on_client_changed)
        ctx.engine_event.connect(self._on_event)
        self._on_client_changed(ctx.client)

    # -- data -----------------------------------------------------------------------------------
    @Slot(object)
    def _on_client_changed(self, client: Any) -> None:
        if show_page_for(self.stack, client):
            self.refresh()

    def refresh(self) -> asyncio.Task[Any] | None:
        """Read ``/system/df`` once; while one read is in flight, queue one more after it.

        A read started before a change may not include it, so a refresh asked for during a read
        runs once more afterwards instead of sharing that read (``EngineClient.df`` shares it).
        """
        client = self.ctx.client
        if client is None:
            return None
        in_flight = self._df_task is not None and not self._df_task.done()
        if in_flight and self._df_client is client:
            self._dirty = True
            return self._df_task
        self._dirty = False
        self._df_client = client
        self._df_task = self.ctx.runner.run(
            lambda: client.df(),
            key="disk.refresh",
            title="Disk usage",
            on_done=guarded(self, self._applied),
        )
        return self._df_task

    def _applied(self, usage: Any) -> None:
        self.apply(usage)
        if self._dirty:
            self._debounce.start(0)


    def apply(self, usage: Any) -> None:
        self.usage = usage
        by_kind = {c.kind: c for c in usage.categories}
        total = reclaimable = 0
        for title, key in KINDS:
            cat = by_kind.get(title)
            cells = self.cells[key]
            if cat is None:
                for label in cells.values():
                    label.setText("—")
                continue
            cells["total"].setText(str(cat.total))
            cells["active"].setText(str(cat.active))
            cells["size"].setText(human_size(cat.size))
            cells["reclaimable"].setText(
                f"{human_size(cat.reclaimable)} ({cat.reclaimable_percent:.0f}%)"
            )
            total += cat.size
            reclaimable += cat.reclaimable
        self.total_label.setText(
            f"Using {human_size(total)} in total; {human_size(reclaimable)} reclaimable."
        )

    def numbers(self, key: str) -> dict[str, str]:
        return {k: v.text() for k, v in self.cells[key].items()}

    @Slot(object)
    def _on_event(self, event: Any) -> None:
        if event.type in _DIRTY_EVENT_TYPES and (
            event.action in _DIRTY_ACTIONS or event.type == "builder"
        ):
            self._dirty = True
            if self.isVisible():
                self._debounce.start()

    def _refresh_if_dirty(self) -> None:
        if self._dirty and self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:
            self._debounce.start(0)

    # -- prune ----------------------------------------------------------------------------------
    def ask(self, title: str, text: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        yes = box.addButton("Prune", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # a stray Enter prunes nothing
        box.exec()
        return box.clickedButton() is yes

    _PRUNE_TEXT: ClassVar[dict[str, str]] = {
        "images": "Remove dangling images (untagged, unused by any container)?",
        "containers": "Remove every stopped container?",
        "volumes": "Remove every volume no container uses? Their data is lost.",
        "build_cache": "Remove the build cache?",
    }

    def prune_clicked(self, key: str) -> None:
        if self.ask(PRUNE_BUTTONS[key][0].rstrip("…"), self._PRUNE_TEXT[key]):
            self.prune(key)

    def prune(
        self, key: str, filters: Mapping[str, list[str]] | None = None
    ) -> asyncio.Task[Any] | None:
        """Prune one kind; ``filters`` (e.g. ``{"label": ["k=v"]}``) narrows an images,
        containers or volumes prune (the build cache prune takes none)."""
        client = self.ctx.client
        if client is None:
            return None
        if filters and key == "build_cache":
            raise ValueError("the build cache prune takes no filters")

        async def go() -> Any:
            if key == "images":
                return await client.images.prune(filters={**(filters or {}), "dangling": ["true"]})
            if key == "containers":
                return await client.containers.prune(filters=filters)
            if key == "volumes":
                return await client.volumes.prune(filters=filters, all=True)
            return await prune_build_cache(client)

        title = {k: t for t, k in KINDS}[key].capitalize()

        def done(result: Any) -> None:
            self.result_label.setText(
                f"{title}: removed {len(result.deleted)} item(s), reclaimed "
                f"{human_size(result.space_reclaimed)}."
            )
            self.refresh()

        return self.ctx.runner.run(
            go,
            key=f"disk.prune.{key}",
            title=f"Prune {title.lower()}",
            on_done=guarded(self, done),  # the view may be gone (window destroyed) by the answer
            notify_when_hidden=True,
            work=PRUNE_BUTTONS[key][1],  # "Remove every stopped container": a switch asks first
        )
