"""The containers view's filter: search words and "running only" over the model.

A ``QSortFilterProxyModel`` with recursive filtering: a Compose group row shows when any of its
containers passes. The search box and the "Only running" switch of
:class:`app.views.containers.view.ContainersView` set it; it sorts by ``SORT_ROLE``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel

from app.models.containers.model import AnyIndex, ContainersModel
from app.models.containers.rows import ACTIVE_STATES, GROUP_PREFIX
from app.models.keyed import SORT_ROLE


class ContainersFilter(QSortFilterProxyModel):
    """Search (every word must appear in name/image/id/labels/project) and running-only filter."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._terms: list[str] = []
        self._running_only = False
        self.setRecursiveFilteringEnabled(True)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_search(self, text: str) -> None:
        terms = text.lower().split()
        if terms != self._terms:
            self._refilter(lambda: setattr(self, "_terms", terms))

    def set_running_only(self, on: bool) -> None:
        if on != self._running_only:
            self._refilter(lambda: setattr(self, "_running_only", on))

    def _refilter(self, change: Any) -> None:
        # Qt 6.10 replaced invalidateRowsFilter() with begin/endFilterChange().
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            change()
            self.invalidateRowsFilter()

    @property
    def running_only(self) -> bool:
        return self._running_only

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, ContainersModel):
            return True
        idx = model.index(source_row, 0, source_parent)
        key = model._key(idx)
        if key is None or key.startswith(GROUP_PREFIX):
            # A group shows when any of its containers does (recursive filtering).
            return False
        row = model.get(key) or {}
        if self._running_only and row.get("state") not in ACTIVE_STATES:
            return False
        if not self._terms:
            return True
        text = model.search_text(key)
        if source_parent.isValid():
            text += "\n" + str(row.get("project") or "").lower()
        return all(t in text for t in self._terms)
