"""The Containers view: a tree of containers (Compose projects grouped), actions, stats, details.

The rows come from :class:`app.views.containers.store.ContainerStore` (one full list per client,
then diffs from ``/events``). While the view is shown it tells the store which running rows are
visible, and only those stream stats (stopped when it is hidden, the row scrolls away, the window
is minimized, or the container stops); the tick runs every 1 s, 2 s while the window is not
focused. Actions live in :mod:`.actions`, the details pane (logs, summary, inspect) in
:mod:`.details`. Enter or a double-click on a row (or the details pane's "Open page") shows that
container's page (:mod:`app.views.container_page`) in place of the list, in this view's stack;
Back (Esc, Alt+Left) closes it and selects the row again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.models.containers import (
    ACTIVE_STATES,
    COL,
    GROUP_PREFIX,
    ContainersFilter,
    port_urls,
)
from app.models.keyed import ID_ROLE, watch_row_count
from app.resources import icon
from app.views.containers.actions import ContainerActions
from app.views.containers.details import DetailsPanel
from app.views.containers.keys import shortcut
from app.views.containers.notice import NoticeBar
from app.views.containers.store import STATS_TICK_MS, STATS_TICK_UNFOCUSED_MS, ContainerStore
from app.views.empty_state import EmptyState
from app.widgets.columns import ColumnFitter
from app.widgets.state_delegate import StateDelegate
from app.widgets.state_page import EngineStatePage
from app.widgets.view_header import ViewHeader

if TYPE_CHECKING:
    from app.views.container_page.page import ContainerPage

UPTIME_REFRESH_MS = 30_000
NARROW_PX = 760  # below this viewport width the Created column makes room for the names
# Default widths (px) that keep name, state, ports, CPU and memory readable in a 900 px window;
# Name takes what is left, the image elides in the middle.
COLUMN_WIDTHS = {"image": 150, "state": 130, "ports_text": 120, "created": 90, "cpu": 64, "mem": 80}


class ElideMiddleDelegate(QStyledItemDelegate):
    """Elides its column's text in the middle ("registry.example/…/app:1.2")."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Any) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class ContainersView(ContainerActions, QWidget):
    """Containers: search, running/all filter, actions, Compose groups, stats, details."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._exit_watch: dict[str, float] = {}
        self.store = ContainerStore(ctx, self)
        self.model = self.store.model
        self.proxy = ContainersFilter(self)
        self.proxy.setSourceModel(self.model)
        # Dialog hooks (tests replace them; the app asks the user).
        self.confirm: Callable[[str, str], bool] = self._ask
        self.ask_text: Callable[[str, str, str], str | None] = self._ask_text
        self._dialogs: list[QWidget] = []

        # toolbar
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search containers…  (Ctrl+F)")
        self.search.setToolTip("Every word must appear in the name, image, id, labels or ports")
        self.search.setAccessibleName("Search containers")
        self.search.setAccessibleDescription(
            "Shows only the containers whose name, image, id, labels or ports contain every word"
        )
        self.search.setClearButtonEnabled(True)
        search_icon = self.search.addAction(
            icon("action-search"), QLineEdit.ActionPosition.LeadingPosition
        )
        search_icon.setText("Search containers")
        search_icon.setToolTip("Search containers (Ctrl+F)")
        search_icon.triggered.connect(self.focus_search)
        for button in self.search.findChildren(QToolButton):
            if button.defaultAction() is search_icon:
                button.setAccessibleName("Search containers")
        self.search.textChanged.connect(self.proxy.set_search)
        self.running_only = QCheckBox("Running only")
        self.running_only.toggled.connect(self.proxy.set_running_only)
        self.toolbar = QToolBar()
        self.toolbar.setAccessibleName("Container actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, icon_name, handler in (
            ("start", "Start", "action-start", lambda: self.act("start")),
            ("stop", "Stop", "action-stop", lambda: self.act("stop")),
            ("restart", "Restart", "action-restart", lambda: self.act("restart")),
            ("pause", "Pause / unpause", "action-pause", self.toggle_pause),
            ("kill", "Kill", "action-kill", lambda: self.act("kill")),
            ("remove", "Remove…", "action-remove", self.remove_selected),
            ("rename", "Rename…", "action-rename", self.rename_selected),
            ("copy_run", "Copy as docker run", "action-copy", self.copy_run_selected),
            ("open", "Open container page (Enter)", "action-open", self.open_page_selected),
            ("details", "Show details pane", "action-details", self.open_selected),
            ("logs_together", "View logs together", "action-log", lambda: self.logs_together()),
        ):
            action = QAction(icon(icon_name), text, self)
            action.setToolTip(text)
            action.triggered.connect(handler)
            self.toolbar.addAction(action)
            self.actions_by_name[name] = action
        self.header = ViewHeader("Containers")  # title + count (app/widgets/view_header.py)
        self.count_label = self.header.count
        self.count_label.setAccessibleDescription("Container count")
        self.top_bar = QWidget()
        top = QHBoxLayout(self.top_bar)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.running_only)
        top.addWidget(self.toolbar)

        # tree
        self.tree = QTreeView()
        self.tree.setAccessibleName("Containers")
        self.tree.setAccessibleDescription(
            "Containers, with Compose projects as groups; Enter shows details, Delete removes"
        )
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(COL["name"], Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        # Return/Enter and double-click (per platform style) "activate" a row: open its page.
        self.tree.activated.connect(lambda _i: self.open_page_selected())
        self.tree.doubleClicked.connect(lambda _i: self.open_page_selected())
        self.tree.clicked.connect(self._on_clicked)
        self.tree.setMouseTracking(True)
        # The image column elides in the middle (registry/…:tag both stay readable); the
        # numbers never elide: they have their width.
        self._image_delegate = ElideMiddleDelegate(self.tree)
        self.tree.setItemDelegateForColumn(COL["image"], self._image_delegate)
        StateDelegate.install(self.tree, COL["state"])  # the state as a coloured pill
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(48)
        header.setSectionResizeMode(COL["name"], QHeaderView.ResizeMode.Stretch)
        for key, width in COLUMN_WIDTHS.items():
            header.resizeSection(COL[key], width)
        # widths then follow content and window; the image (then ports) elides first
        ColumnFitter.install(self.tree, elide_first=[COL["image"], COL["ports_text"]])
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        self.proxy.rowsInserted.connect(self._expand_groups)
        self.proxy.layoutChanged.connect(self._schedule_stats)
        self.proxy.rowsInserted.connect(self._schedule_stats)
        self.proxy.rowsRemoved.connect(self._schedule_stats)
        watch_row_count(self.model, self._update_count)
        self.model.dataChanged.connect(self._on_data_changed)
        self.tree.verticalScrollBar().valueChanged.connect(self._schedule_stats)
        self.tree.expanded.connect(self._schedule_stats)
        self.tree.collapsed.connect(self._schedule_stats)
        # set before the filter is installed: a stylesheet polish calls eventFilter at once
        self._watched_window: QWidget | None = None
        self.tree.viewport().installEventFilter(self)
        self.store.row_updated.connect(self._on_row_updated)
        self.store.synced.connect(self._schedule_stats)
        self.store.synced.connect(self._update_count)

        self.details = DetailsPanel(ctx, state_text=self.model.state_text)
        self.details.open_page_requested.connect(self.open_page)
        self.details.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)

        self.notice = NoticeBar()
        self.empty_state = EmptyState(
            "No containers yet",
            "A container runs from an image. Pull one (or build one in the Images view), then "
            "run it here — or use `docker run` against this engine.",
        )
        self.empty_state.add_button("pull", "Pull an image…", self.open_pull)
        self.empty_state.add_button("run", "Run a container…", self.open_run)
        self.status = QLabel()
        self.status.setAccessibleDescription("Last action")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        table_page = QWidget()
        tl = QVBoxLayout(table_page)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.header)
        tl.addWidget(self.top_bar)
        tl.addWidget(self.notice)
        tl.addWidget(self.splitter, 1)
        tl.addWidget(self.empty_state, 1)
        tl.addWidget(self.status)

        self.state_page = EngineStatePage(ctx, what="containers")
        self.table_page = table_page
        self.page: ContainerPage | None = None  # the open container page (app/views/container_page)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.state_page)
        self.stack.addWidget(table_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(150)
        self._stats_timer.timeout.connect(self._update_stats_targets)
        # "Up 3 minutes" ages: repaint the State column now and then while the view is shown.
        self._uptime_timer = QTimer(self)
        self._uptime_timer.setInterval(UPTIME_REFRESH_MS)
        self._uptime_timer.timeout.connect(self.model.touch_states)

        # The list's keys live on the list and its bar, not on the whole view: Ctrl+F, Delete
        # and Enter inside the details pane (its find bar, its logs) belong to the pane.
        for host in (self.tree, self.top_bar, self.empty_state):
            shortcut(QKeySequence.StandardKey.Find, host, self.focus_search)
        shortcut(
            QKeySequence(Qt.Key.Key_Delete),
            self.tree,
            self.remove_selected,
            Qt.ShortcutContext.WidgetShortcut,
        )

        self.empty_state.attach(self.model, lambda: self.store.synced_once, [self.splitter])
        ctx.client_changed.connect(self._on_client)
        self._on_client(ctx.client)
        self._update_actions()
        self._update_count()

    # -- state ----------------------------------------------------------------------------------
    def _on_client(self, client: Any) -> None:
        shown = self.page if self.page is not None else self.table_page
        self.stack.setCurrentWidget(shown if client is not None else self.state_page)
        if client is None:
            self.details.close_panel()

    def _update_count(self, *_: Any) -> None:
        n = len(self.model)
        running = sum(
            1 for c in self.model.ids() if (self.model.get(c) or {}).get("state") in ACTIVE_STATES
        )
        self.count_label.setText(f"{running} running · {n} total")
        self.empty_state.update_now()

    def say(self, text: str) -> None:
        """The status line: what the last action did, by container name."""
        self.status.setText(text)
        if self.page is not None:
            self.page.say(text)

    def show_exit_notice(self, cid: str, text: str) -> None:
        self.notice.show_notice(text, "Show logs", lambda: self.show_logs(cid))

    def show_logs(self, cid: str) -> None:
        self.select([cid])
        self.details.show_container(cid)
        self.details.tabs.setCurrentWidget(self.details.logs)

    def _keep(self, dialog: QWidget) -> QWidget:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs.append(dialog)
        dialog.destroyed.connect(lambda *_: self._dialogs.remove(dialog))
        dialog.show()
        return dialog

    def open_pull(self) -> QWidget:
        from app.dialogs.operation import PullDialog

        return self._keep(PullDialog(self.ctx, self))

    def open_run(self) -> QWidget:
        from app.dialogs.run import RunDialog

        return self._keep(RunDialog(self.ctx, parent=self))

    def _on_row_updated(self, cid: str) -> None:
        self._update_count()
        self._update_actions()
        self._schedule_stats()
        self.check_exit(cid)
        if cid == self.details.container_id:
            self.details.refresh()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *_: Any) -> None:
        cid = self.details.container_id
        if cid is None or not top_left.isValid():
            return
        idx = self.model.index_for(cid)
        if (
            idx.isValid()
            and idx.parent() == top_left.parent()
            and top_left.row() <= idx.row() <= bottom_right.row()
            and top_left.column() <= COL["state"] <= bottom_right.column()
        ):
            self.details.show_state()

    def _expand_groups(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            return
        for r in range(first, last + 1):
            idx = self.proxy.index(r, 0)
            if self.proxy.rowCount(idx):
                self.tree.expand(idx)

    # -- stats for visible rows -----------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        window = self.window()
        if window is not self._watched_window:
            # Minimizing does not hide child widgets, and focus sets the refresh rate.
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self)
            window.installEventFilter(self)
            self._watched_window = window
        self._uptime_timer.start()
        self.model.touch_states()
        self._schedule_stats()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        window_change = watched is self._watched_window and kind in (
            QEvent.Type.WindowStateChange,
            QEvent.Type.ActivationChange,
        )
        if kind == QEvent.Type.Resize and watched is self.tree.viewport():
            self._fit_columns()
        if window_change or (kind == QEvent.Type.Resize and watched is self.tree.viewport()):
            self._schedule_stats()
        return False

    def _fit_columns(self) -> None:
        """In a narrow window the name matters more than when the container was created."""
        narrow = self.tree.viewport().width() < NARROW_PX
        self.tree.header().setSectionHidden(COL["created"], narrow)

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._uptime_timer.stop()
        self._stats_timer.stop()
        self.store.set_stats_targets([])

    def _schedule_stats(self, *_: Any) -> None:
        if not self._stats_timer.isActive():
            self._stats_timer.start()

    def visible_ids(self) -> list[str]:
        """Container ids of the rows currently in the viewport."""
        viewport = self.tree.viewport()
        idx = self.tree.indexAt(viewport.rect().topLeft())
        if not idx.isValid():
            idx = self.proxy.index(0, 0)
        out: list[str] = []
        height = viewport.height()
        while idx.isValid():
            rect = self.tree.visualRect(idx)
            if rect.top() > height:
                break
            key = idx.data(ID_ROLE)
            if key and not str(key).startswith(GROUP_PREFIX):
                out.append(str(key))
            idx = self.tree.indexBelow(idx)
        return out

    def stats_wanted(self) -> bool:
        """Stats only while this view is on screen: visible, window not minimized."""
        return self.isVisible() and not self.window().isMinimized() and self.ctx.client is not None

    def _update_stats_targets(self) -> None:
        if not self.stats_wanted():
            self.store.set_stats_targets([])
            return
        focused = self.window().isActiveWindow()
        self.store.set_stats_interval(STATS_TICK_MS if focused else STATS_TICK_UNFOCUSED_MS)
        self.store.set_stats_targets(self.visible_ids())

    # -- selection ------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        """Selected container ids; a selected Compose group stands for all its containers."""
        out: list[str] = []
        for idx in self.tree.selectionModel().selectedRows(0):
            key = str(idx.data(ID_ROLE) or "")
            ids = self.model.children_of(key) if key.startswith(GROUP_PREFIX) else [key]
            out.extend(i for i in ids if i and i not in out)
        return out

    def select(self, keys: Iterable[str]) -> None:
        sel = self.tree.selectionModel()
        sel.clearSelection()
        for key in keys:
            idx = self.proxy.mapFromSource(self.model.index_for(key))
            if idx.isValid():
                sel.select(idx, sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
                # Not tree.setCurrentIndex: that applies the keyboard modifiers held right now
                # (Ctrl toggles the row off again).
                sel.setCurrentIndex(idx, sel.SelectionFlag.NoUpdate)

    def _on_selection(self, *_: Any) -> None:
        self._update_actions()
        # Details follow the selection: another single container shows ITS logs and summary.
        ids = self.selected_ids()
        if self.details.isVisible() and len(ids) == 1 and ids[0] != self.details.container_id:
            self.details.show_container(ids[0])

    def _update_actions(self) -> None:
        ids = self.selected_ids()
        states = [(self.model.get(i) or {}).get("state") for i in ids]
        any_sel = bool(ids)
        a = self.actions_by_name
        a["start"].setEnabled(any(s not in ("running", "paused") for s in states))
        a["stop"].setEnabled(any(s in ACTIVE_STATES for s in states))
        a["restart"].setEnabled(any_sel)
        a["pause"].setEnabled(any(s in ("running", "paused") for s in states))
        a["kill"].setEnabled(any(s in ACTIVE_STATES for s in states))
        a["remove"].setEnabled(any_sel)
        a["rename"].setEnabled(len(ids) == 1)
        a["copy_run"].setEnabled(len(ids) == 1)
        a["details"].setEnabled(len(ids) == 1)
        a["open"].setEnabled(len(ids) == 1)
        a["logs_together"].setEnabled(len(ids) >= 2)

    # -- navigation ---------------------------------------------------------------------------
    def open_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.details.show_container(ids[0])

    def logs_together(self, ids: list[str] | None = None) -> Any:
        """The merged logs window (app/views/merged_logs) of the selection or ``ids``."""
        from app.views.merged_logs.window import open_merged_logs

        ids = ids if ids is not None else self.selected_ids()
        names = [str((self.model.get(i) or {}).get("name") or i[:12]) for i in ids]
        return open_merged_logs(self.ctx, list(zip(ids, names, strict=True)), self) if ids else None

    # -- the container page (app/views/container_page) -----------------------------------------
    def open_page_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.open_page(ids[0])

    def open_page(self, cid: str) -> ContainerPage:
        """Show the container page of ``cid`` in place of the list (Back returns here)."""
        from app.views.container_page.page import ContainerPage

        if self.page is not None and self.page.container_id.startswith(cid):
            return self.page
        self.close_page()
        page = ContainerPage(self.ctx, cid, host=self)
        page.back_requested.connect(self.close_page)
        self.page = page
        self.stack.addWidget(page)
        if self.ctx.client is not None:
            self.stack.setCurrentWidget(page)
        page.focus_content()
        return page

    def close_page(self) -> None:
        """Back to the list: the page ends its tabs' streams and goes; its row is selected."""
        page, self.page = self.page, None
        if page is None:
            return
        page.close_page()
        if self.stack.currentWidget() is page:
            self.stack.setCurrentWidget(self.table_page)
        self.stack.removeWidget(page)
        page.deleteLater()
        if not page.removed:
            self.select([page.container_id])
        self.tree.setFocus()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- ports ----------------------------------------------------------------------------------
    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() != COL["ports_text"]:
            return
        key = str(index.data(ID_ROLE) or "")
        urls = port_urls(self.model.get(key) or {})
        if len(urls) == 1:
            self.open_url(urls[0])
        elif urls:
            menu = QMenu(self)
            for url in urls:
                menu.addAction(f"Open {url}", lambda u=url: self.open_url(u))
            menu.popup(self.tree.viewport().mapToGlobal(self.tree.visualRect(index).bottomLeft()))

    def open_url(self, url: str) -> bool:
        return bool(QDesktopServices.openUrl(QUrl(url)))

    # -- menus / dialogs ------------------------------------------------------------------------
    def _context_menu(self, pos: Any) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        key = str(index.data(ID_ROLE) or "")
        menu = QMenu(self)
        if key.startswith(GROUP_PREFIX):
            project = key[len(GROUP_PREFIX) :]
            menu.addSection(f"Compose project {project}")
            for verb, text, icon_name in (
                ("start", "Start all", "action-start"),
                ("stop", "Stop all", "action-stop"),
                ("restart", "Restart all", "action-restart"),
                ("remove", "Remove all…", "action-remove"),
            ):
                menu.addAction(icon(icon_name), text, lambda v=verb, k=key: self.group_action(k, v))
            menu.addAction(
                icon("action-log"),
                "View logs together",
                lambda k=key: self.logs_together(self.model.children_of(k)),
            )
        else:
            for name in (
                "start",
                "stop",
                "restart",
                "pause",
                "kill",
                "remove",
                "rename",
                "copy_run",
                "open",
                "details",
                "logs_together",
            ):
                menu.addAction(self.actions_by_name[name])
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _ask(self, title: str, text: str) -> bool:
        """A destructive question: the button says what it does ("Remove", not "Yes"), and
        Cancel is the default so a stray Enter changes nothing."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        yes = box.addButton(title.split()[0], QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        answer = box.clickedButton() is yes
        box.deleteLater()  # a child of the view: don't leave it behind as a hidden window
        return answer

    def _ask_text(self, title: str, label: str, value: str) -> str | None:
        """One line of text; the field is wide enough for a long container name."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(value)
        dialog.setOkButtonText(title.split()[0])  # "Rename", not "OK"
        field = dialog.findChild(QLineEdit)  # the dialog sizes itself to its layout: widen this
        if field is not None:
            width = field.fontMetrics().horizontalAdvance(value) + 60
            field.setMinimumWidth(min(max(320, width), 640))
        ok = dialog.exec() == QInputDialog.DialogCode.Accepted
        text = dialog.textValue()
        dialog.deleteLater()
        return text if ok else None
