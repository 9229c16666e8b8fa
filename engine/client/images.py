"""``/images`` and ``/build``: list, inspect, pull, push, tag, remove, load, save, import, build.

Data flow: requests are built by :func:`~engine.client.request.build_request` and sent through
the client's :class:`~engine.client.connection.Connection`. Registry credentials travel in the
``X-Registry-Auth`` header (:func:`engine.registry.encode_registry_auth`). Pull, push, load,
import and build answer with a JSON-lines progress stream (:meth:`Connection._progress`: an
``errorDetail`` inside it raises :class:`~engine.errors.StreamError`); save answers with a tar
stream passed on as it arrives.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from engine import models
from engine.client.connection import Resource
from engine.client.request import build_request, encode_filters, quote_path, split_reference
from engine.registry import AuthConfig, encode_registry_auth, parse_reference
from engine.streams import Progress


class Images(Resource):
    """``/images`` and ``/build``."""

    async def list(
        self,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
    ) -> builtins.list[models.ImageSummary]:
        spec = build_request(
            "GET",
            "/images/json",
            params={"all": all or None, "filters": encode_filters(filters)},
        )
        return [models.ImageSummary.from_api(d) for d in await self._c._json(spec) or ()]

    async def inspect(self, ref: str) -> models.ImageDetails:
        data = await self._c._json(build_request("GET", f"/images/{quote_path(ref)}/json"))
        return models.ImageDetails.from_api(data)

    @staticmethod
    def _auth_header(auth: AuthConfig | None) -> dict[str, str]:
        return {"X-Registry-Auth": encode_registry_auth(auth)}

    async def pull(
        self, ref: str, *, auth: AuthConfig | None = None, platform: str | None = None
    ) -> AsyncIterator[Progress]:
        """Pull one tag (``latest`` when none is given) or digest; yields progress.

        Raises:
            ValueError: the reference is malformed (before any request is made).
            StreamError: the pull failed after it started (e.g. manifest unknown, denied).
        """
        name, tag = split_reference(ref)
        spec = build_request(
            "POST",
            "/images/create",
            params={"fromImage": name, "tag": tag, "platform": platform},
            headers=self._auth_header(auth),
        )
        async for p in self._c._progress(spec):
            yield p

    async def push(self, ref: str, *, auth: AuthConfig | None = None) -> AsyncIterator[Progress]:
        """Push one tag of an image to its registry; yields progress."""
        parsed = parse_reference(ref)
        name = f"{parsed.registry}/{parsed.repository}"
        spec = build_request(
            "POST",
            f"/images/{quote_path(name)}/push",
            params={"tag": parsed.tag or "latest"},
            headers=self._auth_header(auth),
        )
        async for p in self._c._progress(spec):
            yield p

    async def tag(self, source: str, repo: str, tag: str | None = None) -> None:
        """Tag ``source`` as ``repo:tag``; ``repo`` may carry the tag itself (``a/b:1``)."""
        if tag is None:
            name, tag = split_reference(repo)
            repo = name
        spec = build_request(
            "POST", f"/images/{quote_path(source)}/tag", params={"repo": repo, "tag": tag}
        )
        await self._c._send(spec)

    async def remove(
        self, ref: str, force: bool = False, noprune: bool = False
    ) -> builtins.list[dict[str, str]]:
        """Untag/delete; returns the engine's ``[{"Untagged": ...}, {"Deleted": ...}]``."""
        spec = build_request(
            "DELETE",
            f"/images/{quote_path(ref)}",
            params={"force": force or None, "noprune": noprune or None},
        )
        data = await self._c._json(spec, read_timeout=None)
        return list(data or ())

    async def history(self, ref: str) -> builtins.list[dict[str, Any]]:
        data = await self._c._json(build_request("GET", f"/images/{quote_path(ref)}/history"))
        return list(data or ())

    async def prune(self, filters: Mapping[str, Any] | None = None) -> models.PruneResult:
        """Remove dangling images (``filters={"dangling": False}`` for all unused ones)."""
        return await self._prune("/images/prune", filters)

    async def load(self, tar: bytes | AsyncIterable[bytes]) -> AsyncIterator[Progress]:
        """Load images from a ``docker save`` tar; yields ``Loaded image: …`` messages."""
        spec = build_request(
            "POST",
            "/images/load",
            params={"quiet": False},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        async for p in self._c._progress(spec):
            yield p

    async def save(self, names: builtins.list[str]) -> AsyncIterator[bytes]:
        """Export images (with their tags) as one tar stream."""
        spec = build_request("GET", "/images/get", params={"names": list(names)})
        async with self._c._stream(spec) as resp, aclosing(self._c._chunks(resp)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def import_(
        self,
        tar: bytes | AsyncIterable[bytes],
        repo: str,
        tag: str | None = None,
        *,
        changes: builtins.list[str] | None = None,
    ) -> AsyncIterator[Progress]:
        """Create an image from a root file system tar (``docker import``)."""
        spec = build_request(
            "POST",
            "/images/create",
            params={"fromSrc": "-", "repo": repo, "tag": tag, "changes": changes},
            headers={"Content-Type": "application/x-tar"},
            content=tar,
        )
        async for p in self._c._progress(spec):
            yield p

    async def build(
        self,
        context_tar: bytes | AsyncIterable[bytes],
        *,
        tag: str | builtins.list[str] | None = None,
        dockerfile: str = "Dockerfile",
        buildargs: Mapping[str, str] | None = None,
        registry_config: str | None = None,
        labels: Mapping[str, str] | None = None,
        nocache: bool = False,
        pull: bool = False,
        rm: bool = True,
        forcerm: bool = False,
        target: str | None = None,
        platform: str | None = None,
    ) -> AsyncIterator[Progress]:
        """Build with the classic builder from a tar context; yields progress.

        The final ``Progress.aux`` carries ``{"ID": "sha256:…"}``. ``registry_config`` is the
        value of ``engine.registry.encode_registry_config(...)`` for private base images.
        """
        headers = {"Content-Type": "application/x-tar"}
        if registry_config:
            headers["X-Registry-Config"] = registry_config
        spec = build_request(
            "POST",
            "/build",
            params={
                "t": tag,
                "dockerfile": dockerfile,
                "buildargs": dict(buildargs) if buildargs else None,
                "labels": dict(labels) if labels else None,
                "nocache": nocache or None,
                "pull": pull or None,
                "rm": rm,
                "forcerm": forcerm or None,
                "target": target,
                "platform": platform,
            },
            headers=headers,
            content=context_tar,
        )
        async for p in self._c._progress(spec):
            yield p
