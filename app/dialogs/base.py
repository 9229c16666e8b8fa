"""What the Images/Volumes/Networks views share: state page + table + toolbar, and small dialogs.

:class:`ResourceView` stacks the engine state page over the content, keeps a keyed model behind a
sort/filter proxy, does ONE full resync when ``ctx.client_changed`` brings a client (through the
runner, keyed so a newer resync supersedes an older one) and hands every ``ctx.engine_event`` to
:meth:`ResourceView.on_event` for a diff update. Nothing polls.

Questions to the user go through :meth:`ResourceView.ask` and friends so tests can answer them
without a modal loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.common import human_size
from app.dialogs.frame import WrapLabel, grow_to_fit, release_when_finished
from app.models.keyed import ID_ROLE, SEARCH_ROLE, SORT_ROLE, KeyedTableModel

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

W = TypeVar("W", bound=QWidget)


def still_alive(widget: object) -> bool:
    """False once the Qt object behind ``widget`` was deleted (its window closed and destroyed,
    its parent deleted), though the Python wrapper lives on in a coroutine or callback.

    Code that touches a widget after an ``await`` asks this first: Qt calls on a deleted object
    raise ``RuntimeError: Internal C++ object (...) already deleted``, which the runner would
    show to the user as the failure of work that in fact went well.
    """
    return shiboken6.isValid(widget)


def guarded(widget: QObject, fn: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """Wrap a runner callback so it does nothing once ``widget`` was deleted.

    Work finishes asynchronously: a view or dialog may be gone (window closed, test torn down) by
    the time its result arrives. Errors for a deleted widget count as handled (logged).
    """
    if fn is None:
        return None

    def call(value: Any) -> Any:
        if not still_alive(widget):
            log.debug("dropping a result for a deleted %s: %r", type(widget).__name__, value)
            return True
        return fn(value)

    return call


def make_icon(name: str) -> Any:
    """``app.resources.icon(name)``, or an empty icon when the SVG is missing."""
    from PySide6.QtGui import QIcon

    try:
        from app.resources import icon

        return icon(name)
    except (FileNotFoundError, ImportError):
        return QIcon()


def stack_pages(view: QWidget, state_page: QWidget, content: QWidget) -> QStackedWidget:
    """``view``'s only child: a stack of the engine state page (index 0) and ``content`` (1).

    The list views and the Disk usage view show the state page while there is no engine client
    and their content when there is (:func:`show_page_for`).
    """
    stack = QStackedWidget(view)
    stack.addWidget(state_page)
    stack.addWidget(content)
    outer = QVBoxLayout(view)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(stack)
    return stack


def show_page_for(stack: QStackedWidget, client: Any) -> bool:
    """The state page while ``client`` is None, else the content; True when there is a client."""
    stack.setCurrentIndex(0 if client is None else 1)
    return client is not None


class ResourceView(QWidget):
    """Base of the list views: a state page when disconnected, else toolbar + search + table."""

    #: Runner key of the full resync ("images.refresh", ...).
    refresh_key = "resource.refresh"
    #: What the state page says this view lists.
    what = "items"
    #: Title used for runner errors of the resync.
    refresh_title = "Refresh"

    def __init__(self, ctx: AppContext, model: KeyedTableModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.model = model
        self._dialogs: list[QWidget] = []
        model.setParent(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(0)

        from app.widgets.state_page import EngineStatePage

        self.state_page = EngineStatePage(ctx, self, what=self.what)
        self.toolbar = QToolBar(self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(f"Search {self.what}…")
        self.search.setAccessibleName(f"Search {self.what}")
        self.search.setAccessibleDescription(f"Shows only the {self.what} whose name contains this")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(240)  # the placeholder stays whole
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(self)
        self.table.setAccessibleName(self.what.capitalize())
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setDefaultSectionSize(130)
        from app.widgets.columns import ColumnFitter

        ColumnFitter.install(self.table)  # columns as wide as their content when there is room
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.on_activated())
        # Right-click: every toolbar action, enabled as in the toolbar.
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.context_menu: QMenu | None = None
        self.status = QLabel(self)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The count has its own label: a resync (e.g. after a prune event) must not replace the
        # result line of the action the user just ran.
        self.count_label = QLabel(self)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label.hide()  # the header shows the count (kept for its text)
        self._count_noun = ""  # "image": set by the first full list, then rows added or removed
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):  # by events
            signal.connect(self._recount)
        from app.widgets.view_header import ViewHeader

        # title, count and the primary action (the first toolbar action, see finish_setup)
        self.header = ViewHeader(self.what.capitalize(), self)

        content = QWidget(self)
        top = QHBoxLayout()
        top.addWidget(self.toolbar, 1)
        top.addWidget(self.search)
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.header)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.count_label)
        lay.addLayout(bottom)
        self.content = content

        self.stack = stack_pages(self, self.state_page, content)

        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self.search.setFocus())
        self.addAction(find)
        refresh = QAction(self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.resync)
        self.addAction(refresh)

        self._selection_actions: list[QAction] = []
        # Removal events seen so far, and when each row id was last removed (see removed_since).
        self._removals = 0
        self._removed_at: dict[str, int] = {}
        ctx.client_changed.connect(self._on_client_changed)
        ctx.engine_event.connect(self._on_engine_event)

    # -- building the toolbar -------------------------------------------------------------------
    def add_action(
        self,
        text: str,
        slot: Callable[[], Any],
        *,
        icon: str | None = None,
        needs_selection: bool = False,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if icon:
            action.setIcon(make_icon(icon))
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.toolbar.addAction(action)
        if needs_selection:
            action.setEnabled(False)
            self._selection_actions.append(action)
        return action

    def add_remove_action(self) -> QAction:
        """Remove, on the selected rows, with the Delete key: the same in every list view."""
        return self.add_action(
            "Remove",
            self.remove_selected,
            icon="action-remove",
            needs_selection=True,
            shortcut="Delete",
        )

    def remove_selected(self) -> None:
        """Ask, then remove the selected rows; subclasses override."""

    def finish_setup(self) -> None:
        """Call at the end of a subclass __init__: shows the right page and resyncs."""
        first = next((a for a in self.toolbar.actions() if not a.isSeparator()), None)
        if first is not None:  # the primary action moves from the toolbar to the header
            self.toolbar.removeAction(first)
            self.header.set_primary(first)
        self._on_client_changed(self.ctx.client)

    # -- selection ------------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = self.table.selectionModel().selectedRows()
        ids = [self.proxy.data(index, ID_ROLE) for index in rows]
        return [i for i in ids if i]

    def select_ids(self, ids: list[str]) -> None:
        """Select the rows of ``ids`` (used by tests and after actions)."""
        sel = self.table.selectionModel()
        sel.clearSelection()
        for row_id in ids:
            src = self.model.index_for(row_id)
            if src.isValid():
                idx = self.proxy.mapFromSource(src)
                sel.select(
                    idx,
                    sel.SelectionFlag.Select | sel.SelectionFlag.Rows,
                )

    @Slot()
    def _selection_changed(self) -> None:
        has = bool(self.table.selectionModel().selectedRows())
        for action in self._selection_actions:
            action.setEnabled(has)

    def on_activated(self) -> None:
        """Double-click / Enter on a row; subclasses override."""

    def build_context_menu(self) -> QMenu:
        """A menu with the toolbar's actions (same objects: same enabled state and shortcuts)."""
        menu = QMenu(self)
        menu.setAccessibleName(f"{self.what.capitalize()} actions")
        for action in self.toolbar.actions():
            if action.isSeparator():
                menu.addSeparator()
            elif action.text():
                menu.addAction(action)
        return menu

    def _context_menu(self, pos: Any) -> None:
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        self.context_menu = self.build_context_menu()
        self.context_menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- connection and events ------------------------------------------------------------------
    @Slot(object)
    def _on_client_changed(self, client: Any) -> None:
        if show_page_for(self.stack, client):
            self.resync()

    def resync(self) -> None:
        """One full resync over the current client (the only time this view lists everything)."""
        client = self.ctx.client
        if client is None:
            return

        async def fetch() -> Any:
            return await self.fetch_all(client)

        self.launch(fetch, key=self.refresh_key, title=self.refresh_title, on_done=self.apply_all)

    async def fetch_all(self, client: Any) -> Any:
        raise NotImplementedError

    def apply_all(self, result: Any) -> None:
        raise NotImplementedError

    @Slot(object)
    def _on_engine_event(self, event: Any) -> None:
        if self.ctx.client is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a malformed event must not break the others
            log.exception("%s: applying event %r failed", type(self).__name__, event)

    def on_event(self, event: Any) -> None:
        """Apply one engine event as a diff; subclasses override."""

    def remove_row(self, row_id: str) -> None:
        """Drop a row the engine says is gone (destroy/delete event), remembering when."""
        self._removals += 1
        self._removed_at[row_id] = self._removals
        self.model.remove(row_id)

    def removal_mark(self) -> int:
        """Take before a single-row refresh starts; pass it to :meth:`removed_since` later."""
        return self._removals

    def removed_since(self, row_id: str, mark: int) -> bool:
        """Whether ``row_id`` was removed after ``mark``: then a refresh started before that
        (e.g. an inspect for an earlier untag/connect event) carries stale data and must not bring
        the row back."""
        return self._removed_at.get(row_id, 0) > mark

    def refresh_row(
        self,
        fetch: Callable[[Any], Any],
        row_id_of: Callable[[Any], str],
        apply: Callable[[Any], None],
        *,
        key: str,
        title: str,
        gone: Callable[[], None] | None = None,
    ) -> None:
        """Refresh one row after an event: ``fetch(client)``, then ``apply`` the answer.

        An answer for a row removed while it was in flight is stale and dropped. The engine
        saying the object is gone calls ``gone`` (if given); other failures are logged only, as
        the next event or resync repairs the row.
        """
        client = self.ctx.client
        if client is None:
            return
        from engine.errors import NotFound

        mark = self.removal_mark()

        def done(obj: Any) -> None:
            if not self.removed_since(row_id_of(obj), mark):
                apply(obj)

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, NotFound):
                if gone is not None:
                    gone()
            else:
                log.warning("%s (%s) failed: %s", title, key, exc)
            return True

        self.launch(lambda: fetch(client), key=key, title=title, on_done=done, on_error=failed)

    def launch(
        self,
        factory: Callable[[], Any],
        *,
        on_done: Callable[[Any], Any] | None = None,
        on_error: Callable[[BaseException], bool] | None = None,
        **kwargs: Any,
    ) -> Any:
        """``ctx.runner.run`` with callbacks that are dropped once this view is deleted."""
        return self.ctx.runner.run(
            factory, on_done=guarded(self, on_done), on_error=guarded(self, on_error), **kwargs
        )

    def run(self, factory: Callable[[], Any], **kwargs: Any) -> Any:
        """:meth:`launch` for user actions: refuses politely when disconnected."""
        if self.ctx.client is None:
            self.say("Not connected to the engine.")
            return None
        return self.launch(factory, **kwargs)

    def keep_dialog(self, dialog: W) -> W:
        """Keep a modeless dialog alive while it is open; delete it once it closed.

        The dialogs are children of the view: without the delete, every closed dialog would stay
        alive as a hidden window (five opens, five left).
        """
        self._dialogs.append(dialog)
        dialog.finished.connect(  # type: ignore[attr-defined]
            lambda _r, d=dialog: self._dialogs.remove(d) if d in self._dialogs else None
        )
        release_when_finished(dialog)  # type: ignore[arg-type]
        return dialog

    def open_for_selected(self, key: str | None, make: Callable[[str], W]) -> W | None:
        """Open ``make(key)`` — for the first selected row when ``key`` is None — and keep it.

        None when no key was given and nothing is selected (details/history of "the selection").
        """
        if key is None:
            ids = self.selected_ids()
            if not ids:
                return None
            key = ids[0]
        dialog = make(key)
        self.keep_dialog(dialog).show()
        return dialog

    def show_create(self, dialog: W, said: Callable[[str], str]) -> W:
        """Keep and show a Create dialog; when it has created something, say ``said(key)``."""
        dialog.created.connect(lambda key: self.say(said(key)))  # type: ignore[attr-defined]
        self.keep_dialog(dialog)
        dialog.show()
        return dialog

    def remove_each(
        self,
        keys: list[str],
        remove: Callable[[str], Any],
        label: Callable[[str], str],
        noun: str,
    ) -> Any:
        """Remove ``keys`` one by one with ``remove(key)`` (a coroutine function).

        Keeps going past failures: already-gone objects are skipped, the others are reported
        together (``label(key): engine message``) after the rest were removed.
        """
        from app.dialogs.operation import describe
        from engine.errors import NotFound

        async def remove_all() -> list[str]:
            problems = []
            for key in keys:
                try:
                    await remove(key)
                except NotFound:
                    continue
                except Exception as exc:  # keep going; report each failure
                    problems.append(f"{label(key)}: {describe(exc)}")
            return problems

        def done(problems: list[str]) -> None:
            self.say(f"Removed {len(keys) - len(problems)} {noun}(s).")
            if problems:
                self.ctx.runner.report(f"Remove {noun}s", RuntimeError("\n".join(problems)))

        return self.run(remove_all, title=f"Remove {noun}s", on_done=done,
                        work=f"Remove {len(keys)} {noun}s" if len(keys) > 1 else "")

    def prune_rows(
        self, prune: Callable[[], Any], *, title: str, noun: str, work: str = ""
    ) -> Any:
        """Run ``prune()`` (a coroutine function answering ``deleted`` and ``space_reclaimed``),
        drop the rows of what it deleted and say how much space it gave back.

        The engine reports a prune as one "prune" event, not a "destroy" per object, so the
        rows go here. A prune that ends while the window is hidden notifies (it can be long);
        ``work`` ("Remove unused images", else ``title``) names it for an engine switch.
        """

        def done(result: Any) -> None:
            for deleted in result.deleted:
                self.remove_row(deleted)
            self.say(
                f"Pruned {len(result.deleted)} {noun}(s); reclaimed "
                f"{human_size(result.space_reclaimed)}."
            )

        return self.run(prune, title=title, on_done=done, notify_when_hidden=True,
                        work=work or title)

    # -- talking to the user (overridable in tests) ---------------------------------------------
    def say(self, text: str) -> None:
        """Show a short result line under the table (e.g. space reclaimed)."""
        self.status.setText(text)

    def show_count(self, count: int, singular: str) -> None:
        """Show how many rows there are ("3 networks") in the header: the full list's count, then
        the model's as events add and remove rows."""
        self._count_noun = singular
        self.count_label.setText(f"{count} {singular}{'s' if count != 1 else ''}")
        self.header.set_count(self.count_label.text())

    def _recount(self, *_args: Any) -> None:
        if self._count_noun:
            self.show_count(self.model.rowCount(), self._count_noun)

    def ask(self, title: str, text: str, *, ok: str = "Remove") -> bool:
        """Confirm a destructive action."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        yes = box.addButton(ok, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        answer = box.clickedButton() is yes
        box.deleteLater()  # a child of the view: don't leave it behind as a hidden window
        return answer


class FieldErrorLabel(WrapLabel):
    """A red-ish, word-wrapped label under a form field; hidden while empty.

    Long paths and references break anywhere sensible (:class:`WrapLabel`), and the window grows
    when a message appears, so an error is always shown whole.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("fieldError")
        # its colour comes from app.theme's stylesheet (QLabel#fieldError: the danger colour)
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        if text:
            grow_to_fit(self)
