"""Images view against the real engine: list, events, pull (local registry), tag/remove/prune,
run dialog validation and engine errors, build, save/load, history."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from app.dialogs import run_spec as rs
from app.dialogs.run import RunDialog
from app.views.images import UNTAG_SETTLE_MS, ImagesView
from engine.registry import AuthConfig
from tests.gui.conftest import run_async, wait_for
from tests.gui.registry_image import assert_signed_in, publish_remote_image
from tests.gui.run_dialog import filled_run_dialog

# Showing a top-level dialog on the offscreen platform logs this harmless warning.
pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def view(app_ctx: Any, qtbot: Any, test_image: str) -> Iterator[ImagesView]:
    v = ImagesView(app_ctx)
    qtbot.addWidget(v)
    wait_for(qtbot, lambda: any(test_image in v.model.tags_of(i) for i in v.model.ids()))
    yield v
    # Let work the test started (e.g. a resync after a prune event) finish before teardown.
    wait_for(qtbot, lambda: not v.ctx.runner.busy, timeout=30)


def _id_with_tag(view: ImagesView, tag: str) -> str | None:
    for image_id in view.model.ids():
        if tag in view.model.tags_of(image_id):
            return image_id
    return None


def _tag_test_image(qtbot: Any, view: ImagesView, test_image: str, repo: str) -> tuple[str, str]:
    """Tag the test image ``portside-views/<repo>:<random>`` from the view; the row shows it."""
    image_id = _id_with_tag(view, test_image)
    assert image_id is not None
    new_tag = f"portside-views/{repo}:{uuid.uuid4().hex[:6]}"
    view.tag_image(image_id, new_tag)
    wait_for(qtbot, lambda: new_tag in view.model.tags_of(image_id))
    return image_id, new_tag


def test_list_model_and_state_page(view: ImagesView, qtmodeltester: Any, test_image: str) -> None:
    qtmodeltester.check(view.model)
    assert view.stack.currentWidget() is view.content
    image_id = _id_with_tag(view, test_image)
    assert image_id is not None
    row = view.model.get(image_id)
    assert row is not None and row["size"] > 0 and row["dangling"] is False
    # The search box filters through the proxy on tags.
    view.search.setText("no-such-image-anywhere")
    assert view.proxy.rowCount() == 0
    view.search.setText(test_image.split("/")[-1].split(":")[0])
    assert view.proxy.rowCount() >= 1
    # Disconnect: the state page replaces the table.
    view.ctx.client_changed.emit(None)
    assert view.stack.currentWidget() is view.state_page
    view.ctx.client_changed.emit(view.ctx.client)
    assert view.stack.currentWidget() is view.content


def test_every_tag_is_whole_on_a_line_of_its_own(
    view: ImagesView, qtbot: Any, test_image: str
) -> None:
    """Two tags: the Reference cell shows each on its own line, none broken, the row fits both."""
    from PySide6.QtCore import Qt

    image_id, new_tag = _tag_test_image(qtbot, view, test_image, "one-tag-per-line")
    view.resize(1000, 500)
    view.show()
    view.search.setText(new_tag)
    wait_for(qtbot, lambda: view.proxy.rowCount() == 1)
    index = view.proxy.index(0, 0)
    shown = str(index.data(Qt.ItemDataRole.DisplayRole)).split("\n")
    assert sorted(shown) == sorted(view.model.tags_of(image_id)) and len(shown) >= 2
    assert not view.table.wordWrap()  # nothing wraps inside a tag
    assert str(index.data(Qt.ItemDataRole.ToolTipRole)).split("\n") == shown
    wait_for(qtbot, lambda: view.table.rowHeight(0) >= len(shown) * view.fontMetrics().height())
    view.remove_images([new_tag], force=False)
    wait_for(qtbot, lambda: new_tag not in view.model.tags_of(image_id))


def test_tag_untag_and_in_use_follow_events(
    view: ImagesView, qtbot: Any, test_image: str, containers: Any
) -> None:
    image_id, new_tag = _tag_test_image(qtbot, view, test_image, "tagged")
    # A bad tag is refused before reaching the engine, with the reason shown.
    assert view.tag_image(image_id, "Bad Tag!") is None
    assert "not a valid image name" in view.status.text()
    before = view.model.get(image_id)["in_use"]  # type: ignore[index]
    cid = containers.create("inuse")
    wait_for(qtbot, lambda: view.model.get(image_id)["in_use"] == before + 1)  # type: ignore[index]
    run_async(qtbot, view.ctx.client.containers.remove(cid, force=True))
    wait_for(qtbot, lambda: view.model.get(image_id)["in_use"] == before)  # type: ignore[index]
    # Untag (remove by reference): the row stays, the tag goes.
    view.remove_images([new_tag], force=False)
    wait_for(qtbot, lambda: new_tag not in view.model.tags_of(image_id))
    assert image_id in view.model


def _build_folder(tmp_path: Path, base: str, label: str, scope: str = "") -> Path:
    folder = tmp_path / f"ctx-{label}"
    folder.mkdir()
    extra = f"LABEL portside.test.prune={scope}\n" if scope else ""
    (folder / "Dockerfile").write_text(
        f"FROM {base}\nCOPY hello.txt /hello.txt\nLABEL v={label}\n{extra}"
    )
    (folder / "hello.txt").write_text(label)
    (folder / "secret.key").write_text("nope")
    (folder / ".dockerignore").write_text("*.key\n")
    return folder


def test_build_streams_output_then_prune_dangling(
    view: ImagesView, qtbot: Any, test_image: str, tmp_path: Path
) -> None:
    uid = uuid.uuid4().hex[:6]
    tag = f"portside-views/built:{uid}"
    dialog = view.open_build()
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(_build_folder(tmp_path, test_image, "one", uid)))
    dialog.tag.setText("Bad Tag!")
    assert dialog.start() is None and dialog.tag_error.text()
    dialog.tag.setText(tag)
    with qtbot.waitSignal(dialog.succeeded, timeout=60000):
        dialog.start()
    assert dialog.log is not None and "Step" in dialog.log.toPlainText()
    wait_for(qtbot, lambda: _id_with_tag(view, tag) is not None)
    first_id = _id_with_tag(view, tag)
    assert first_id is not None
    # Rebuild with a change under the same tag: the first image loses its tag (dangling).
    dialog.folder.setText(str(_build_folder(tmp_path, test_image, "two", uid)))
    with qtbot.waitSignal(dialog.succeeded, timeout=60000):
        dialog.start()
    wait_for(qtbot, lambda: _id_with_tag(view, tag) not in (None, first_id))
    wait_for(qtbot, lambda: (view.model.get(first_id) or {}).get("dangling") is True)
    # Scoped with the build's label: only this test's dangling image goes (the engine is shared).
    task = view.prune(filters={"label": [f"portside.test.prune={uid}"]})
    assert task is not None
    wait_for(qtbot, lambda: "reclaimed" in view.status.text())
    result = task.result()
    assert first_id in result.deleted
    assert view.status.text().startswith(f"Pruned {len(result.deleted)} image layer(s)")
    assert first_id not in view.model
    assert _id_with_tag(view, test_image) is not None
    dialog.close()
    second = _id_with_tag(view, tag)
    assert second is not None
    view.remove_images([second], force=True)
    wait_for(qtbot, lambda: second not in view.model)


def test_build_dialog_rejects_missing_dockerfile(
    view: ImagesView, qtbot: Any, tmp_path: Path
) -> None:
    dialog = view.open_build()
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(tmp_path))
    assert dialog.start() is None
    assert "no Dockerfile" in dialog.dockerfile_error.text()
    dialog.close()


def test_run_dialog_rejects_bad_input(app_ctx: Any, qtbot: Any, test_image: str) -> None:
    dialog = RunDialog(app_ctx, test_image)
    qtbot.addWidget(dialog)
    dialog.ports.setText("8080:http")
    dialog.env.setPlainText("NOEQUALS")
    dialog.volumes.setPlainText("data:relative/path")
    assert dialog.submit() is None
    errors = dialog.errors()
    assert set(errors) == {rs.PORTS, rs.ENV, rs.VOLUMES}
    assert "not a number" in errors[rs.PORTS]
    assert "KEY=VALUE" in errors[rs.ENV]
    assert "absolute" in errors[rs.VOLUMES]
    assert dialog.field_errors[rs.PORTS].isVisibleTo(dialog)


def _containers_named(qtbot: Any, ctx: Any, name: str) -> list[Any]:
    async def go() -> list[Any]:
        listed = await ctx.client.containers.list(all=True, filters={"name": [name]})
        return [c for c in listed if c.name == name]

    return run_async(qtbot, go())


def _run_refused_for_taken_port(
    qtbot: Any, ctx: Any, image: str, name: str, port: int, command: str
) -> None:
    """Run ``image`` publishing the taken ``port``: the error stands next to Ports, no leftover."""
    dialog = filled_run_dialog(qtbot, ctx, image, name, command)
    dialog.ports.setText(f"{port}:80")
    task = dialog.submit()
    assert task is not None
    # errors are shown from the task's done callback, a loop turn after it ends
    wait_for(qtbot, lambda: task.done() and rs.PORTS in dialog.errors(), timeout=30)
    text = dialog.errors().get(rs.PORTS, "")
    assert "already allocated" in text or "already in use" in text, dialog.errors()
    # The container created for the failed run was removed again.
    assert _containers_named(qtbot, ctx, name) == []


def test_run_dialog_taken_port_error_next_to_ports(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any
) -> None:
    port = _free_port()
    containers.create(
        "holder",
        cmd=["httpd", "-f", "-p", "80"],
        start=True,
        extra={
            "ExposedPorts": {"80/tcp": {}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": str(port)}]}},
        },
    )
    _run_refused_for_taken_port(
        qtbot, app_ctx, test_image, containers.name("second"), port, "httpd -f -p 80"
    )


def test_run_dialog_taken_port_by_a_host_socket(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any
) -> None:
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        _run_refused_for_taken_port(
            qtbot, app_ctx, test_image, containers.name("sock"), port, "sleep 30"
        )
    finally:
        holder.close()


def test_run_dialog_starts_a_container(
    app_ctx: Any, qtbot: Any, test_image: str, containers: Any
) -> None:
    name = containers.name("ok")
    dialog = filled_run_dialog(
        qtbot, app_ctx, test_image, name, "sh -c 'echo $GREETING; sleep 30'"
    )
    dialog.env.setPlainText("GREETING=hello world")
    dialog.volumes.setPlainText(f"{name}-vol:/data")
    with qtbot.waitSignal(dialog.started, timeout=30000) as blocker:
        dialog.submit()
    cid = blocker.args[0]
    containers.ids.append(cid)
    details = run_async(qtbot, app_ctx.client.containers.inspect(cid))
    assert details.running and "GREETING=hello world" in details.env
    run_async(qtbot, app_ctx.client.containers.remove(cid, force=True))
    with contextlib.suppress(Exception):
        run_async(qtbot, app_ctx.client.volumes.remove(f"{name}-vol"))


def test_pull_from_registry_with_progress(
    view: ImagesView, qtbot: Any, test_image: str, registry: Any, tmp_path: Path
) -> None:
    client = view.ctx.client
    # An image with a layer of its own (random bytes), so the pull really downloads something.
    remote, auth = publish_remote_image(
        qtbot, client, registry, test_image, tmp_path / "pullctx", "views", 3_000_000
    )
    wait_for(qtbot, lambda: _id_with_tag(view, remote) is None)

    # Without credentials the registry refuses, and the dialog offers to sign in.
    async def no_auth(_ref: str) -> None:
        return None

    dialog = view.open_pull(remote)
    qtbot.addWidget(dialog)
    dialog.auth_provider = no_auth
    with qtbot.waitSignal(dialog.failed, timeout=30000):
        dialog.start()
    assert dialog.signin_button.isVisibleTo(dialog)
    assert registry.host in dialog.error.text()

    # A malformed reference never reaches the engine.
    dialog.reference.setText("Not A Reference")
    assert dialog.start() is None and dialog.reference_error.text()

    async def with_auth(_ref: str) -> AuthConfig:
        return auth

    seen: list[int] = []
    dialog.bar.valueChanged.connect(seen.append)
    dialog.auth_provider = with_auth
    dialog.reference.setText(remote)
    with qtbot.waitSignal(dialog.succeeded, timeout=60000):
        dialog.start()
    assert dialog.fold.layers_seen >= 2 and dialog.fold.complete
    assert dialog.fold.total >= 1_000_000  # the blob layer's bytes were counted
    assert 0 < min(v for v in seen if v > 0) < 1000  # the bar moved through partial values
    assert dialog.bar.value() == 1000 and seen
    wait_for(qtbot, lambda: _id_with_tag(view, remote) is not None)
    dialog.close()
    run_async(qtbot, client.images.remove(remote))


def test_save_load_round_trip_and_history(
    view: ImagesView,
    qtbot: Any,
    test_image: str,
    tmp_path: Path,
    monkeypatch: Any,
    qtmodeltester: Any,
) -> None:
    client = view.ctx.client
    tag = f"portside-views/saved:{uuid.uuid4().hex[:6]}"
    run_async(qtbot, client.images.tag(test_image, tag))
    wait_for(qtbot, lambda: _id_with_tag(view, tag) is not None)
    image_id = _id_with_tag(view, tag)
    # Select the row with only that tag's image and save through the view.
    view.select_ids([image_id])  # type: ignore[list-item]
    target = tmp_path / "saved.tar"
    monkeypatch.setattr(view, "choose_save_path", lambda _s: target)
    monkeypatch.setattr(view, "_name_for", lambda _i: tag)
    save = view.open_save()
    assert save is not None
    qtbot.addWidget(save)
    wait_for(qtbot, lambda: save.result_value is not None, timeout=60)
    assert target.stat().st_size > 100_000 and not (tmp_path / "saved.tar.part").exists()
    save.close()

    run_async(qtbot, client.images.remove(tag))
    wait_for(qtbot, lambda: tag not in view.model.tags_of(image_id))  # type: ignore[arg-type]

    monkeypatch.setattr(view, "choose_load_path", lambda: target)
    load = view.open_load()
    assert load is not None
    qtbot.addWidget(load)
    wait_for(qtbot, lambda: load.result_value is not None, timeout=60)
    assert tag in load.result_value
    wait_for(qtbot, lambda: tag in view.model.tags_of(image_id))  # type: ignore[arg-type]
    load.close()

    history = view.open_history()
    assert history is not None
    qtbot.addWidget(history)
    wait_for(qtbot, lambda: len(history.model) >= 1)
    qtmodeltester.check(history.model)
    assert "layers" in history.summary.text()
    # every column but the stretched "Created by" shows its values whole (not "5…" for an ID)
    history.show()
    qtbot.waitExposed(history)
    header = history.table.horizontalHeader()
    for col in (0, 2, 3, 4):
        assert header.sectionSize(col) >= history.table.sizeHintForColumn(col), col
    history.close()
    run_async(qtbot, client.images.remove(tag))


@pytest.mark.keyring
@pytest.mark.registry
def test_push_with_stored_credentials_and_pull_retry_after_sign_in(
    view: ImagesView,
    qtbot: Any,
    test_image: str,
    registry: Any,
    keyring_backend: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.dialogs.operation import PushDialog
    from app.dialogs.signin import SignInDialog
    from engine.credentials.store import CredentialStore

    # The app's own store (as the dialogs open it), its settings in a tmp folder.
    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    client = view.ctx.client
    remote = f"{registry.host}/views/pushed:{uuid.uuid4().hex[:6]}"
    run_async(qtbot, client.images.tag(test_image, remote))
    store = CredentialStore()
    store.put(registry.host, registry.username, registry.password)
    try:
        # Push picks up the stored login by itself (default auth provider: the keyring).
        push = PushDialog(view.ctx, [remote], view)
        qtbot.addWidget(push)
        with qtbot.waitSignal(push.succeeded, timeout=60000):
            push.start()
        assert push.fold.complete
        push.close()
        run_async(qtbot, client.images.remove(remote))
        wait_for(qtbot, lambda: _id_with_tag(view, remote) is None)

        # Signed out: the pull is refused and the dialog offers to sign in.
        store.erase(registry.host)
        pull = view.open_pull(remote)
        qtbot.addWidget(pull)
        with qtbot.waitSignal(pull.failed, timeout=30000):
            pull.start()
        assert pull.signin_button.isVisibleTo(pull)

        # Sign in through the real dialog, prefilled with the registry that refused.
        pull.signin_button.click()
        signin = pull.signin_dialog
        assert isinstance(signin, SignInDialog)
        try:
            assert signin.other_radio.isChecked() and signin.server_edit.text() == registry.host
            # A wrong password is checked against the registry (engine /auth) and refused:
            # nothing is stored and the pull is not retried.
            signin.username_edit.setText(registry.username)
            signin.password_edit.setText("not-the-password")
            signin.sign_in_button.click()
            wait_for(qtbot, lambda: "refused" in signin.status_label.text(), timeout=30)
            assert store.get(registry.host) is None and not pull.running
            assert signin.isVisible()
            # The right one is accepted, lands in the keyring, and the pull is retried with it.
            signin.password_edit.setText(registry.password)
            with qtbot.waitSignal(pull.succeeded, timeout=60000):
                signin.sign_in_button.click()
        finally:
            if shiboken6.isValid(signin):
                signin.close()
        assert_signed_in(qtbot, signin, store, registry)
        assert store.logins().get(registry.host) == registry.username
        wait_for(qtbot, lambda: _id_with_tag(view, remote) is not None)
        pull.close()
    finally:
        store.erase(registry.host)
        run_async(qtbot, client.images.remove(remote))


def test_an_inspect_answer_older_than_a_delete_does_not_bring_the_row_back(
    view: ImagesView, qtbot: Any, test_image: str
) -> None:
    # The race behind a flaky "row still there after remove": an untag event starts an inspect,
    # the delete event arrives while it is in flight, then the (stale) answer lands.
    from types import SimpleNamespace

    image_id = _id_with_tag(view, test_image)
    assert image_id is not None
    view.refresh_image(image_id)
    key = f"images.event.{image_id}"
    assert view.ctx.runner.in_flight(key)
    view.on_event(SimpleNamespace(type="image", action="delete", actor_id=image_id, attributes={}))
    assert image_id not in view.model
    wait_for(qtbot, lambda: not view.ctx.runner.in_flight(key))
    qtbot.waitUntil(lambda: not view.ctx.runner.busy)
    assert image_id not in view.model
    # A refresh started after the removal is fresh and brings it back.
    view.refresh_image(image_id)
    wait_for(qtbot, lambda: image_id in view.model)


def test_removing_an_image_does_not_inspect_it_between_untag_and_delete(
    view: ImagesView, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Removing an image's last tag sends "untag" then "delete". An inspect in between holds a
    # reference on the image's layer, so the engine keeps it and a prune reports 0 B reclaimed
    # (a flaky Troubleshoot ▸ Clean up test): the view waits for the delete instead.
    from tests.support.engine_fixtures import import_image

    tag = f"portside-views/untag-delete:{uuid.uuid4().hex[:6]}"
    run_async(qtbot, import_image(view.ctx.engine.endpoint, tag), 90)
    wait_for(qtbot, lambda: _id_with_tag(view, tag) is not None)
    image_id = _id_with_tag(view, tag)
    count = view.model.rowCount()
    assert count >= 2 and view.count_label.text() == f"{count} images"  # the header follows
    images = view.ctx.client.images
    inspected: list[str] = []
    real_inspect = images.inspect

    async def spy(name: str) -> Any:
        inspected.append(name)
        return await real_inspect(name)

    monkeypatch.setattr(images, "inspect", spy)
    view.remove_images([tag], force=False)
    wait_for(qtbot, lambda: image_id not in view.model)
    qtbot.wait(UNTAG_SETTLE_MS * 2)
    assert inspected == []
    assert image_id not in view.model
    assert view.count_label.text() == f"{count - 1} image{'s' if count != 2 else ''}"
    # An untag with no delete after it is still inspected: the row loses the tag, stays.
    test_id = next(iter(view.model.ids()))
    other = f"portside-views/untag-only:{uuid.uuid4().hex[:6]}"
    view.tag_image(test_id, other)
    wait_for(qtbot, lambda: other in view.model.tags_of(test_id))
    inspected.clear()
    view.remove_images([other], force=False)
    wait_for(qtbot, lambda: other not in view.model.tags_of(test_id))
    assert inspected == [test_id] and test_id in view.model
