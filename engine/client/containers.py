"""``/containers`` (and ``/commit``): list, inspect, lifecycle, logs, stats, archive.

Data flow: each method builds its request (:func:`~engine.client.request.build_request`) and
sends it through the client's :class:`~engine.client.connection.Connection`; answers become
:mod:`engine.models` objects. Logs arrive as multiplexed frames or a TTY's raw bytes — the
response's Content-Type says which, or on API < 1.42 the container's TTY flag
(:meth:`Containers._frames`) — and are decoded per stream (:mod:`engine.streams`). Stats come
as a JSON-lines stream, one :class:`~engine.models.Stats` per sample.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Any

import httpx

from engine import models
from engine.client.connection import Resource
from engine.client.request import Params, build_request, encode_filters, quote_path
from engine.client.response import decode_path_stat
from engine.errors import EngineAPIError, NotFound
from engine.streams import (
    MULTIPLEXED_CONTENT_TYPE,
    RAW_CONTENT_TYPE,
    FrameDecoder,
    RawDecoder,
    StreamKind,
    TextDecoder,
    decoder_for,
)


class Containers(Resource):
    """``/containers``: list, inspect, lifecycle, logs, stats, archive."""

    async def list(
        self,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
        size: bool = False,
        limit: int | None = None,
    ) -> builtins.list[models.ContainerSummary]:
        spec = build_request(
            "GET",
            "/containers/json",
            params={
                "all": all or None,
                "size": size or None,
                "limit": limit,
                "filters": encode_filters(filters),
            },
        )
        data = await self._c._json(spec, read_timeout=None if size else True)
        return [models.ContainerSummary.from_api(d) for d in data or ()]

    async def inspect(self, container: str) -> models.ContainerDetails:
        data = await self._c._json(
            build_request("GET", f"/containers/{quote_path(container)}/json")
        )
        return models.ContainerDetails.from_api(data)

    async def create(self, config: Mapping[str, Any], name: str | None = None) -> str:
        """Create a container from an engine ``ContainerConfig`` (with ``HostConfig``)."""
        spec = build_request(
            "POST", "/containers/create", params={"name": name}, json_body=dict(config)
        )
        data = await self._c._json(spec)
        return str(data["Id"])

    async def _action(
        self, container: str, action: str, params: Params | None = None, wait: float | None = 0
    ) -> None:
        spec = build_request("POST", f"/containers/{quote_path(container)}/{action}", params=params)
        await self._c._send(
            spec,
            ok=(304,),
            read_timeout=True if wait == 0 else (None if wait is None else self._c.timeout + wait),
        )

    async def start(self, container: str) -> None:
        await self._action(container, "start")

    async def stop(self, container: str, timeout: int | None = None) -> None:  # noqa: ASYNC109
        """Stop (SIGTERM, then SIGKILL after ``timeout`` s; engine default 10)."""
        await self._action(container, "stop", {"t": timeout}, wait=timeout if timeout else 10)

    async def restart(self, container: str, timeout: int | None = None) -> None:  # noqa: ASYNC109
        await self._action(container, "restart", {"t": timeout}, wait=timeout if timeout else 10)

    async def pause(self, container: str) -> None:
        await self._action(container, "pause")

    async def unpause(self, container: str) -> None:
        await self._action(container, "unpause")

    async def kill(self, container: str, signal: str | int | None = None) -> None:
        await self._action(container, "kill", {"signal": signal})

    async def rename(self, container: str, new_name: str) -> None:
        await self._action(container, "rename", {"name": new_name})

    async def remove(self, container: str, force: bool = False, volumes: bool = False) -> None:
        spec = build_request(
            "DELETE",
            f"/containers/{quote_path(container)}",
            params={"force": force or None, "v": volumes or None},
        )
        await self._c._send(spec, read_timeout=None)

    async def prune(self, filters: Mapping[str, Any] | None = None) -> models.PruneResult:
        return await self._prune("/containers/prune", filters)

    async def commit(
        self,
        container: str,
        repo: str | None = None,
        tag: str | None = None,
        *,
        comment: str | None = None,
        author: str | None = None,
        changes: builtins.list[str] | None = None,
        pause: bool = True,
        config: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an image from a container's changes; returns the new image id."""
        spec = build_request(
            "POST",
            "/commit",
            params={
                "container": container,
                "repo": repo,
                "tag": tag,
                "comment": comment,
                "author": author,
                "changes": changes,
                "pause": pause,
            },
            json_body=dict(config or {}),
        )
        data = await self._c._json(spec, read_timeout=None)
        return str(data["Id"])

    async def top(self, container: str, ps_args: str | None = None) -> dict[str, Any]:
        """``{"Titles": [...], "Processes": [[...], ...]}``."""
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/top", params={"ps_args": ps_args}
        )
        data = await self._c._json(spec)
        return data if isinstance(data, dict) else {}

    async def wait(self, container: str, condition: str = "not-running") -> int:
        """Block until the container reaches ``condition``; returns its exit code."""
        spec = build_request(
            "POST", f"/containers/{quote_path(container)}/wait", params={"condition": condition}
        )
        data = await self._c._json(spec, read_timeout=None)
        error = (data or {}).get("Error") or {}
        if isinstance(error, dict) and error.get("Message"):
            raise EngineAPIError(200, str(error["Message"]), method="POST", path=spec.path)
        return int(data["StatusCode"])

    async def logs(
        self,
        container: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        timestamps: bool = False,
        tail: int | str = "all",
        since: int | float | str | datetime | None = None,
        until: int | float | str | datetime | None = None,
    ) -> AsyncIterator[tuple[StreamKind, str]]:
        """Yield ``(StreamKind.STDOUT|STDERR, text)`` pieces as the engine sends them.

        Text is decoded incrementally per stream (a character split across frames stays
        whole). A TTY container has one combined stream, reported as STDOUT.
        """
        spec = build_request(
            "GET",
            f"/containers/{quote_path(container)}/logs",
            params={
                "follow": follow,
                "stdout": stdout,
                "stderr": stderr,
                "timestamps": timestamps,
                "tail": tail,
                "since": since,
                "until": until,
            },
        )
        async with self._c._stream(spec) as resp:
            frames = await self._frames(container, resp)
            text = TextDecoder()
            async with aclosing(self._c._chunks(resp)) as chunks:
                async for chunk in chunks:
                    for frame in frames.feed(chunk):
                        kind, piece = text.feed(frame)
                        if piece:
                            yield kind, piece
            frames.close()
            for kind, piece in text.flush():
                if piece:
                    yield kind, piece

    async def _frames(self, container: str, resp: httpx.Response) -> FrameDecoder | RawDecoder:
        """The decoder for a logs response: its Content-Type says, else the TTY flag does."""
        content_type = resp.headers.get("content-type")
        tty: bool | None = None
        if content_type not in (MULTIPLEXED_CONTENT_TYPE, RAW_CONTENT_TYPE):
            # API < 1.42 sets no Content-Type on logs: the container's TTY flag decides.
            tty = (await self.inspect(container)).tty
        return decoder_for(content_type, tty)

    async def log_chunks(
        self, container: str, *, follow: bool = False, tail: int | str = "all"
    ) -> AsyncIterator[tuple[bool, bytes]]:
        """The logs response's bytes as read, with whether they are multiplexed frames.

        For readers that must keep up with any log rate by skipping what they cannot show (the
        GUI's log pane): :meth:`logs` decodes every frame into text; this leaves that to them.
        """
        spec = build_request(
            "GET",
            f"/containers/{quote_path(container)}/logs",
            params={"follow": follow, "stdout": True, "stderr": True, "tail": tail},
        )
        async with self._c._stream(spec) as resp:
            multiplexed = not isinstance(await self._frames(container, resp), RawDecoder)
            async with aclosing(self._c._chunks(resp)) as chunks:
                async for chunk in chunks:
                    yield multiplexed, chunk

    async def stats(self, container: str, stream: bool = True) -> AsyncIterator[models.Stats]:
        """Resource usage samples (one per second while ``stream``; else exactly one).

        The first streamed sample has no previous CPU reading, so its ``cpu_percent`` is 0,
        as in ``docker stats``.
        """
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/stats", params={"stream": stream}
        )
        async for msg in self._c._json_lines(spec):
            yield models.Stats.from_api(msg)

    async def get_archive(self, container: str, path: str) -> tuple[bytes, dict[str, Any]]:
        """A tar of ``path`` inside the container, and its stat (name, size, mode, mtime)."""
        spec = build_request(
            "GET", f"/containers/{quote_path(container)}/archive", params={"path": path}
        )
        resp = await self._c._send(spec, read_timeout=None)
        return resp.content, decode_path_stat(resp.headers.get("X-Docker-Container-Path-Stat"))

    async def put_archive(
        self, container: str, path: str, tar: bytes, *, no_overwrite_dir_non_dir: bool = False
    ) -> None:
        """Extract a tar into directory ``path`` of the container."""
        spec = build_request(
            "PUT",
            f"/containers/{quote_path(container)}/archive",
            params={"path": path, "noOverwriteDirNonDir": no_overwrite_dir_non_dir or None},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        await self._c._send(spec, read_timeout=None)

    async def stat_path(self, container: str, path: str) -> dict[str, Any]:
        """Stat a path in the container (name, size, mode, mtime, linkTarget)."""
        spec = build_request(
            "HEAD", f"/containers/{quote_path(container)}/archive", params={"path": path}
        )
        try:
            resp = await self._c._send(spec)
        except NotFound as exc:
            # HEAD answers carry no body, so say what was not found ourselves.
            raise NotFound(
                404,
                f"No such container or path: {container}:{path}",
                method="HEAD",
                path=spec.path,
            ) from exc
        return decode_path_stat(resp.headers.get("X-Docker-Container-Path-Stat"))
