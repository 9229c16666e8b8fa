"""The Images view: list, pull, run, remove/untag, tag, push, history, save/load, build, prune.

Rows are keyed by image id. A full list happens only when a client (re)connects; afterwards image
events (pull, tag, untag, load, import, delete) update single rows — the image named by the event
is inspected and its row upserted (or removed when it is gone) — and container create/destroy
events move the "In use" counts. No polling.

An "untag" is inspected only after a short wait (``UNTAG_SETTLE_MS``), dropped when the image's
"delete" comes first: removing an image untags it and then deletes it, and an inspect landing in
between holds a reference on the image's layer, so the engine keeps the layer and its prune
reports 0 B reclaimed (seen in Troubleshoot ▸ Clean up) — besides one wasted inspect per image.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from app.dialogs.base import ResourceView
from app.dialogs.build import BuildDialog
from app.dialogs.common import validate_tag_target
from app.dialogs.history import HistoryDialog
from app.dialogs.operation import LoadDialog, PullDialog, PushDialog, SaveDialog, describe
from app.dialogs.run import RunDialog
from app.models.images import ImagesModel, row_from_details, row_from_summary
from app.models.keyed import Column, Row
from app.views.empty_state import install_empty_state
from engine.errors import NotFound

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

_REFRESH_ACTIONS = {"pull", "tag", "import", "load", "push", "save"}
UNTAG_SETTLE_MS = 250  # how long an untag waits for its image's delete before it is inspected


class TagsColumn(Column):
    """The Reference column showing every tag of an image, one per line (and in the tooltip).

    The model keeps ``reference`` as the first tag (sorting and the untagged forms stay the
    model's); the cell shows all of them, each on a line of its own, so no tag is ever broken
    in two ("portside-test/" | "busybox:latest" when the cell wrapped a comma-separated list).
    """

    def display(self, row: Row) -> str:
        tags = row.get("tags") or ()
        return "\n".join(tags) if tags else super().display(row)


def _tags_tooltip(row: Row) -> str | None:
    tags = row.get("tags") or ()
    return "\n".join(tags) if len(tags) > 1 else None


class ImagesView(ResourceView):
    """Images keyed by id, diffed from events; every long operation in its own dialog."""

    refresh_key = "images.refresh"
    refresh_title = "List images"
    what = "images"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, ImagesModel(), parent)
        self.model: ImagesModel
        first = self.model.columns[0]
        self.model.columns[0] = TagsColumn(
            first.key, first.title, first.align,
            first.format, first.sort_key, first.tooltip or _tags_tooltip, first.foreground,
            first.decoration, first.search, first.extra,
        )
        # Every tag stays whole: one per line, the row grows to fit them, no wrapping inside one
        # (a too-narrow column elides a line, as any long reference does).
        self.table.setWordWrap(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._container_image: dict[str, str] = {}  # container id -> image id
        self._untagged: set[str] = set()  # untag events waiting out UNTAG_SETTLE_MS
        self._untag_timer = QTimer(self, singleShot=True, interval=UNTAG_SETTLE_MS)
        self._untag_timer.timeout.connect(self._inspect_untagged)
        self.add_action("Pull…", self.open_pull, icon="image-pull", tip="Pull an image")
        self.add_action("Build…", self.open_build, icon="image-build")
        self.add_action("Load…", self.open_load, icon="image-load")
        self.toolbar.addSeparator()
        self.add_action("Run…", self.open_run, icon="action-start", needs_selection=True)
        self.add_action("Tag…", self.open_tag, icon="image-tag", needs_selection=True)
        self.add_action("Push…", self.open_push, icon="image-push", needs_selection=True)
        self.add_action("History", self.open_history, icon="image-history", needs_selection=True)
        self.add_action("Save…", self.open_save, icon="image-save", needs_selection=True)
        self.add_remove_action()
        self.toolbar.addSeparator()
        self.add_action("Prune…", self.prune_dialog, icon="image-prune", tip="Remove unused images")
        self.finish_setup()
        self.empty_state = install_empty_state(
            self,
            "No images yet",
            "Containers run from images. Pull one from a registry, or build one from a folder "
            "with a Dockerfile.",
            [("Pull an image…", self.open_pull), ("Build an image…", self.open_build)],
        )

    # -- full resync ----------------------------------------------------------------------------
    async def fetch_all(self, client: Any) -> Any:
        images, containers = await asyncio.gather(
            client.images.list(), client.containers.list(all=True)
        )
        return images, containers

    def apply_all(self, result: Any) -> None:
        images, containers = result
        self._container_image = {c.id: c.image_id for c in containers}
        counts = Counter(self._container_image.values())
        self.model.set_rows({i.id: row_from_summary(i, counts.get(i.id, 0)) for i in images})
        self.show_count(len(images), "image")
        self.empty_state.listed()

    def in_use(self, image_id: str) -> int:
        return sum(1 for v in self._container_image.values() if v == image_id)

    # -- diffs from events ----------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if event.type == "image":
            if event.action == "delete":
                self._untagged.discard(event.actor_id)
                self.remove_row(event.actor_id)
            elif event.action == "untag":
                self._untagged.add(event.actor_id)
                if not self._untag_timer.isActive():
                    self._untag_timer.start()
            elif event.action in _REFRESH_ACTIONS:
                self.refresh_image(event.actor_id)
        elif event.type == "container":
            if event.action == "create":
                image_id = self.resolve(str(event.attributes.get("image", "")))
                if image_id:
                    self._container_image[event.actor_id] = image_id
                    self.model.update_fields(image_id, in_use=self.in_use(image_id))
                else:  # a name we can't map locally (e.g. docker.io/library/x): ask the engine
                    self._container_created(event.actor_id)
            elif event.action == "destroy":
                image_id = self._container_image.pop(event.actor_id, None)
                if image_id:
                    self.model.update_fields(image_id, in_use=self.in_use(image_id))

    def _inspect_untagged(self) -> None:
        names, self._untagged = self._untagged, set()
        for name in names:
            self.refresh_image(name)

    def resolve(self, name: str) -> str | None:
        """The image id a container event's ``image`` attribute names, if the model knows it."""
        if not name:
            return None
        if name in self.model:
            return name
        if name.startswith("sha256:"):
            return None
        candidates = {name} if ":" in name.rsplit("/", 1)[-1] else {name, f"{name}:latest"}
        for image_id in self.model.ids():
            if candidates & set(self.model.tags_of(image_id)):
                return image_id
        return None

    def refresh_image(self, name: str) -> None:
        """Inspect one image (by id or reference) and upsert its row; remove it when gone."""

        def apply(details: Any) -> None:
            self.model.upsert(details.id, row_from_details(details, self.in_use(details.id)))
            self._drop_moved_tags(details.id)

        self.refresh_row(
            lambda client: client.images.inspect(name),
            lambda details: str(details.id),
            apply,
            key=f"images.event.{name}",
            title="Update image",
            # a reference that no longer resolves says nothing about which row is gone
            gone=(lambda: self.remove_row(name)) if name.startswith("sha256:") else None,
        )

    def _drop_moved_tags(self, image_id: str) -> None:
        """A tag names one image: other rows still showing it lost it (re-tag, rebuild)."""
        tags = set(self.model.tags_of(image_id))
        if not tags:
            return
        for other in self.model.ids():
            if other != image_id and tags & set(self.model.tags_of(other)):
                self.refresh_image(other)

    def _container_created(self, container_id: str) -> None:
        client = self.ctx.client
        if client is None:
            return

        def done(details: Any) -> None:
            if details.image_id:
                self._container_image[container_id] = details.image_id
                self.model.update_fields(details.image_id, in_use=self.in_use(details.image_id))

        self.launch(
            lambda: client.containers.inspect(container_id),
            key=f"images.container.{container_id}",
            title="Update image usage",
            on_done=done,
            on_error=lambda exc: isinstance(exc, NotFound) or _log_false(exc),
        )

    # -- helpers --------------------------------------------------------------------------------
    def _refresh_if_named(self, name: str) -> None:
        if name:
            self.refresh_image(name)

    def _refresh_names(self, names: list[str]) -> None:
        for name in names:
            self.refresh_image(name)

    def _name_for(self, image_id: str) -> str:
        tags = self.model.tags_of(image_id)
        return tags[0] if tags else image_id

    # -- actions --------------------------------------------------------------------------------
    def open_pull(self, reference: str = "") -> PullDialog:
        dialog = PullDialog(self.ctx, self, reference=reference)
        dialog.succeeded.connect(self.refresh_image)
        self.keep_dialog(dialog).show()
        return dialog

    def open_build(self) -> BuildDialog:
        dialog = BuildDialog(self.ctx, self)
        dialog.succeeded.connect(self._refresh_if_named)
        self.keep_dialog(dialog).show()
        return dialog

    def choose_load_path(self) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load images from", "", "Image archives (*.tar *.tar.gz *.tgz);;All files (*)"
        )
        return Path(path) if path else None

    def choose_save_path(self, suggested: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save images to", suggested, "Image archives (*.tar)"
        )
        return Path(path) if path else None

    def open_load(self) -> LoadDialog | None:
        path = self.choose_load_path()
        if path is None:
            return None
        dialog = LoadDialog(self.ctx, path, self)
        dialog.succeeded.connect(self._refresh_names)
        self.keep_dialog(dialog).show()
        dialog.start()
        return dialog

    def open_save(self) -> SaveDialog | None:
        ids = self.selected_ids()
        if not ids:
            return None
        names = [self._name_for(i) for i in ids]
        first = names[0].split("/")[-1].replace(":", "_").replace("sha256_", "")[:40]
        path = self.choose_save_path(f"{first}.tar")
        if path is None:
            return None
        dialog = SaveDialog(self.ctx, names, path, self)
        self.keep_dialog(dialog).show()
        dialog.start()
        return dialog

    def open_run(self) -> RunDialog | None:
        ids = self.selected_ids()
        if not ids:
            return None
        dialog = RunDialog(self.ctx, self._name_for(ids[0]), self)
        dialog.started.connect(lambda cid: self.say(f"Started container {cid[:12]}."))
        self.keep_dialog(dialog).show()
        return dialog

    def open_push(self) -> PushDialog | None:
        ids = self.selected_ids()
        if not ids:
            return None
        tags = list(self.model.tags_of(ids[0]))
        if not tags:
            self.say("This image has no tag to push: tag it first (Tag…).")
            return None
        dialog = PushDialog(self.ctx, tags, self)
        self.keep_dialog(dialog).show()
        return dialog

    def open_history(self) -> HistoryDialog | None:
        return self.open_for_selected(
            None, lambda image_id: HistoryDialog(self.ctx, image_id, self._name_for(image_id), self)
        )

    def on_activated(self) -> None:
        self.open_history()

    def open_tag(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        current = self._name_for(ids[0])
        text, ok = QInputDialog.getText(
            self,
            "Tag image",
            f"New name for {current} (repository[:tag]):",
            text=current if not current.startswith("sha256:") else "",
        )
        if ok and self.tag_image(ids[0], text) is None and self.ctx.client is not None:
            QMessageBox.warning(self, "Tag image", self.status.text())

    def tag_image(self, image_id: str, target: str) -> asyncio.Task[Any] | None:
        """Tag ``image_id`` as ``target``; None (and the reason under the table) when invalid."""
        try:
            repo, tag = validate_tag_target(target)
        except ValueError as exc:
            self.say(str(exc))
            return None
        client = self.ctx.client
        shown = f"{repo}:{tag or 'latest'}"
        return self.run(  # type: ignore[no-any-return]
            lambda: client.images.tag(image_id, repo, tag),
            title="Tag image",
            on_done=lambda _r: self.say(f"Tagged {shown}."),
        )

    def ask_remove(self, ids: list[str]) -> tuple[str, bool] | None:
        """("untag" | "remove", force) or None when cancelled."""
        names = [self._name_for(i) for i in ids]
        box = QMessageBox(QMessageBox.Icon.Question, "Remove images", "", parent=self)
        listing = "\n".join(f"• {n}" for n in names[:15])
        if len(names) > 15:
            listing += f"\n… and {len(names) - 15} more"
        box.setText(f"Remove {len(ids)} image(s)?\n\n{listing}")
        untag = None
        if len(ids) == 1 and len(self.model.tags_of(ids[0])) > 1:
            untag = box.addButton(f"Untag {names[0]}", QMessageBox.ButtonRole.ActionRole)
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # a stray Enter removes nothing
        force = QCheckBox("Force (remove every tag, even if stopped containers use it)")
        box.setCheckBox(force)
        box.exec()
        clicked = box.clickedButton()
        forced = force.isChecked()
        box.deleteLater()  # a child of the view: don't leave it behind as a hidden window
        if untag is not None and clicked is untag:
            return "untag", False
        if clicked is remove:
            return "remove", forced
        return None

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        answer = self.ask_remove(ids)
        if answer is None:
            return
        mode, force = answer
        if mode == "untag":
            self.remove_images([self._name_for(ids[0])], force=False)
        else:
            self.remove_images(ids, force=force)

    def remove_images(self, targets: list[str], *, force: bool) -> asyncio.Task[Any] | None:
        """Remove (or, for a reference, untag) each target; the rows follow from the events."""
        client = self.ctx.client

        async def remove_all() -> tuple[int, int, list[str]]:
            untagged = deleted = 0
            problems: list[str] = []
            for target in targets:
                try:
                    result = await client.images.remove(target, force=force)
                except NotFound:
                    continue
                except Exception as exc:  # keep going; report every failure at the end
                    problems.append(f"{self._name_for(target)}: {describe(exc)}")
                    continue
                untagged += sum(1 for r in result if "Untagged" in r)
                deleted += sum(1 for r in result if "Deleted" in r)
            return untagged, deleted, problems

        def done(result: tuple[int, int, list[str]]) -> None:
            untagged, deleted, problems = result
            self.say(f"Untagged {untagged}, deleted {deleted} layer(s).")
            if problems:
                text = "\n".join(problems)
                if not force and any("force" in p or "must be forced" in p for p in problems):
                    text += "\n\nTick “Force” to remove them anyway."
                self.ctx.runner.report("Remove images", RuntimeError(text))

        return self.run(  # type: ignore[no-any-return]
            remove_all, title="Remove images", on_done=done,
            work=f"Remove {len(targets)} images" if len(targets) > 1 else "",  # a switch asks
        )

    def ask_prune(self) -> bool | None:
        """None when cancelled, else whether to prune all unused images (not only dangling)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Prune images",
            "Remove dangling images (untagged and unused by any container)?",
            parent=self,
        )
        prune = box.addButton("Prune", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)  # a stray Enter prunes nothing
        all_unused = QCheckBox("Also remove tagged images no container uses")
        box.setCheckBox(all_unused)
        box.exec()
        answer = all_unused.isChecked() if box.clickedButton() is prune else None
        box.deleteLater()  # a child of the view: don't leave it behind as a hidden window
        return answer

    def prune_dialog(self) -> None:
        answer = self.ask_prune()
        if answer is not None:
            self.prune(all_unused=answer)

    def prune(
        self, *, all_unused: bool = False, filters: Mapping[str, list[str]] | None = None
    ) -> asyncio.Task[Any] | None:
        """Remove dangling images (all unused ones with ``all_unused``); ``filters`` (e.g.
        ``{"label": ["k=v"]}``) narrows the prune."""
        client = self.ctx.client
        merged = {**(filters or {}), "dangling": ["false" if all_unused else "true"]}
        return self.prune_rows(  # type: ignore[no-any-return]
            lambda: client.images.prune(filters=merged), title="Prune images", noun="image layer",
            work="Remove unused images" if all_unused else "Remove dangling images",
        )


def _log_false(exc: BaseException) -> bool:
    log.warning("image usage update failed: %s", exc)
    return True
