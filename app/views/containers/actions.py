"""Container actions of the Containers view: start/stop/…, remove, rename, copy as docker run.

A mixin of :class:`app.views.containers.view.ContainersView`. Each action reads the selection (or
the ids it is given), marks every row with what is happening ("stopping…", the model's pending
state), and launches ONE runner task that calls the engine for all containers AT ONCE
(``asyncio.gather``: stopping two Compose services takes one stop timeout, not two). As each
container's call returns, the store re-lists it and the row's pending text gives way to the
engine's word; the ``/events`` stream brings every other change. Errors are collected per
container and reported once, by name; the status line says what happened, by name.

A container that exits within :data:`EXIT_WATCH_S` of a start the user asked for is reported in
the view's notice bar with its exit code, its last log lines and a button to its logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from app.dialogs.base import guarded, still_alive
from app.models.containers import ACTIVE_STATES, ContainersModel
from app.models.docker_run import docker_run_command
from engine.errors import EngineError, NotFound

PENDING = {
    "start": "starting",
    "stop": "stopping",
    "restart": "restarting",
    "pause": "pausing",
    "unpause": "unpausing",
    "kill": "killing",
    "remove": "removing",
}
DONE = {
    "start": "Started",
    "stop": "Stopped",
    "restart": "Restarted",
    "pause": "Paused",
    "unpause": "Resumed",
    "kill": "Killed",
    "remove": "Removed",
}
EXIT_WATCH_S = 3.0  # a start followed by an exit this soon is "exited at once"
EXIT_LOG_LINES = 8


def name_list(names: list[str], limit: int = 4) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c, d and 3 more``."""
    if len(names) <= 1:
        return "".join(names)
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def with_names(text: str, names: dict[str, str]) -> str:
    """The engine's message with container ids (full or 12-character) replaced by names."""
    for cid, name in names.items():
        text = text.replace(cid, name)
        if len(cid) > 12:
            text = text.replace(cid[:12], name)
    return text


async def run_each(
    ids: list[str], names: dict[str, str], call: Callable[[str], Awaitable[object]]
) -> tuple[list[str], list[str]]:
    """``call`` every id in parallel; (names that succeeded, "name: error" per failure)."""
    results = await asyncio.gather(*(call(cid) for cid in ids), return_exceptions=True)
    ok: list[str] = []
    errors: list[str] = []
    for cid, result in zip(ids, results, strict=True):
        if isinstance(result, EngineError):
            errors.append(f"{names[cid]}: {with_names(str(result), names)}")
        elif isinstance(result, BaseException):
            raise result
        else:
            ok.append(names[cid])
    return ok, errors


class ContainerActions:
    """What the view's toolbar, context menu and keys do to containers."""

    ctx: Any
    model: ContainersModel
    store: Any
    confirm: Callable[[str, str], bool]
    ask_text: Callable[[str, str, str], str | None]
    _exit_watch: dict[str, float]

    # -- provided by the view -------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        raise NotImplementedError

    def select(self, keys: Iterable[str]) -> None:
        raise NotImplementedError

    def say(self, text: str) -> None:
        raise NotImplementedError

    def show_exit_notice(self, cid: str, text: str) -> None:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------------
    def view_alive(self) -> bool:
        """False once the view (with its store, model and status line) was deleted, e.g. with
        its window: work it started still runs to its end on the engine; what that work would
        show in the view is dropped (touching the deleted store's timer raised RuntimeError)."""
        return still_alive(self)

    def names_of(self, ids: Iterable[str]) -> dict[str, str]:
        return {cid: str((self.model.get(cid) or {}).get("name") or cid[:12]) for cid in ids}

    # -- start/stop/… ---------------------------------------------------------------------------
    def act(self, verb: str, ids: list[str] | None = None) -> asyncio.Task[None] | None:
        """Run ``verb`` (start/stop/restart/pause/unpause/kill) on the given/selected containers."""
        ids = self.selected_ids() if ids is None else ids
        client = self.ctx.client
        if not ids or client is None:
            return None
        names = self.names_of(ids)
        method = getattr(client.containers, verb)
        watch_exit = verb in ("start", "restart")
        for cid in ids:
            self.model.set_pending(cid, PENDING[verb])
            if verb == "start":
                self._exit_watch[cid] = math.inf  # until the call returns (the exit may come first)
            elif not watch_exit:
                self._exit_watch.pop(cid, None)  # stopped by the user: not "exited at once"
            # (a restart's own kill/die comes before its call returns: not "exited at once")

        async def one(cid: str) -> None:
            try:
                await method(cid)
            except BaseException:
                if self.view_alive():
                    self.model.set_pending(cid, None)
                self._exit_watch.pop(cid, None)
                raise
            if not self.view_alive():
                return  # the engine did it; no row is left to show it
            if watch_exit:
                self._exit_watch[cid] = time.monotonic() + EXIT_WATCH_S
                if verb == "start":  # a restart's row still says "exited" from its own stop
                    self.check_exit(cid)
            self.store.settle(cid)

        async def _do() -> None:
            ok, errors = await run_each(ids, names, one)
            if ok and self.view_alive():
                self.say(f"{DONE[verb]} {name_list(ok)}.")
            if errors:
                raise EngineError("\n".join(errors))

        listed = list(names.values())
        title = f"{verb.capitalize()} {listed[0] if len(ids) == 1 else f'{len(ids)} containers'}"
        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title=title, notify_when_hidden=len(ids) > 3,
            work=title if len(ids) > 1 else "",  # "Stop 3 containers": a switch asks first
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

    # -- "exited at once" -----------------------------------------------------------------------
    def check_exit(self, cid: str) -> None:
        """After a row update: did a container we just started stop again at once?"""
        deadline = self._exit_watch.get(cid)
        if deadline is None:
            return
        if time.monotonic() > deadline:
            del self._exit_watch[cid]
            return
        row = self.model.get(cid) or {}
        if row.get("state") not in ("exited", "dead"):
            return
        del self._exit_watch[cid]
        client = self.ctx.client
        if client is None:
            return
        name = self.names_of([cid])[cid]

        async def _why() -> str:
            details = await client.containers.inspect(cid)
            state = (getattr(details, "raw", {}) or {}).get("State") or {}
            lines: list[str] = []
            with contextlib.suppress(EngineError):
                text = "".join(
                    [p async for _k, p in client.containers.logs(cid, tail=EXIT_LOG_LINES)]
                )
                lines = text.rstrip("\n").splitlines()[-EXIT_LOG_LINES:]
            code = state.get("ExitCode")
            text = f"{name} exited right after it started (exit code {code})."
            if state.get("OOMKilled"):
                text += " It ran out of memory."
            if state.get("Error"):
                text += f" {state['Error']}"
            if lines:
                text += " Last lines of its log:\n" + "\n".join(lines)
            else:
                text += " It wrote nothing to its log."
            return text

        self.ctx.runner.run(
            _why,
            key=f"containers.exited.{cid}",
            title=f"Why {name} stopped",
            # the view may be gone by the answer (a QWidget: this is its mixin)
            on_done=guarded(cast(QObject, self), lambda text: self.show_exit_notice(cid, text)),
            on_error=lambda exc: isinstance(exc, NotFound),
        )

    # -- remove / rename / copy -----------------------------------------------------------------
    def remove_selected(
        self, ids: list[str] | None = None, running: list[str] | None = None
    ) -> asyncio.Task[None] | None:
        """Remove the given (else the selected) containers, after asking; ``running`` (else the
        model's word) are killed first: the container page knows from a fresher inspect."""
        ids = self.selected_ids() if ids is None else ids
        client = self.ctx.client
        if not ids or client is None:
            return None
        if running is None:
            running = [i for i in ids if (self.model.get(i) or {}).get("state") in ACTIVE_STATES]
        names = self.names_of(ids)
        listed = list(names.values())
        what = listed[0] if len(ids) == 1 else f"{len(ids)} containers ({', '.join(listed[:5])}"
        if len(ids) > 1:
            what += ", …)" if len(ids) > 5 else ")"
        text = f"Remove {what}?"
        if running:
            text += f"\n\n{len(running)} running: they will be stopped (killed) first."
        if not self.confirm("Remove containers", text):
            return None
        for cid in ids:
            self.model.set_pending(cid, PENDING["remove"])

        async def one(cid: str) -> None:
            try:
                await client.containers.remove(cid, force=cid in running)
            except NotFound:
                return
            except BaseException:
                if self.view_alive():
                    self.model.set_pending(cid, None)
                raise

        async def _do() -> None:
            ok, errors = await run_each(ids, names, one)
            if ok and self.view_alive():
                self.say(f"Removed {name_list(ok)}.")
            if errors:
                raise EngineError("\n".join(errors))

        task: asyncio.Task[None] = self.ctx.runner.run(
            _do, title="Remove containers", notify_when_hidden=True,
            work=f"Remove {len(ids)} containers" if len(ids) > 1 else "",
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
        old = self.names_of([cid])[cid]
        task: asyncio.Task[None] = self.ctx.runner.run(
            lambda: client.containers.rename(cid, new_name),
            title=f"Rename {old} to {new_name}",
            on_done=guarded(cast(QObject, self),
                            lambda _r: self.say(f"Renamed {old} to {new_name}.")),
        )
        return task

    def copy_run_selected(self) -> asyncio.Task[str] | None:
        ids = self.selected_ids()
        client = self.ctx.client
        if len(ids) != 1 or client is None:
            return None
        cid = ids[0]
        name = self.names_of([cid])[cid]

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
            text = f"Copied the docker run command for {name} to the clipboard."
            self.say(text)
            if not self.ctx.window_visible():
                self.ctx.notify("Copied", text)

        task: asyncio.Task[str] = self.ctx.runner.run(
            _build, title=f"Copy {name} as docker run", on_done=guarded(cast(QObject, self), _copy)
        )
        return task

    def group_action(self, group_key: str, verb: str) -> asyncio.Task[None] | None:
        """Start/stop/restart/remove every service of a Compose project, in parallel."""
        ids = self.model.children_of(group_key)
        if verb == "remove":
            self.select([group_key])
            return self.remove_selected()
        return self.act(verb, ids)
