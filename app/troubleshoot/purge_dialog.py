"""The Purge data confirmation: exactly what is deleted (path, what it holds, size) and what stays.

Shown with a :class:`engine.diagnostics.purge.PurgePlan` already measured; nothing here touches a
file. "Purge" stays disabled until the box saying how much goes for good is ticked, and Cancel is
the default button, so neither a stray Enter nor a quick click deletes anything.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.common import human_size
from app.dialogs.frame import PortsideDialog, WrapLabel
from engine.diagnostics.purge import PurgePlan


class PurgeDialog(PortsideDialog):
    """Lists the plan; accepted only through the "Purge" button after the box is ticked."""

    def __init__(self, plan: PurgePlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle("Purge data")
        count = len(plan.items)
        intro = WrapLabel(
            "Portside stops the engine, deletes the following, and starts the engine again, "
            "empty. Every image, container and volume in it is gone for good."
        )
        self.table = QTreeWidget()
        self.table.setAccessibleName("What is deleted")
        self.table.setColumnCount(3)
        self.table.setHeaderLabels(["What", "Path", "Size"])
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for item in plan.items:
            row = QTreeWidgetItem([item.what, str(item.path), human_size(item.size)])
            row.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            row.setToolTip(1, str(item.path))
            self.table.addTopLevelItem(row)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        # as tall as its rows (a few paths), not the tree's default of ~8 empty rows
        row_height = max(self.table.sizeHintForRow(0), 20)
        height = row_height * max(count, 1) + header.sizeHint().height() + 8
        self.table.setMinimumHeight(height)
        self.table.setMaximumHeight(height + row_height)
        total = QLabel(f"{count} item{'s' if count != 1 else ''}, {human_size(plan.total)} "
                       "in all.")
        kept_title = QLabel("Kept:")
        kept_title.setObjectName("sectionTitle")
        kept = WrapLabel("\n".join(f"• {k}" for k in plan.kept))
        kept.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confirm = QCheckBox(
            f"I understand: these {count} item{'s' if count != 1 else ''} "
            f"({human_size(plan.total)}) are deleted for good"
        )
        self.buttons = QDialogButtonBox()
        self.purge_button = QPushButton("Purge")
        self.purge_button.setEnabled(False)
        self.buttons.addButton(self.purge_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.set_default_button(self.cancel_button, self.buttons)
        self.confirm.toggled.connect(self.purge_button.setEnabled)
        self.purge_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        if not count:
            self.confirm.setEnabled(False)
            intro.setText("There is no engine data to delete.")
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.table)
        lay.addWidget(total)
        lay.addWidget(kept_title)
        lay.addWidget(kept)
        lay.addWidget(self.confirm)
        lay.addWidget(self.buttons)
        self.first_field = self.confirm
        self.resize(760, self.sizeHint().height())
