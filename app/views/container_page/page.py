"""The container page: header + tabs of one container, kept in step with the engine.

Data flow: the Containers view creates a :class:`ContainerPage` for one container id and shows it
in its stack (Enter / double-click on a row, or the details pane's button). The page owns ONE
subscription to ``ctx.engine_event``: every event whose actor is this container (except the
noise of execs and archive reads) schedules ONE fresh inspect (coalesced over
:data:`COALESCE_MS`, a runner task keyed per container on the qasync loop); its answer goes to
the header and to ``container_changed`` of EVERY tab, so a restart is followed by all of them.
A ``destroy`` event or a 404 from the inspect means the container is gone: every tab gets
``None``, the header says "Removed", the actions are disabled and a notice says so; the page
stays until the user goes back. A reconnected client (``client_changed``) re-inspects, since
anything may have happened meanwhile.

Actions run through the Containers view's :mod:`app.views.containers.actions` (the same pending
states, errors and status line as the list); "Commit to image…" opens
:class:`app.views.container_page.commit_dialog.CommitDialog`.

Back: the header's button, Escape or Alt+Left. Escape is read in
:meth:`ContainerPage.keyPressEvent`, so a child that uses the key itself (a terminal's Escape, a
field's) keeps it; Alt+Left is a shortcut of the page (a tree view would take it as Left), which a
child claims by accepting its ``ShortcutOverride`` event.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.dialogs.base import guarded
from app.views.container_page.files_tab import FilesTab
from app.views.container_page.header import PageHeader
from app.views.container_page.inspect_tab import InspectTab
from app.views.container_page.logs.tab import LogsTab
from app.views.container_page.stats_tab import StatsTab
from app.views.container_page.terminal import TerminalTab
from app.views.containers.keys import shortcut
from app.views.containers.notice import NoticeBar
from engine.errors import NotFound

log = logging.getLogger(__name__)

COALESCE_MS = 60
# Container events that change nothing an inspect shows: re-inspecting on them is waste.
QUIET_ACTIONS = ("exec_", "archive-path", "extract-to-dir", "attach", "detach", "resize", "top")

# THE tab list, in tab order (Logs, Terminal, Stats, Inspect, Files). Each issue-10 helper adds
# their tab's import above and its entry here.
# Keep this order: LogsTab, TerminalTab, StatsTab, InspectTab, FilesTab.
TAB_CLASSES: list[type[Any]] = [
    LogsTab,
    TerminalTab,
    StatsTab,
    InspectTab,
    FilesTab,
]


class PageHost(Protocol):
    """What the page needs from the Containers view (its actions and model)."""

    model: Any

    def act(self, verb: str, ids: list[str] | None = None) -> Any: ...

    def remove_selected(
        self, ids: list[str] | None = None, running: list[str] | None = None
    ) -> Any: ...


class ContainerPage(QWidget):
    """One container: header with actions, and its tabs.

    Signals:
        back_requested(): Back button, Escape or Alt+Left; the view shows the list again.
        details_changed(object): each fresh inspect (``ContainerDetails``) or None once removed.
    """

    back_requested = Signal()
    details_changed = Signal(object)

    def __init__(
        self,
        ctx: Any,
        container_id: str,
        host: PageHost | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.container_id = container_id
        self.host = host
        self.details: Any = None
        self.removed = False
        self._closed = False
        self._shown = False
        self.inspect_count = 0  # answered inspects (tests and the log read it)
        self.open_url: Callable[[str], bool] = lambda url: bool(
            QDesktopServices.openUrl(QUrl(url))
        )
        self.setAccessibleName("Container page")

        self.header = PageHeader()
        self.header.set_placeholder(container_id)
        self.header.back_requested.connect(self.back_requested)
        self.header.action_requested.connect(self.run_action)
        self.header.link_activated.connect(lambda url: self.open_url(url))
        self.notice = NoticeBar()
        self.notice.setAccessibleName("Container removed notice")
        self.status = QLabel()
        self.status.setAccessibleDescription("Last action")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Container tabs")
        self.tabs.setDocumentMode(True)
        # Each is a QWidget AND a PageTab (the protocol cannot say both).
        self.tab_widgets: list[Any] = []
        for cls in TAB_CLASSES:
            tab = cls(ctx, container_id, self)
            self.tab_widgets.append(tab)
            self.tabs.addTab(tab, cls.title)
        self.tabs.currentChanged.connect(lambda _i: self._update_active())
        shortcut(QKeySequence("Alt+Left"), self, self.back_requested.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(COALESCE_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        ctx.engine_event.connect(self._on_event)
        ctx.client_changed.connect(self._on_client)
        model = getattr(host, "model", None)
        if model is not None:
            model.dataChanged.connect(self._on_model_changed)
        self.refresh()

    # -- tabs -------------------------------------------------------------------------------------
    def tab(self, title: str) -> Any:
        """The tab with this title (``page.tab("Inspect")``), or None."""
        for t in self.tab_widgets:
            if type(t).title == title:
                return t
        return None

    def show_tab(self, title: str) -> None:
        t = self.tab(title)
        if t is not None:
            self.tabs.setCurrentWidget(t)

    def focus_content(self) -> None:
        """Keyboard focus into the current tab (its focus proxy, e.g. the Inspect tree)."""
        current = self.tabs.currentWidget()
        (current or self.header.back).setFocus(Qt.FocusReason.OtherFocusReason)

    def _update_active(self) -> None:
        current = self.tabs.currentWidget()
        for t in self.tab_widgets:
            t.set_active(self._shown and not self._closed and t is current)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._shown = True
        self._update_active()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._shown = False
        self._update_active()

    # -- following the container ----------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if self._closed or getattr(event, "type", "") != "container":
            return
        actor = str(getattr(event, "actor_id", "") or "")
        if not actor or not (actor == self.container_id or actor.startswith(self.container_id)):
            return
        action = str(getattr(event, "action", "") or "")
        if action == "destroy":
            self._gone()
        elif not action.startswith(QUIET_ACTIONS):
            self._refresh_timer.start()

    def _on_client(self, client: Any) -> None:
        if client is not None and not self._closed and not self.removed:
            self.refresh()

    def refresh(self) -> None:
        """Inspect again; the answer reaches the header and every tab."""
        client = self.ctx.client
        if self._closed or self.removed or client is None:
            return
        cid = self.container_id
        self.ctx.runner.run(
            lambda: client.containers.inspect(cid),
            key=f"container_page.inspect.{cid}",
            title="Inspect container",
            on_done=guarded(self, self._apply),
            on_error=guarded(self, self._inspect_failed),
        )

    def _inspect_failed(self, exc: BaseException) -> bool:
        if isinstance(exc, NotFound):
            self._gone()
            return True
        return False

    def _apply(self, details: Any) -> None:
        if self._closed or self.removed:
            return
        raw = getattr(details, "raw", None) or {}
        full = str(raw.get("Id") or getattr(details, "id", "") or "")
        if full:
            self.container_id = full
        self.details = details
        self.inspect_count += 1
        self.header.set_details(raw)
        self._on_model_changed()
        for t in self.tab_widgets:
            t.container_changed(details)
        self.details_changed.emit(details)

    def _gone(self) -> None:
        if self._closed or self.removed:
            return
        self.removed = True
        self._refresh_timer.stop()
        self.header.set_details(None)
        name = self.header.name.text()
        self.notice.show_notice(
            f"{name} was removed. What the tabs show is what it had; nothing here acts on it "
            "any more.",
            "Return to the list",
            self.back_requested.emit,
        )
        self.notice.action.setAccessibleName("Return to the containers list")
        for t in self.tab_widgets:
            t.container_changed(None)
        self.details_changed.emit(None)

    def _on_model_changed(self, *_: Any) -> None:
        model = getattr(self.host, "model", None)
        if model is None or self.removed:
            return
        pending = model.pending(self.container_id)
        self.header.set_pending(f"{pending}…" if pending else "")

    # -- actions ----------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.status.setText(text)

    def run_action(self, verb: str) -> Any:
        """A header button: start/stop/restart/pause(or resume)/kill/remove/commit."""
        if self.removed or self._closed:
            return None
        if verb == "commit":
            return self.open_commit()
        host = self.host
        if host is None:
            return None
        ids = [self.container_id]
        if verb == "remove":
            state = (getattr(self.details, "raw", None) or {}).get("State") or {}
            active = state.get("Running") or state.get("Paused") or state.get("Restarting")
            return host.remove_selected(ids, running=ids if active else [])
        if verb == "pause":
            state = (getattr(self.details, "raw", None) or {}).get("State") or {}
            verb = "unpause" if state.get("Paused") else "pause"
        return host.act(verb, ids)

    def open_commit(self) -> Any:
        from app.views.container_page.commit_dialog import CommitDialog

        dialog = CommitDialog(self.ctx, self.container_id, self.header.name.text(), self)
        dialog.committed.connect(self.say)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- keys -------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key == Qt.Key.Key_Escape and mods == Qt.KeyboardModifier.NoModifier:
            self.back_requested.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.BackButton:
            self.back_requested.emit()
            return
        super().mousePressEvent(event)

    # -- closing ----------------------------------------------------------------------------------
    def close_page(self) -> None:
        """End every tab's tasks and streams and stop following the container; idempotent."""
        if self._closed:
            return
        self._update_active()
        self._closed = True
        self._refresh_timer.stop()
        for t in self.tab_widgets:
            t.set_active(False)
        for t in self.tab_widgets:
            try:
                t.close_tab()
            except Exception:  # one tab failing to close must not keep the others open
                log.exception("closing the %s tab failed", type(t).title)
        for signal, slot in (
            (self.ctx.engine_event, self._on_event),
            (self.ctx.client_changed, self._on_client),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        model = getattr(self.host, "model", None)
        if model is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                model.dataChanged.disconnect(self._on_model_changed)


__all__ = ["TAB_CLASSES", "ContainerPage", "PageHost"]
