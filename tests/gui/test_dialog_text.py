"""Every message in the dialogs and on the engine state page is shown whole, fields keep a usable
width, and dialogs grow to fit what appeared — with real errors from the real engine/registry.

"Whole" is measured: a word-wrapped label is at least as tall as the text needs at its width and
lies inside its window; an unwrapped one is wide enough for its text; a field is wide enough for
its placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

from app.dialogs.frame import ZWSP, WrapLabel, breakable
from app.dialogs.operation import PullDialog
from app.dialogs.signin import SignInDialog
from tests.gui.conftest import wait_for

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


def text_problems(window: QWidget) -> list[str]:
    """Labels cut, outside the window, or fields narrower than their placeholder."""
    QApplication.processEvents()
    problems = []
    inside = window.rect()
    for label in window.findChildren(QLabel):
        if not label.isVisibleTo(window) or not label.text() or label.pixmap().width() > 0:
            continue
        rect = label.geometry()
        rect.moveTopLeft(label.mapTo(window, label.rect().topLeft()))
        if not inside.contains(rect):
            problems.append(f"label {label.text()[:40]!r} sticks out of the window: {rect}")
        contents = label.contentsRect()
        metrics = label.fontMetrics()
        if label.wordWrap():
            needed = label.heightForWidth(label.width())
            if label.height() < needed:
                problems.append(
                    f"label {label.text()[:40]!r} is {label.height()} px tall, needs {needed}"
                )
            shown = label.text() if not isinstance(label, WrapLabel) else breakable(label.text())
            longest = max(
                (metrics.horizontalAdvance(w) for w in shown.replace(ZWSP, " ").split()),
                default=0,
            )
            if longest > contents.width():
                problems.append(f"label {label.text()[:40]!r}: a word is wider than the label")
        elif metrics.horizontalAdvance(label.text()) > contents.width() + 1:
            problems.append(f"label {label.text()[:40]!r} is cut ({contents.width()} px)")
    for edit in window.findChildren(QLineEdit):
        if not edit.isVisibleTo(window) or not edit.placeholderText():
            continue
        room = edit.width() - 12  # frame and text margins
        needed = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        if needed > room:
            problems.append(f"field {edit.placeholderText()!r} is {edit.width()} px: cut")
    if window.height() < window.minimumSizeHint().height():
        problems.append(f"window {window.size()} below its minimum {window.minimumSizeHint()}")
    return problems


def test_breakable_adds_break_chances_only_inside_long_tokens(qapp: Any) -> None:
    path = "/run/user/1000/portside/engine-with-a-long-name/docker-engine.sock"
    out = breakable(f"Nothing answers at unix://{path}. Start it.")
    assert out.replace(ZWSP, "") == f"Nothing answers at unix://{path}. Start it."
    assert f"/{ZWSP}portside/{ZWSP}" in out
    assert breakable("short words stay as they are") == "short words stay as they are"
    # a file's extension stays with its name; a longer part after a dot may still go below
    saved = breakable("/tmp/pytest-of-root/pytest-176/test_views_and_dialogs0/saved.tar")
    assert "saved.tar" in saved and f"/{ZWSP}saved.tar" in saved
    assert f"registry.{ZWSP}example" in breakable("registry.example-with-a-long-name.org/team")
    label = WrapLabel(f"at {path}")
    assert label.text() == f"at {path}" and label.accessibleName() == f"at {path}"


@pytest.mark.engine
@pytest.mark.registry
@pytest.mark.keyring
def test_sign_in_error_wraps_and_the_fields_keep_their_width(
    app_ctx: Any, qtbot: Any, registry: Any, keyring_backend: Any, tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.credentials.store import CredentialStore

    monkeypatch.setenv("PORTSIDE_CONFIG_DIR", str(tmp_path / "portside"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    dialog = SignInDialog(app_ctx, server=registry.host, store=CredentialStore())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert text_problems(dialog) == []
    before = {e: e.width() for e in (dialog.server_edit, dialog.username_edit)}
    qtbot.keyClicks(dialog.username_edit, registry.username)
    qtbot.keyClicks(dialog.password_edit, "not-the-password")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    wait_for(qtbot, lambda: "refused" in dialog.status_label.text(), timeout=30)
    QApplication.processEvents()
    assert len(dialog.status_label.text()) > 80  # a real, long message from the registry
    assert text_problems(dialog) == []
    for edit, width in before.items():
        assert edit.width() >= max(width, 280), edit.objectName()
    # The message sits below the fields, it does not overlap them.
    assert dialog.status_label.y() >= dialog.password_edit.geometry().bottom()


def test_pull_error_is_shown_whole(app_ctx: Any, qtbot: Any) -> None:
    # Nothing listens on port 9: the engine's long "connection refused" error comes back.
    ref = "127.0.0.1:9/a/very/long/repository/path/that/needs/wrapping/image:some-long-tag"
    dialog = PullDialog(app_ctx, reference=ref)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    height = dialog.height()
    with qtbot.waitSignal(dialog.failed, timeout=30000) as failed:
        qtbot.keyClick(dialog.reference, Qt.Key.Key_Return)
    QApplication.processEvents()
    text = failed.args[0]
    assert "127.0.0.1:9" in text and dialog.error.text() == text
    assert text_problems(dialog) == []
    assert dialog.height() > height  # grew for the message


@pytest.fixture
def stopped_ctx(qapp: Any) -> Iterator[Any]:
    from app.context import AppContext
    from app.runner import Runner
    from engine.lifecycle import ExternalEngine

    long_socket = "unix:///run/user/1000/portside/an-engine-with-a-long-name/docker-engine.sock"
    ctx = AppContext(ExternalEngine(long_socket), attached=True, runner=Runner(show_dialogs=False))
    yield ctx
    ctx.deleteLater()


@pytest.mark.parametrize("attached", [True, False])
@pytest.mark.parametrize("width", [380, 700])
def test_engine_state_page_detail_is_whole(
    qtbot: Any, stopped_ctx: Any, attached: bool, width: int
) -> None:
    from app.widgets.state_page import EngineStatePage

    stopped_ctx._attached = attached
    page = EngineStatePage(stopped_ctx, what="containers")
    qtbot.addWidget(page)
    page.resize(width, 420)
    page.show()
    qtbot.waitExposed(page)
    text = page.detail.text()
    if attached:
        assert "docker-engine.sock" in text and "Retry" in text
    else:
        assert text.startswith("Start Portside's engine to see your containers")
    assert text_problems(page) == []
