"""Run an image that is not here yet: the run dialog pulls it first, as ``docker run`` does —
with the login stored in the keyring for its registry, or, when there is none, after signing in
through the sign-in dialog it offers. Real engine, htpasswd registry and Secret Service."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from app.dialogs import run_spec as rs
from engine.errors import NotFound
from tests.gui.conftest import run_async, wait_for
from tests.gui.registry_image import assert_signed_in, publish_remote_image
from tests.gui.run_dialog import filled_run_dialog

pytestmark = [
    pytest.mark.gui,
    pytest.mark.engine,
    pytest.mark.registry,
    pytest.mark.keyring,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyring_backend: Any,
          registry: Any) -> Iterator[Any]:
    """The app's credential store, with its settings and the docker config in tmp folders."""
    from engine.credentials.store import CredentialStore

    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    store = CredentialStore()
    store.erase(registry.host)
    try:
        yield store
    finally:
        store.erase(registry.host)


BLOB_SIZE = 1_500_000


@pytest.fixture
def remote_only(app_ctx: Any, qtbot: Any, test_image: str, registry: Any,
                tmp_path: Path) -> Iterator[str]:
    """An image in the (password-protected) registry but not in the engine.

    It has a layer of its own (random bytes), so running it really downloads something.
    """
    client = app_ctx.client
    remote, _auth = publish_remote_image(
        qtbot, client, registry, test_image, tmp_path / "ctx", "runpull", BLOB_SIZE
    )
    with pytest.raises(NotFound):
        run_async(qtbot, client.images.inspect(remote))
    try:
        yield remote
    finally:
        with contextlib.suppress(NotFound):
            run_async(qtbot, client.images.remove(remote))


def _running(qtbot: Any, ctx: Any, container_id: str) -> Any:
    return run_async(qtbot, ctx.client.containers.inspect(container_id))


def test_run_pulls_a_missing_image_with_the_stored_login(
    app_ctx: Any, qtbot: Any, registry: Any, store: Any, remote_only: str, containers: Any
) -> None:
    store.put(registry.host, registry.username, registry.password)
    dialog = filled_run_dialog(qtbot, app_ctx, remote_only, containers.name("pulled"), "sleep 30")
    with qtbot.waitSignal(dialog.started, timeout=60000) as blocker:
        dialog.submit()
    container_id = blocker.args[0]
    containers.ids.append(container_id)

    assert dialog.pulled == remote_only
    assert dialog.fold.layers_seen >= 2 and dialog.fold.complete
    assert dialog.fold.total >= BLOB_SIZE // 2  # the new layer's (compressed) bytes were counted
    assert dialog.bar.isVisibleTo(dialog) and dialog.bar.value() == 1000
    assert f"Pulled {remote_only}" in dialog.pull_status.text()
    assert not dialog.signin_button.isVisibleTo(dialog)
    details = _running(qtbot, app_ctx, container_id)
    assert details.running
    image = run_async(qtbot, app_ctx.client.images.inspect(remote_only))
    assert details.image_id == image.id


def test_run_without_a_login_offers_sign_in_then_pulls_and_starts(
    app_ctx: Any, qtbot: Any, registry: Any, store: Any, remote_only: str, containers: Any
) -> None:
    from app.dialogs.signin import SignInDialog

    name = containers.name("signin")
    dialog = filled_run_dialog(qtbot, app_ctx, remote_only, name, "sleep 30")
    task = dialog.submit()
    assert task is not None
    # The dialog shows the outcome from the task's done callback, a loop turn after it ends.
    wait_for(qtbot, lambda: task.done() and rs.IMAGE in dialog.errors(), timeout=60)

    # Refused for lack of credentials: said next to the image, with a sign-in offer, no container.
    text = dialog.errors().get(rs.IMAGE, "")
    assert registry.host in text and "wants credentials" in text, dialog.errors()
    assert dialog.signin_button.isVisibleTo(dialog)
    assert dialog.container_id == "" and dialog.pulled == ""
    left = run_async(qtbot, app_ctx.client.containers.list(all=True, filters={"name": [name]}))
    assert left == []

    # Accept the offer: the real sign-in dialog, prefilled with the registry.
    dialog.signin_button.click()
    signin = dialog.signin_dialog
    assert isinstance(signin, SignInDialog)
    try:
        assert signin.other_radio.isChecked() and signin.server_edit.text() == registry.host
        signin.username_edit.setText(registry.username)
        signin.password_edit.setText(registry.password)
        with qtbot.waitSignal(dialog.started, timeout=60000) as blocker:
            signin.sign_in_button.click()
        containers.ids.append(blocker.args[0])
    finally:
        if shiboken6.isValid(signin):
            signin.close()
    assert_signed_in(qtbot, signin, store, registry)
    assert dialog.pulled == remote_only and not dialog.errors()
    assert _running(qtbot, app_ctx, blocker.args[0]).running
