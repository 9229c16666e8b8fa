"""Troubleshoot ▸ Clean up: prune what nothing uses, and say how much space came back.

Data flow: the ticked kinds are pruned one after another on the runner through the context's
client — the same engine calls as the Disk usage view (``app/views/disk.py``; the build cache
through its ``prune_build_cache``, which removes the whole cache) except that images here are
*all* unused ones, not only dangling ones, as ``docker system prune -a`` does. The result line
adds up ``SpaceReclaimed``. Volumes are unticked by default (their data would be lost). The page
is disabled while there is no client (engine stopped).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.base import guarded
from app.dialogs.common import human_size
from app.dialogs.frame import WrapLabel
from app.views.disk import prune_build_cache

# (key, label, ticked at first, how to prune it)
KINDS: tuple[tuple[str, str, bool], ...] = (
    ("containers", "Stopped containers", True),
    ("images", "Unused images (every image no container uses)", True),
    ("networks", "Unused networks", True),
    ("build_cache", "Build cache", True),
    ("volumes", "Unused volumes (the data in them is lost)", False),
)


def pruner(client: Any, key: str) -> Callable[[], Awaitable[Any]]:
    """The engine call that prunes ``key``."""
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "containers": lambda: client.containers.prune(),
        "images": lambda: client.images.prune(filters={"dangling": ["false"]}),
        "networks": lambda: client.networks.prune(),
        "build_cache": lambda: prune_build_cache(client),
        "volumes": lambda: client.volumes.prune(all=True),
    }
    return calls[key]


async def clean_up(client: Any, keys: list[str]) -> dict[str, Any]:
    """Prune each kind in ``keys`` in turn; returns their results by kind."""
    return {key: await pruner(client, key)() for key in keys}


def describe(results: dict[str, Any]) -> str:
    """"Removed: 2 stopped containers, 1 unused image… Reclaimed 5.2 MB.\""""
    titles = {key: label.split(" (")[0].lower() for key, label, _on in KINDS}
    parts = [f"{len(r.deleted)} × {titles[k]}" for k, r in results.items()]
    total = sum(r.space_reclaimed for r in results.values())
    return f"Removed {', '.join(parts)}. Reclaimed {human_size(total)}."


class CleanupPage(QWidget):
    """Tick what to prune, "Clean up…", confirm, read how much was reclaimed."""

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.results: dict[str, Any] | None = None
        intro = WrapLabel(
            "Remove what no container uses, to free disk space. Running containers, the "
            "images they use and named volumes in use are never removed."
        )
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        self.boxes: dict[str, QCheckBox] = {}
        for key, label, on in KINDS:
            box = QCheckBox(label)
            box.setChecked(on)
            box.toggled.connect(self._update)
            lay.addWidget(box)
            self.boxes[key] = box
        self.button = QPushButton("Clean up…")
        self.button.setObjectName("primaryButton")
        self.button.clicked.connect(self.clean_clicked)
        self.result_label = WrapLabel("")
        self.result_label.setAccessibleName("Clean-up result")
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(self.result_label)
        lay.addStretch(1)
        ctx.client_changed.connect(guarded(self, self._update))
        self._update()

    def chosen(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.isChecked()]

    def _update(self, *_args: Any) -> None:
        running = self.ctx.client is not None
        self.button.setEnabled(running and bool(self.chosen()) and
                               not self.ctx.runner.in_flight("troubleshoot.cleanup"))
        if not running:
            self.result_label.setText("The engine is not running; start it to clean up.")
        elif self.result_label.text().startswith("The engine is not running"):
            self.result_label.setText("")

    def ask(self) -> QMessageBox:
        titles = [self.boxes[k].text() for k in self.chosen()]
        box = QMessageBox(QMessageBox.Icon.Question, "Clean up",
                          "Remove these?\n\n" + "\n".join(f"• {t}" for t in titles), parent=self)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # a stray Enter removes nothing
        box.finished.connect(lambda _r: box.clickedButton() is remove and self.clean())
        box.finished.connect(box.deleteLater)
        box.open()
        return box

    def clean_clicked(self) -> None:
        self.ask()

    def clean(self) -> Any:
        client = self.ctx.client
        if client is None:
            return None
        keys = self.chosen()
        self.button.setEnabled(False)
        self.result_label.setText("Cleaning up…")

        def done(results: dict[str, Any]) -> None:
            self.results = results
            self.result_label.setText(describe(results))
            self._update()

        def failed(exc: BaseException) -> bool:
            self._update()
            self.result_label.setText(f"Clean-up stopped: {exc}")
            return True

        return self.ctx.runner.run(
            lambda: clean_up(client, keys),
            key="troubleshoot.cleanup",
            title="Clean up",
            # "Clean up stopped containers, build cache": an engine switch asks first
            work="Clean up " + ", ".join(
                label.split(" (")[0].lower() for key, label, _on in KINDS if key in keys),
            on_done=guarded(self, done),
            on_error=guarded(self, failed),
        )
