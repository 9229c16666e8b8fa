"""A real build cache for tests: a BuildKit build straight through the engine's API.

Portside's client builds with the classic builder, which leaves no build cache, so tests that
need one (the client's build prune, the Disk usage view's "Prune build cache…") POST the tar
context to ``/build?version=2`` themselves; dockerd serves it to its built-in BuildKit.
"""

from __future__ import annotations

import io
import tarfile

import httpx


def tar_of(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar with these files (mode 0644)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def buildkit_build(endpoint: str, context: bytes, tag: str) -> None:
    """Build ``context`` with BuildKit on the engine at ``endpoint`` (``unix://…``), tag it."""
    transport = httpx.AsyncHTTPTransport(uds=endpoint.removeprefix("unix://"))
    async with httpx.AsyncClient(transport=transport, base_url="http://engine", timeout=120) as c:
        resp = await c.post(
            "/build",
            params={"version": "2", "t": tag},
            content=context,
            headers={"Content-Type": "application/x-tar"},
        )
    assert resp.status_code == 200, resp.text
    assert '"errorDetail"' not in resp.text, resp.text
    assert "moby.image.id" in resp.text, resp.text


async def make_build_cache(endpoint: str, uid: str, size: int = 1_000_000) -> str:
    """Leave a build cache record of about ``size`` bytes of this caller's own; the image tag."""
    tag = f"portside-test/buildkit-{uid}:latest"
    data = (uid.encode() * (size // max(len(uid), 1) + 1))[:size]
    context = tar_of({"Dockerfile": b"FROM scratch\nCOPY data /data\n", "data": data})
    await buildkit_build(endpoint, context, tag)
    return tag
