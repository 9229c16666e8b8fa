"""The one way GUI code launches engine I/O, plus the crash hook.

``Runner.run`` starts a coroutine as an asyncio task on the (qasync) loop, keeps a strong reference
while it is in flight, cancels the older run of the same ``key`` (a superseded refresh), and shows
errors to the user with the engine's own message. Long work the user started carries a name
(``run(work="Pull nginx:latest")``): :meth:`Runner.work_in_flight` lists it, so an engine switch
can ask before stopping it (app/engines/busy.py). Nothing is lost silently: unexpected exceptions
anywhere (Qt slots, asyncio callbacks) go through :func:`install_crash_hook`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from engine.errors import PortsideError

log = logging.getLogger(__name__)

T = TypeVar("T")


def describe_error(exc: BaseException) -> str:
    """The text shown to the user: our own errors carry the engine's message verbatim."""
    if isinstance(exc, PortsideError):
        return str(exc)
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class Runner(QObject):
    """Runs engine coroutines for the GUI and reports their errors.

    Signals:
        busy_changed(bool): True while at least one task is in flight.
        error_reported(str, str): (title, message) for every error shown to the user.
    """

    busy_changed = Signal(bool)
    error_reported = Signal(str, str)

    def __init__(self, parent: QObject | None = None, *, show_dialogs: bool = True) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}
        #: names of the long work in flight, in start order (run(work=...))
        self._work: dict[asyncio.Task[Any], str] = {}
        self.show_dialogs = show_dialogs
        self.dialog_parent: Callable[[], QWidget | None] = lambda: None
        self.window_visible: Callable[[], bool] = lambda: True
        self.notifier: Callable[[str, str], None] | None = None
        self._open_boxes: list[QMessageBox] = []

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def in_flight(self, key: str) -> bool:
        task = self._keyed.get(key)
        return task is not None and not task.done()

    def work_in_flight(self) -> list[str]:
        """Names of the long work in flight (``run(work=...)``), oldest first."""
        return [name for task, name in self._work.items() if not task.done()]

    def run(
        self,
        coro_factory: Callable[[], Awaitable[T]],
        *,
        key: str | None = None,
        title: str = "",
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], bool] | None = None,
        notify_when_hidden: bool = False,
        work: str = "",
    ) -> asyncio.Task[T]:
        """Start ``coro_factory()`` as a task; the same ``key`` cancels the older run.

        ``work`` names long work the user started ("Pull nginx:latest", "Terminal in web"):
        switching engines stops it, so the switch asks first (:meth:`work_in_flight`).
        """
        if key is not None:
            older = self._keyed.pop(key, None)
            if older is not None and not older.done():
                older.cancel()

        async def _wrapped() -> T:
            return await coro_factory()

        task: asyncio.Task[T] = asyncio.ensure_future(_wrapped())
        was_busy = self.busy
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task
        if work:
            self._work[task] = work
        if not was_busy:
            self.busy_changed.emit(True)

        def _finished(t: asyncio.Task[T]) -> None:
            self._tasks.discard(t)
            self._work.pop(t, None)
            if key is not None and self._keyed.get(key) is t:
                del self._keyed[key]
            try:
                if t.cancelled():
                    return
                exc = t.exception()
                if exc is not None:
                    handled = False
                    if on_error is not None:
                        try:
                            handled = bool(on_error(exc))
                        except Exception:  # the handler itself failed: report both
                            log.exception("on_error handler for %r failed", title)
                    if not handled:
                        self.report(title or "Operation failed", exc)
                    return
                result = t.result()
                if on_done is not None:
                    try:
                        on_done(result)
                    except Exception as cb_exc:
                        log.exception("on_done handler for %r failed", title)
                        self.report(title or "Operation failed", cb_exc)
                        return
                if notify_when_hidden and self.notifier is not None and not self.window_visible():
                    self.notifier(title or "Portside", "Finished.")
            finally:
                if not self._tasks:
                    self.busy_changed.emit(False)

        task.add_done_callback(_finished)
        return task

    def report(self, title: str, exc: BaseException) -> None:
        """Show ``exc`` to the user (dialog, or a tray notification when the window is hidden)."""
        message = describe_error(exc)
        if isinstance(exc, PortsideError):
            log.warning("%s: %s", title, message)
        else:
            log.error(
                "%s: unexpected error\n%s",
                title,
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            )
        self.error_reported.emit(title, message)
        if not self.window_visible() and self.notifier is not None:
            self.notifier(title, message)
            return
        if self.show_dialogs and QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self.dialog_parent())
            box.setModal(False)
            self._open_boxes.append(box)
            box.finished.connect(lambda _r, b=box: self._forget_box(b))
            box.show()

    def _forget_box(self, box: QMessageBox) -> None:
        if box in self._open_boxes:
            self._open_boxes.remove(box)
        box.deleteLater()

    def cancel_all(self, keep: asyncio.Task[Any] | None = None) -> None:
        """Cancel everything in flight but ``keep`` (the task asking, when it is one of ours:
        the first-run guide's start moves the app to another engine from inside its own run)."""
        for task in list(self._tasks):
            if task is not keep:
                task.cancel()

    async def drain(self, limit: float = 5.0, keep: asyncio.Task[Any] | None = None) -> None:
        """Wait (bounded) for in-flight tasks but ``keep`` to finish after :meth:`cancel_all`."""
        pending = [t for t in self._tasks if not t.done() and t is not keep]
        if pending:
            await asyncio.wait(pending, timeout=limit)


_hook_installed = False


def install_crash_hook(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Log and show unexpected exceptions from Qt slots and asyncio callbacks.

    Python exceptions raised in Qt slots reach ``sys.excepthook``; exceptions in asyncio callbacks
    and never-awaited failed tasks reach the loop's exception handler. Both are logged with the
    traceback and shown in a dialog when a QApplication exists.
    """
    global _hook_installed

    def _show(summary: str, details: str) -> None:
        qt_app = QApplication.instance()
        if qt_app is None or not isinstance(qt_app, QApplication):
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "Portside: unexpected error", summary)
        box.setDetailedText(details)
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    def _excepthook(
        etype: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        details = "".join(traceback.format_exception(etype, value, tb))
        log.critical("Unhandled exception\n%s", details)
        if issubclass(etype, KeyboardInterrupt):
            return
        _show(describe_error(value), details)

    if not _hook_installed:
        sys.excepthook = _excepthook
        _hook_installed = True

    if loop is not None:

        def _loop_handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            exc = context.get("exception")
            message = str(context.get("message", "asyncio error"))
            if isinstance(exc, asyncio.CancelledError):
                return
            if exc is not None:
                details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                log.critical("%s\n%s", message, details)
                _show(describe_error(exc), details)
            else:
                log.error("%s: %r", message, context)

        loop.set_exception_handler(_loop_handler)
