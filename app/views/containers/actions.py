"""Container actions of the Containers view: start/stop/…, remove, rename, copy as docker run.

A mixin of :class:`app.views.containers.view.ContainersView`: each action reads the selection
(or the ids it is given), launches ONE runner task that talks to the engine, and lets the
``/events`` stream bring the result into the model (the store re-lists the ids named by the
events). Errors are collected per container and reported once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QApplication

from app.models.containers import ACTIVE_STATES, ContainersModel
from app.models.docker_run import docker_run_command
from engine.errors import EngineError, NotFound


class ContainerActions:
    """What the view's toolbar, context menu and keys do to containers."""

    ctx: Any
    model: ContainersModel
    confirm: Callable[[str, str], bool]
    ask_text: Callable[[str, str, str], str | None]

    def selected_ids(self) -> list[str]:  # provided by the view
        raise NotImplementedError

    def select(self, keys: list[str]) -> None:  # provided by the view
        raise NotImplementedError

    def act(self, verb: str, ids: list[str] | None = None) -> asyncio.Task[None] | None:
        """Run ``verb`` (start/stop/restart/pause/unpause/kill) on the given/selected containers."""
        ids = self.selected_ids() if ids is None else ids
        client = self.ctx.client
        if not ids or client is None:
            return None
        names = [str((self.model.get(i) or {}).get("name") or i[:12]) for i in ids]

        async def _do() -> None:
            method = getattr(client.containers, verb)
            errors: list[str] = []
            for cid, name in zip(ids, names, strict=True):
                try:
                    await method(cid)
                except EngineError as exc:
                    errors.append(f"{name}: {exc}")
            if errors:
                raise EngineError("\n".join(errors))

        title = f"{verb.capitalize()} {names[0] if len(names) == 1 else f'{len(names)} containers'}"
        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title=title, notify_when_hidden=len(ids) > 3
        )
        return task

    def toggle_pause(self) -> None:
        ids = self.selected_ids()
        paused = [i for i in ids if (self.model.get(i) or {}).get("state") == "paused"]
        running = [i for i in ids if (self.model.get(i) or {}).get("state") == "running"]
        if paused:
            self.act("unpause", paused)
        if running:
            self.act("pause", running)

    def remove_selected(self) -> asyncio.Task[None] | None:
        ids = self.selected_ids()
        client = self.ctx.client
        if not ids or client is None:
            return None
        running = [i for i in ids if (self.model.get(i) or {}).get("state") in ACTIVE_STATES]
        names = [str((self.model.get(i) or {}).get("name") or i[:12]) for i in ids]
        what = names[0] if len(ids) == 1 else f"{len(ids)} containers ({', '.join(names[:5])}"
        if len(ids) > 1:
            what += ", …)" if len(ids) > 5 else ")"
        text = f"Remove {what}?"
        if running:
            text += f"\n\n{len(running)} running: they will be stopped (killed) first."
        if not self.confirm("Remove containers", text):
            return None

        async def _do() -> None:
            errors = []
            for cid, name in zip(ids, names, strict=True):
                try:
                    await client.containers.remove(cid, force=cid in running)
                except NotFound:
                    continue
                except EngineError as exc:
                    errors.append(f"{name}: {exc}")
            if errors:
                raise EngineError("\n".join(errors))

        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title="Remove containers", notify_when_hidden=True
        )
        return task

    def rename_selected(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        old = str((self.model.get(ids[0]) or {}).get("name") or "")
        new = self.ask_text("Rename container", "New name:", old)
        if new and new.strip() and new.strip() != old:
            self.rename(ids[0], new.strip())

    def rename(self, cid: str, new_name: str) -> asyncio.Task[None] | None:
        client = self.ctx.client
        if client is None:
            return None
        task: asyncio.Task[None] = self.ctx.runner.run(
            lambda: client.containers.rename(cid, new_name), title=f"Rename to {new_name}"
        )
        return task

    def copy_run_selected(self) -> asyncio.Task[str] | None:
        ids = self.selected_ids()
        client = self.ctx.client
        if len(ids) != 1 or client is None:
            return None
        cid = ids[0]

        async def _build() -> str:
            details = await client.containers.inspect(cid)
            raw = getattr(details, "raw", {}) or {}
            image_raw = None
            with contextlib.suppress(NotFound):
                image = await client.images.inspect(str(raw.get("Image") or details.image))
                image_raw = getattr(image, "raw", None)
            return docker_run_command(raw, image_raw)

        def _copy(command: str) -> None:
            QApplication.clipboard().setText(command)
            if not self.ctx.window_visible():
                self.ctx.notify("Copied", "The docker run command is on the clipboard.")

        task: asyncio.Task[str] = self.ctx.runner.run(
            _build, title="Copy as docker run", on_done=_copy
        )
        return task

    def group_action(self, group_key: str, verb: str) -> None:
        ids = self.model.children_of(group_key)
        if verb == "remove":
            self.select([group_key])
            self.remove_selected()
        else:
            self.act(verb, ids)
