"""KeyedTableModel: diffs (no resets), qtmodeltester, and the Runner's basic contract."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt

from app.models.keyed import ID_ROLE, SEARCH_ROLE, SORT_ROLE, Column, KeyedTableModel

pytestmark = pytest.mark.gui

COLUMNS = [
    Column("name", "Name"),
    Column("size", "Size", format=lambda v: f"{v} B", sort_key=lambda v: v or 0),
    Column("state", "State"),
]


def _rows(n: int, *, state: str = "running") -> dict[str, dict[str, Any]]:
    return {f"id{i}": {"name": f"c{i}", "size": i * 10, "state": state} for i in range(n)}


def test_model_and_sorting_proxy_pass_qtmodeltester_through_diffs(qtmodeltester: Any) -> None:
    model = KeyedTableModel(COLUMNS)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(1)
    qtmodeltester.check(proxy, force_py=True)  # watches the proxy (and so the model) from here on
    model.set_rows(_rows(5))
    model.upsert("idX", {"name": "x", "size": 1, "state": "exited"})
    model.remove("id2")
    model.set_rows({**_rows(3), "idY": {"name": "y", "size": 2, "state": "created"}})
    assert [proxy.index(r, 0).data() for r in range(proxy.rowCount())] == ["c0", "y", "c1", "c2"]


def test_set_rows_emits_minimal_signals_and_never_resets() -> None:
    model = KeyedTableModel(COLUMNS)
    model.set_rows(_rows(6))
    events: list[tuple[Any, ...]] = []
    model.modelReset.connect(lambda: events.append(("reset",)))
    model.rowsRemoved.connect(lambda _p, a, b: events.append(("removed", a, b)))
    model.rowsInserted.connect(lambda _p, a, b: events.append(("inserted", a, b)))
    model.dataChanged.connect(
        lambda tl, br, _roles=None: events.append(("changed", tl.row(), tl.column(), br.column()))
    )
    new = _rows(6)
    del new["id1"], new["id2"], new["id4"]
    new["id3"] = {**new["id3"], "state": "exited"}  # one cell changes
    new["id9"] = {"name": "c9", "size": 90, "state": "running"}
    model.set_rows(new)
    assert ("reset",) not in events
    # id4 alone, then the run id1..id2, last first
    assert [e for e in events if e[0] == "removed"] == [("removed", 4, 4), ("removed", 1, 2)]
    # id3 is now row 1; only its "state" column (2) changed
    assert [e for e in events if e[0] == "changed"] == [("changed", 1, 2, 2)]
    assert [e for e in events if e[0] == "inserted"] == [("inserted", 3, 3)]
    assert model.ids() == ["id0", "id3", "id5", "id9"]
    assert model.row_for("id9") == 3 and model.id_at(1) == "id3" and model.row_for("id1") == -1
    idx = model.index(1, 1)
    assert idx.data() == "30 B"
    assert idx.data(SORT_ROLE) == 30
    assert idx.data(ID_ROLE) == "id3"
    assert "c3" in idx.data(SEARCH_ROLE) and "id3" in idx.data(SEARCH_ROLE)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Name"


def test_unchanged_rows_emit_nothing() -> None:
    model = KeyedTableModel(COLUMNS)
    model.set_rows(_rows(4))
    seen: list[int] = []
    model.dataChanged.connect(lambda *a: seen.append(1))
    model.set_rows(_rows(4))  # equal content, new dict objects
    model.update_fields("id1", size=10)  # same value
    assert seen == []
    model.update_fields("id1", size=11)
    assert seen == [1]


def test_plain_model_passes_qtmodeltester(qtmodeltester: Any) -> None:
    model = KeyedTableModel(COLUMNS)
    qtmodeltester.check(model, force_py=True)
    model.set_rows(_rows(8))
    model.set_rows({k: v for k, v in _rows(8).items() if k not in ("id0", "id3", "id4", "id7")})
    model.upsert("new", {"name": "n", "size": 5, "state": "x"})
    model.clear()
    assert len(model) == 0


def test_watch_row_count_follows_removals_resets_and_layout_changes() -> None:
    from app.models.keyed import Column, KeyedTableModel, watch_row_count

    model = KeyedTableModel([Column("name", "Name")])
    calls: list[int] = []
    watch_row_count(model, lambda: calls.append(model.rowCount()))
    model.set_rows({"a": {"name": "a"}, "b": {"name": "b"}})
    model.remove("a")
    model.clear()
    model.beginResetModel()
    model.endResetModel()
    model.layoutChanged.emit()
    assert calls == [2, 1, 0, 0, 0]
