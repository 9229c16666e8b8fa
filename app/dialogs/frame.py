"""What every Portside dialog shares: keys, first focus, wrapping text, growing to fit, names.

Data flow: a dialog subclasses :class:`PortsideDialog` and tells it its default button
(:meth:`PortsideDialog.set_default_button`) and its first field (``first_field``). Then

* **Return/Enter** goes to :meth:`PortsideDialog.enter_pressed` exactly once and is consumed: it
  clicks the default button when that is enabled and does nothing otherwise. No other button is
  ``autoDefault``, so a Cancel button that takes the focus (because the field the key came from was
  just disabled) never becomes the default and never receives the same key press. A focused
  ``autoDefault`` button (e.g. "Sign in…") still handles Return itself, as Qt does. Escape rejects.
* **First focus**: ``first_field`` gets the focus every time the dialog is shown.
* **Messages** go into :class:`WrapLabel`: word wrap, plus break opportunities inside long tokens
  (paths, references, socket addresses), so nothing is cut mid-word or pushed out of the window.
  :func:`grow_to_fit` makes the window tall enough for what its layout now holds (after an error
  appeared) without ever shrinking it.
* **Accessible names**: :func:`name_form_fields` names every field of a form by its label (combo
  boxes by their label, not their value; an editable combo's text part too).
  On Linux Qt names a combo box by its value; :func:`install_accessible_names` installs an
  accessibility factory that names it by its accessible name (its label) instead.
* **Lifetime**: :func:`release_when_finished` deletes a dialog once it closed, so closed dialogs do
  not pile up as hidden windows.
"""

from __future__ import annotations

import re
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleInterface,
    QGuiApplication,
    QKeyEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAccessibleWidget,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QWidget,
)

#: A zero-width space: an invisible place where a line may break.
ZWSP = "\u200b"
# Long runs without spaces (paths, image references, URLs) may break after these characters.
# Not after a dot that starts a short last part ("saved." | "tar" read as two words).
_BREAK_AFTER = re.compile(r"([/\\:@,_=&?-]|\.(?![^/\\:@.,_=&?\s-]{1,5}(?:[/\\:@.,_=&?\s-]|$)))")
_LONG_TOKEN = re.compile(r"\S{24,}")


def breakable(text: str) -> str:
    """``text`` with invisible break opportunities inside tokens of 24+ characters.

    QLabel only wraps at spaces: a socket path or an image reference longer than the label is
    either cut or widens the whole window. After a ``/``, ``:``, ``.``… it may now break instead;
    a token without any of those gets a break opportunity every 24 characters.
    """

    def split(match: re.Match[str]) -> str:
        token = _BREAK_AFTER.sub(lambda m: m.group(1) + ZWSP, match.group(0))
        pieces = token.split(ZWSP)
        out = []
        for piece in pieces:
            out.append(ZWSP.join(piece[i : i + 24] for i in range(0, len(piece), 24)) or piece)
        return ZWSP.join(out)

    return _LONG_TOKEN.sub(split, text)


class WrapLabel(QLabel):
    """A word-wrapped, selectable label that also breaks long paths; ``text()`` is the original."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._raw = ""
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._raw = text
        super().setText(breakable(text))
        # A screen reader reads the message itself, without the invisible break marks.
        self.setAccessibleName(text)

    def text(self) -> str:
        return self._raw

    # QLabel's own hint for wrapped text guesses a narrow, tall shape, and layouts (QFormLayout
    # above all) use it instead of the height for the width they actually give: the message is
    # then cut, or surrounded by empty space. Once laid out, report the height for the real width.
    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if not self.wordWrap() or not self.testAttribute(Qt.WidgetAttribute.WA_WState_Created):
            return hint
        if self.width() < 120:
            return hint
        return QSize(hint.width(), self.heightForWidth(self.width()))

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        if not self.wordWrap() or self.width() < 120:
            return hint
        return QSize(hint.width(), self.heightForWidth(self.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the height for the new width differs: lay out again


def grow_to_fit(widget: QWidget) -> None:
    """Make ``widget``'s window tall (and wide) enough for its layout's contents; never shrink.

    Word-wrapped labels have a height that depends on the width, which a top-level window does not
    follow by itself: an error that appears after the window was shown would be squeezed into the
    old height (the fields squashed, the message cut after a line and a half).
    """
    window = widget.window()
    lay = window.layout()
    # Only dialogs: the main window's size is the user's (and the views fit any size).
    if lay is None or not window.isVisible() or not isinstance(window, QDialog):
        return
    lay.activate()
    width = max(window.width(), lay.totalMinimumSize().width())
    if lay.hasHeightForWidth():
        height = lay.totalHeightForWidth(width)
    else:
        height = lay.totalSizeHint().height()
    # Never below the size hint either (that is computed at the hint's narrower width).
    height = max(height, lay.totalMinimumSize().height(), window.sizeHint().height())
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        height = min(height, screen.availableGeometry().height() - 40)
    if height > window.height() or width > window.width():
        window.resize(width, max(height, window.height()))


def label_text(label: Any) -> str:
    """A form label's text as an accessible name: no ``&`` mnemonics, no trailing colon."""
    text = label.text() if isinstance(label, QLabel | QAbstractButton) else str(label or "")
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip().rstrip(":").strip()


def name_field(field: QWidget, name: str) -> None:
    """Name ``field`` (and the text part of an editable combo box) for assistive technology."""
    if not name:
        return
    field.setAccessibleName(name)
    edit = field.lineEdit() if isinstance(field, QComboBox) else None
    if edit is not None:
        edit.setAccessibleName(name)


def name_form_fields(form: QFormLayout) -> None:
    """Give every field of ``form`` its row label as accessible name (unless it has one)."""
    for row in range(form.rowCount()):
        label_item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field_item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label_item is None or field_item is None:
            continue
        label, field = label_item.widget(), field_item.widget()
        if label is None or field is None or field.accessibleName():
            continue
        name = label_text(label)
        if not name:
            continue
        if isinstance(label, QLabel):
            label.setBuddy(field)
        # A row holding several widgets (a field and its Browse… button): name the field.
        if field.layout() is not None and not isinstance(field, QComboBox):
            edits = [
                w
                for w in field.findChildren(QWidget)
                if not isinstance(w, QAbstractButton | QLabel)
                and w.focusPolicy() != Qt.FocusPolicy.NoFocus
            ]
            if edits and not edits[0].accessibleName():
                name_field(edits[0], name)
            continue
        name_field(field, name)


class _LabelledComboBox(QAccessibleWidget):
    """A combo box as assistive technology sees it: named by its label, its value as Value.

    On Linux Qt's own interface reports a combo box's *value* as its name ("no", "bridge") and
    leaves the label to a relation that screen readers do not always follow.
    """

    def __init__(self, combo: QComboBox) -> None:
        super().__init__(combo, QAccessible.Role.ComboBox)
        self._combo = combo

    def text(self, kind: QAccessible.Text) -> str:
        if kind == QAccessible.Text.Name:
            return self._combo.accessibleName() or self._combo.currentText()
        if kind == QAccessible.Text.Value:
            return self._combo.currentText()
        return str(super().text(kind))


# Interfaces handed to Qt. Qt deletes each when its widget is destroyed; until then Python must
# keep its wrapper (dropping it would delete the C++ object under Qt). Dead ones are pruned.
_interfaces: list[QAccessibleWidget] = []
_factory_installed = False


def _accessible_factory(key: str, obj: QObject) -> QAccessibleInterface | None:
    if key != "QComboBox" or not isinstance(obj, QComboBox) or not obj.accessibleName():
        return None
    _interfaces[:] = [i for i in _interfaces if shiboken6.isValid(i)]
    iface = _LabelledComboBox(obj)
    _interfaces.append(iface)
    return iface


def install_accessible_names() -> None:
    """Name combo boxes that have an accessible name by that name (idempotent; needs a Qt app)."""
    global _factory_installed
    if not _factory_installed:
        QAccessible.installFactory(_accessible_factory)
        _factory_installed = True


def release_when_finished(dialog: QDialog) -> QDialog:
    """Delete ``dialog`` once it is closed (accepted, rejected or closed by its window button)."""
    dialog.finished.connect(dialog.deleteLater)
    return dialog


class PortsideDialog(QDialog):
    """A dialog whose Return key, first focus and default button behave (see module docstring)."""

    #: The field that has the focus when the dialog opens (set it in ``__init__``).
    first_field: QWidget | None = None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        install_accessible_names()
        self._default_button: QPushButton | None = None

    def set_default_button(self, button: QPushButton, box: QDialogButtonBox | None = None) -> None:
        """Make ``button`` the one Return clicks; every other button of ``box`` never is."""
        self._default_button = button
        for other in box.buttons() if box is not None else ():
            if isinstance(other, QPushButton) and other is not button:
                other.setAutoDefault(False)
                other.setDefault(False)
        button.setAutoDefault(False)  # default by role, not because it happens to have focus
        button.setDefault(True)

    def default_button(self) -> QPushButton | None:
        return self._default_button

    def enter_pressed(self) -> None:
        """Return/Enter: the default button, when it can be clicked; otherwise nothing."""
        button = self._default_button
        if button is not None and button.isEnabled() and button.isVisible():
            button.click()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.ControlModifier,
        ):
            event.accept()  # consumed here, once: never also by a button that took the focus
            self.enter_pressed()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        field = self.first_field
        if field is not None and field.isEnabled() and field.isVisibleTo(self):
            field.setFocus(Qt.FocusReason.OtherFocusReason)

    def focus_first_field(self) -> None:
        """Give the focus back to the first field (e.g. once a run finished)."""
        field = self.first_field
        if field is not None and field.isEnabled():
            field.setFocus(Qt.FocusReason.OtherFocusReason)
