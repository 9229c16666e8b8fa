"""ContainersModel (tree with Compose groups) and its filter: diffs, qtmodeltester, search."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.models.containers import (
    COL,
    GROUP_PREFIX,
    IS_GROUP_ROLE,
    PORTS_ROLE,
    ContainersFilter,
    ContainersModel,
    carry_over,
    container_row,
    human_duration,
    parse_human_duration,
    port_url,
    port_urls,
    state_text,
)
from app.models.keyed import ID_ROLE
from engine.models import ContainerSummary

pytestmark = pytest.mark.gui


def summary(
    cid: str,
    name: str,
    *,
    state: str = "running",
    project: str | None = None,
    ports: list[dict[str, Any]] | None = None,
    image: str = "busybox",
) -> ContainerSummary:
    labels = {"com.docker.compose.project": project} if project else {"tier": "web"}
    return ContainerSummary.from_api(
        {
            "Id": cid,
            "Names": [f"/{name}"],
            "Image": image,
            "State": state,
            "Status": "Up 1 second",
            "Created": 1_700_000_000,
            "Labels": labels,
            "Ports": ports or [],
        }
    )


def rows(*items: ContainerSummary) -> dict[str, dict[str, Any]]:
    return {s.id: container_row(s) for s in items}


def test_tree_model_groups_compose_projects_and_survives_qtmodeltester(qtmodeltester: Any) -> None:
    model = ContainersModel()
    qtmodeltester.check(model, force_py=True)  # keeps watching every change below
    model.set_rows(
        rows(
            summary("a1", "web", ports=[{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]),
            summary("b1", "shop-db-1", project="shop"),
            summary("b2", "shop-api-1", project="shop", state="exited"),
            summary("c1", "lonely", state="exited"),
        )
    )
    assert model.rowCount() == 3  # a1, the shop group, c1
    group = model.index_for(GROUP_PREFIX + "shop")
    assert group.data(IS_GROUP_ROLE) is True
    assert model.rowCount(group) == 2
    assert model.index(1, 2, group).data() == "exited"
    assert group.siblingAtColumn(2).data() == "running (1/2)"
    assert model.index_for("a1").siblingAtColumn(3).data() == "8080→80/tcp"
    assert model.index_for("a1").data(PORTS_ROLE) == [8080]
    child = model.index_for("b2")
    assert child.parent() == group and child.data(ID_ROLE) == "b2"

    # diffs: one container leaves the group, the group's summary follows; removing the last
    # child removes the group row.
    model.set_rows(
        rows(
            summary("a1", "web", ports=[{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]),
            summary("b1", "shop-db-1", project="shop", state="exited"),
            summary("c1", "lonely", state="running"),
        )
    )
    assert model.index_for(GROUP_PREFIX + "shop").siblingAtColumn(2).data() == "exited"
    model.remove("b1")
    assert GROUP_PREFIX + "shop" not in model.group_keys()
    assert model.rowCount() == 2


def test_updates_are_diffs_not_resets() -> None:
    model = ContainersModel()
    model.set_rows(rows(summary("a1", "web"), summary("b1", "db-1", project="p")))
    events: list[Any] = []
    model.modelReset.connect(lambda: events.append("reset"))
    model.dataChanged.connect(
        lambda a, b, _r=None: events.append((a.row(), a.column(), b.column()))
    )
    model.update_fields("a1", cpu=12.5)
    assert events == [(0, 5, 5)]
    assert model.index_for("a1").siblingAtColumn(5).data() == "12.5 %"
    events.clear()
    model.update_fields("b1", state="exited")
    # the child's State cell, then the group row's changed cells
    assert events[0] == (0, 2, 2) and "reset" not in events and len(events) == 2


def test_filter_searches_name_image_id_labels_and_running_only(qtmodeltester: Any) -> None:
    model = ContainersModel()
    model.set_rows(
        rows(
            summary("aaa111", "web", image="nginx"),
            summary("bbb222", "shop-db-1", project="shop", image="postgres"),
            summary("ccc333", "shop-api-1", project="shop", state="exited", image="python"),
            summary("ddd444", "worker", state="exited", image="redis"),
        )
    )
    proxy = ContainersFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)

    def visible() -> set[str]:
        out = set()
        for r in range(proxy.rowCount()):
            top = proxy.index(r, 0)
            out.add(top.data(ID_ROLE))
            for c in range(proxy.rowCount(top)):
                out.add(proxy.index(c, 0, top).data(ID_ROLE))
        return out

    proxy.set_search("postgres")
    assert visible() == {GROUP_PREFIX + "shop", "bbb222"}
    proxy.set_search("ddd4")  # id prefix
    assert visible() == {"ddd444"}
    proxy.set_search("tier=web")  # a label
    assert visible() == {"aaa111", "ddd444"}
    proxy.set_search("shop")  # the project name matches its containers
    assert visible() == {GROUP_PREFIX + "shop", "bbb222", "ccc333"}
    proxy.set_search("")
    proxy.set_running_only(True)
    assert visible() == {"aaa111", GROUP_PREFIX + "shop", "bbb222"}
    model.remove("bbb222")  # the group's only visible child goes: the group disappears
    assert visible() == {"aaa111"}


def test_update_stats_sends_one_signal_per_parent_for_a_whole_batch(qtmodeltester: Any) -> None:
    model = ContainersModel()
    qtmodeltester.check(model, force_py=True)
    model.set_rows(
        rows(
            *(summary(f"t{n}", f"top{n}") for n in range(5)),
            summary("g1", "shop-db-1", project="shop"),
            summary("g2", "shop-api-1", project="shop"),
        )
    )
    changes: list[tuple[Any, int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, *_: changes.append(
            (model.data(a.parent(), ID_ROLE), a.row(), b.row(), a.column(), b.column())
        )
    )
    cpu, mem = COL["cpu"], COL["mem"]
    batch = {f"t{n}": (float(n), 1000 * n, 4096) for n in range(1, 5)}
    batch.update({"g1": (1.5, 100, 4096), "g2": (2.5, 200, 4096), "gone": (9.0, 9, 9)})
    assert model.update_stats(batch) == 2
    top = [c for c in changes if c[0] is None]
    kids = [c for c in changes if c[0] == GROUP_PREFIX + "shop"]
    group_row_nr = model.index_for(GROUP_PREFIX + "shop").row()
    # t1..t4 in one range over the CPU..Memory columns, then the group's summary row
    assert top == [(None, 1, 4, cpu, mem), (None, group_row_nr, group_row_nr, cpu, mem)]
    assert len(kids) == 1 and kids[0][3:] == (cpu, mem) and sorted(kids[0][1:3]) == [0, 1]
    group = model.get(GROUP_PREFIX + "shop") or {}
    assert group["cpu"] == pytest.approx(4.0) and group["mem"] == 300
    assert len(changes) == 3
    assert model.get("t3")["mem"] == 3000 and model.get("t3")["mem_limit"] == 4096
    assert model.index_for("t3", cpu).data() == "3.0 %"

    changes.clear()
    assert model.update_stats(batch) == 0  # same values: no signal at all
    assert changes == []
    assert model.update_stats({"t2": (None, None, None)}) == 1
    assert changes == [(None, 2, 2, cpu, mem)] and model.get("t2")["cpu"] is None


def full_summary(
    cid: str, state: str, status: str, ports: list[dict[str, Any]] | None = None
) -> ContainerSummary:
    return ContainerSummary.from_api(
        {
            "Id": cid,
            "Names": [f"/{cid}"],
            "Image": "busybox",
            "State": state,
            "Status": status,
            "Created": 1_700_000_000,
            "Labels": {},
            "Ports": ports or [],
        }
    )


def test_state_column_says_exit_code_and_uptime_like_docker_ps() -> None:
    model = ContainersModel()
    model.set_rows(
        {
            s.id: container_row(s)
            for s in (
                full_summary("k", "exited", "Exited (137) 5 minutes ago"),
                full_summary("u", "running", "Up 3 minutes"),
                full_summary("h", "running", "Up About an hour (healthy)"),
                full_summary("c", "created", "Created"),
            )
        }
    )
    state = COL["state"]
    assert model.index_for("k", state).data() == "exited (137)"
    assert model.index_for("u", state).data() == "Up 3 minutes"
    assert model.index_for("h", state).data() == "Up About an hour (healthy)"
    assert model.index_for("c", state).data() == "created"
    # the uptime ages with the clock, like docker ps
    row = model.get("u") or {}
    assert state_text(row, now=float(row["started_at"]) + 7200) == "Up 2 hours"
    # a re-list that reads the same keeps the first (sharper) start time
    again = carry_over(row, container_row(full_summary("u", "running", "Up 3 minutes")))
    assert again["started_at"] == row["started_at"]
    restarted = carry_over(row, container_row(full_summary("u", "running", "Up 2 seconds")))
    assert restarted["started_at"] > row["started_at"] + 100


def test_human_duration_round_trips_docker_units() -> None:
    for seconds in (0, 1, 5, 59, 60, 61, 180, 3599, 3600, 7200, 86400 * 3, 86400 * 20):
        text = human_duration(seconds)
        parsed = parse_human_duration(text)
        assert parsed is not None and human_duration(parsed) == text, (seconds, text)
    assert human_duration(3 * 60 + 5) == "3 minutes"
    assert parse_human_duration("About a minute") == 60


def test_pending_state_shows_until_cleared_and_survives_a_relist(qtmodeltester: Any) -> None:
    model = ContainersModel()
    qtmodeltester.check(model, force_py=True)
    model.set_rows({"s": container_row(full_summary("s", "running", "Up 3 minutes"))})
    changed: list[int] = []
    model.dataChanged.connect(lambda a, b, *_: changed.append(a.column()))
    model.set_pending("s", "stopping")
    assert changed == [COL["state"]]
    assert model.index_for("s", COL["state"]).data() == "stopping…"
    # the engine has not said anything new yet: a re-list keeps the pending text
    model.upsert("s", container_row(full_summary("s", "running", "Up 4 minutes")))
    assert model.state_text("s") == "stopping…"
    model.set_pending("s", None)
    assert model.state_text("s") == "Up 4 minutes"
    model.set_pending("s", "removing")
    model.remove("s")
    assert model.pending("s") is None


def test_port_tooltip_names_the_url_per_binding() -> None:
    ports = [
        {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"IP": "127.0.0.1", "PrivatePort": 443, "PublicPort": 8443, "Type": "tcp"},
        {"IP": "10.1.2.3", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"},
    ]
    row = container_row(full_summary("p", "running", "Up 1 second", ports))
    assert port_urls(row) == [
        "http://10.1.2.3:5353",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8443",
    ]
    assert port_url("::1", 9000) == "http://[::1]:9000"
    model = ContainersModel()
    model.set_rows({"p": row})
    tip = model.index_for("p", COL["ports_text"]).data(Qt.ItemDataRole.ToolTipRole)
    assert "http://127.0.0.1:8080" in tip and "localhost" not in tip
    assert "5353→53/udp on 10.1.2.3" in tip
