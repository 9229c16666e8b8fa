"""What a screen reader gets from a :class:`~.view.LogView`: its name and the rows on screen.

The view paints its rows itself (there is no text widget inside it for Qt's accessibility to
read), so an accessible interface made here answers for it: role "document", the name its owner
set ("Container logs"), and as value and description the text of the rows on screen, one per
line. :func:`install` registers the factory once (the app's first log view does it);
:func:`text_changed` tells an active assistive technology that the text on screen changed
(the view calls it, debounced, after scrolling and draws).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAccessible, QAccessibleValueChangeEvent
from PySide6.QtWidgets import QAccessibleWidget, QWidget

_installed = False
_kept: dict[int, Any] = {}  # the interfaces Qt holds (Python must not free them under it)


class LogAccessible(QAccessibleWidget):
    def __init__(self, view: QWidget) -> None:
        super().__init__(view, QAccessible.Role.Document)
        self._view = view

    def text(self, kind: QAccessible.Text) -> str:
        if kind in (QAccessible.Text.Value, QAccessible.Text.Description):
            return str(self._view.screen_text())  # type: ignore[attr-defined]
        return str(super().text(kind))


def _factory(_key: str, obj: QObject) -> Any:
    from app.views.container_page.logs.view import LogView

    if isinstance(obj, LogView):
        iface = _kept.get(id(obj))
        if iface is None:
            key = id(obj)
            iface = _kept[key] = LogAccessible(obj)
            obj.destroyed.connect(lambda *_a: _kept.pop(key, None))
        return iface
    return None


def install() -> None:
    global _installed
    if not _installed:
        QAccessible.installFactory(_factory)
        _installed = True


def text_changed(view: QWidget) -> None:
    if QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleValueChangeEvent(view, view.screen_text()))  # type: ignore[attr-defined]
