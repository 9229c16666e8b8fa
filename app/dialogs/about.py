"""Help ▸ About Portside: the versions a bug report needs, and a button that copies them.

Everything shown is read when the dialog opens, without I/O on the GUI thread: Portside's own
version (``engine.__version__``, the one place it lives), Qt's run-time and PySide6's, Python's,
the OS, the engine's version and API as the app's context last saw them (``/version`` when it
connected), and the VM image this Portside boots with whether it is built or shipped.
"""

from __future__ import annotations

import platform
from typing import Any

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.resources import icon
from engine import __version__


def engine_line(ctx: Any) -> str:
    version = getattr(ctx, "server_version", "") or ""
    api = getattr(ctx, "api_version", "") or ""
    if not version:
        return "not connected"
    where = "attached engine" if getattr(ctx, "attached", False) else "Portside's own engine"
    return f"Docker {version} (API {api}) · {where}" if api else f"Docker {version} · {where}"


def vm_image_line() -> str:
    from engine.vm.image import IMAGE_VERSION, bundled_image_dir, find_image, host_arch

    try:
        arch = host_arch()
    except ValueError as exc:
        return f"{IMAGE_VERSION} · {exc}"
    image = find_image(arch)
    if image is None:
        return f"{IMAGE_VERSION} ({arch}) · not built on this machine"
    shipped = image.dir == bundled_image_dir(arch)
    return f"{IMAGE_VERSION} ({arch}) · {'shipped with Portside' if shipped else 'built'}"


def version_rows(ctx: Any) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order shown and copied."""
    return [
        ("Portside", __version__),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("System", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("Engine", engine_line(ctx)),
        ("VM image", vm_image_line()),
    ]


class AboutDialog(QDialog):
    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Portside")
        self.setAccessibleName("About Portside")
        self.rows = version_rows(ctx)
        layout = QVBoxLayout(self)
        head = QLabel()
        head.setPixmap(icon("portside").pixmap(48, 48))
        head.setAccessibleName("Portside logo")
        title = QLabel(f"<b>Portside {__version__}</b><br>A light desktop app for containers.")
        title.setTextFormat(Qt.TextFormat.RichText)
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(head, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for name, value in self.rows:
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", label)
            self.value_labels[name] = label
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addSpacing(8)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy versions")
        self.copy_button.setAccessibleName("Copy versions")
        self.copy_button.setToolTip("Copy these lines, e.g. into a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setAccessibleName("Close")
        layout.addWidget(buttons)
        close.setFocus()

    def text(self) -> str:
        return "".join(f"{name}: {value}\n" for name, value in self.rows)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.copy_button.setText("Copied")


def add_help_item(window: Any) -> Any:
    """Help ▸ About Portside in ``window.help_menu``; returns the action."""
    from PySide6.QtGui import QAction

    action = QAction("About Portside", window.help_menu)
    action.setMenuRole(QAction.MenuRole.AboutRole)

    def show() -> None:
        dialog = AboutDialog(window.ctx, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.about_dialog = dialog
        dialog.open()

    action.triggered.connect(lambda _checked=False: show())
    window.help_menu.addAction(action)
    window.about_action = action
    return action
