"""The Containers view against the real test engine: rows follow the engine through /events."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app.models.containers import COL, GROUP_PREFIX
from app.views.containers import ContainersView
from tests.gui.conftest import run_async, wait_for
from tests.gui.pages import shown_containers_view

pytestmark = [pytest.mark.gui, pytest.mark.engine]


def state_of(ctx: Any, qtbot: Any, cid: str) -> str:
    async def _get() -> str:
        return str((await ctx.client.containers.inspect(cid)).raw["State"]["Status"])

    return run_async(qtbot, _get())


@pytest.fixture
def view(app_ctx: Any, qtbot: Any) -> ContainersView:
    return shown_containers_view(qtbot, app_ctx, (1100, 600), active_within=None)


def test_containers_appear_update_and_stop_from_the_ui(
    view: ContainersView, containers: Any, qtbot: Any, app_ctx: Any
) -> None:
    assert view.stack.currentIndex() == 1  # the table, not the state page
    web = containers.create(
        "web",
        start=True,
        extra={
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "0"}]}},
        },
    )
    idle = containers.create("idle")
    # created through the client -> the /events diff brings them in (no polling)
    wait_for(qtbot, lambda: web in view.model and idle in view.model)
    wait_for(qtbot, lambda: (view.model.get(web) or {}).get("state") == "running")
    assert view.model.get(idle)["state"] == "created"
    assert view.model.get(web)["name"] == containers.name("web")
    assert "→80/tcp" in view.model.get(web)["ports_text"]

    # stats stream for the visible running row fills CPU/memory
    wait_for(qtbot, lambda: web in view.store.stats_streams, timeout=10)
    wait_for(qtbot, lambda: view.model.get(web).get("mem") is not None, timeout=15)

    # Stop in the UI stops the real container
    view.select([web])
    assert view.selected_ids() == [web]
    assert view.actions_by_name["stop"].isEnabled()
    view.actions_by_name["stop"].trigger()
    wait_for(qtbot, lambda: view.model.get(web)["state"] == "exited", timeout=20)
    assert state_of(app_ctx, qtbot, web) == "exited"
    wait_for(qtbot, lambda: web not in view.store.stats_streams)
    assert view.model.get(web)["mem"] is None

    # search + running filter
    view.search.setText(containers.name("idl"))
    assert view.proxy.rowCount() == 1
    view.search.clear()
    view.running_only.setChecked(True)
    names = {view.proxy.index(r, 0).data() for r in range(view.proxy.rowCount())}
    assert containers.name("idle") not in names
    view.running_only.setChecked(False)

    # rename through the view, then remove (confirmed) through the Delete action
    view.rename(idle, containers.name("renamed"))
    wait_for(qtbot, lambda: view.model.get(idle)["name"] == containers.name("renamed"))
    asked: list[str] = []
    view.confirm = lambda _t, text: asked.append(text) is None
    view.select([idle])
    task = view.remove_selected()
    assert task is not None and asked and containers.name("renamed") in asked[0]
    wait_for(qtbot, lambda: idle not in view.model)


def test_compose_group_is_grouped_and_removed_as_a_whole(
    view: ContainersView, containers: Any, qtbot: Any, app_ctx: Any
) -> None:
    project = containers.prefix + "-shop"
    label = {"com.docker.compose.project": project}
    db = containers.create("db", labels=label, start=True)
    api = containers.create("api", labels=label)
    key = GROUP_PREFIX + project
    wait_for(qtbot, lambda: set(view.model.children_of(key)) == {db, api})
    group = view.proxy.mapFromSource(view.model.index_for(key))
    assert group.isValid() and view.tree.isExpanded(group)
    wait_for(qtbot, lambda: view.model.get(key)["state"] == "running (1/2)")

    # whole-group start
    view.group_action(key, "start")
    wait_for(qtbot, lambda: view.model.get(key)["state"] == "running", timeout=20)

    # whole-group remove (running ones are forced)
    view.confirm = lambda _t, text: True
    view.group_action(key, "remove")
    wait_for(qtbot, lambda: key not in view.model.group_keys(), timeout=20)

    async def _left() -> list[Any]:
        return list(
            await app_ctx.client.containers.list(
                all=True, filters={"label": [f"com.docker.compose.project={project}"]}
            )
        )

    assert run_async(qtbot, _left()) == []


def test_copy_as_docker_run_recreates_the_container(
    view: ContainersView,
    containers: Any,
    qtbot: Any,
    app_ctx: Any,
    docker_cli: Any,
    tmp_path: Any,
) -> None:
    vol = containers.name("vol")
    cid = containers.create(
        "orig",
        cmd=["sh", "-c", "echo 'a b'; sleep 300"],
        extra={
            "Env": ["GREETING=hello world", "EMPTY="],
            "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
            "HostConfig": {
                "PortBindings": {
                    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}],
                    "53/udp": [{"HostPort": "15353"}],
                },
                "Binds": [f"{tmp_path}:/host:ro", f"{vol}:/data"],
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
            },
            "WorkingDir": "/tmp",
            "Labels": {"tier": "web"},
        },
    )
    wait_for(qtbot, lambda: cid in view.model)
    view.select([cid])
    task = view.copy_run_selected()
    assert task is not None
    command = run_async(qtbot, task)
    # on_done runs from the task's done callback, one loop turn after done() turns True
    wait_for(qtbot, lambda: QApplication.clipboard().text() == command)
    # and says so, by name
    expected = f"Copied the docker run command for {containers.name('orig')} to the clipboard."
    assert view.status.text() == expected
    argv = shlex.split(command)
    assert argv[:3] == ["docker", "run", "--detach"]
    assert "--restart" in argv and "on-failure:3" in argv
    # Recreate it with the real docker CLI under another name (create, so nothing runs).
    new_name = containers.name("copy")
    create = ["create", *argv[3:]]
    create[create.index("--name") + 1] = new_name
    out = docker_cli(*create).stdout.strip()
    containers.ids.append(out)

    async def _both() -> tuple[dict[str, Any], dict[str, Any]]:
        a = await app_ctx.client.containers.inspect(cid)
        b = await app_ctx.client.containers.inspect(out)
        return a.raw, b.raw

    a, b = run_async(qtbot, _both())
    # The docker CLI collects --env and --volume values in Go maps, so the recreated container
    # lists them in a random order; what matters is the same set of entries.
    for section, key in (("Config", "Env"), ("HostConfig", "Binds")):
        assert sorted(a[section][key]) == sorted(b[section][key]), (section, key)
    assert "EMPTY=" in b["Config"]["Env"]
    for section, key in (
        ("Config", "Cmd"),
        ("Config", "Image"),
        ("Config", "WorkingDir"),
        ("Config", "Labels"),
        ("HostConfig", "RestartPolicy"),
        ("HostConfig", "PortBindings"),
    ):
        assert a[section][key] == b[section][key], (section, key)
    run_async(qtbot, _rm_volume(app_ctx, out, cid, vol))


async def _rm_volume(ctx: Any, *args: str) -> None:
    *ids, vol = args
    for cid in ids:
        await ctx.client.containers.remove(cid, force=True)
    await ctx.client.volumes.remove(vol)


def test_stats_samples_are_applied_in_one_model_update_per_tick(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    ids = [containers.create(f"st{n}", start=True) for n in range(3)]
    view.search.setText(containers.name("st"))  # only ours on screen, whatever else runs
    wait_for(qtbot, lambda: all((view.model.get(c) or {}).get("state") == "running" for c in ids))
    wait_for(qtbot, lambda: set(ids) <= view.store.stats_streams, timeout=10)
    assert view.store._stats_tick.isActive()  # ONE timer, running while streams are open

    # Hold the tick: samples arrive from the engine but do not touch the model one by one.
    view.store._stats_tick.stop()
    changes: list[tuple[int, int, int, int]] = []
    view.model.dataChanged.connect(
        lambda a, b, *_: changes.append((a.row(), b.row(), a.column(), b.column()))
    )
    view.store.drop_pending_stats()
    for cid in ids:
        view.model.update_stats({cid: (None, None, None)})
    changes.clear()
    wait_for(qtbot, lambda: set(ids) <= view.store.pending_stats(), timeout=15)
    assert changes == []
    assert all(view.model.get(c)["mem"] is None for c in ids)

    # The tick applies every collected sample at once: one dataChanged over CPU..Memory.
    view.store.apply_stats()
    assert len(changes) == 1, changes
    assert changes[0][2:] == (COL["cpu"], COL["mem"])
    assert all(view.model.get(c)["mem"] and view.model.get(c)["mem_limit"] for c in ids)
    assert view.store.pending_stats() == set()
    view.store.apply_stats()  # nothing new collected -> no update at all
    assert len(changes) == 1


def test_stats_stop_while_minimized_and_slow_down_unfocused(
    view: ContainersView, containers: Any, qtbot: Any
) -> None:
    from app.views.containers import STATS_TICK_MS, STATS_TICK_UNFOCUSED_MS

    cid = containers.create("mini", start=True)
    view.search.setText(containers.name("mini"))
    wait_for(qtbot, lambda: cid in view.store.stats_streams, timeout=10)
    expected = STATS_TICK_MS if view.isActiveWindow() else STATS_TICK_UNFOCUSED_MS
    assert view.store.stats_interval == expected

    view.showMinimized()
    wait_for(qtbot, lambda: not view.store.stats_streams)
    assert not view.store._stats_tick.isActive()  # no timer, no wake-ups
    view.showNormal()
    wait_for(qtbot, lambda: cid in view.store.stats_streams, timeout=10)

    view.hide()
    wait_for(qtbot, lambda: not view.store.stats_streams)
    assert not view.store._stats_tick.isActive()
