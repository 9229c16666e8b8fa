"""The first container: pulled from the registry when it answers, else Portside's sample image.

    registry_reachable(image) ── GET https://<registry>/v2/ (2 s) ──► a registry answered?
        yes ─► client.images.pull(image, auth=the stored login, if any; a failed pull falls
               back to the sample)
        no  ─► client.images.load(resources/sample-image.tar)   (packaging/sample-image/)
    ─► client.containers.create + start ─► container id (the window opens its logs)

No Qt here: the page (:mod:`app.wizard.first_container`) runs :func:`run_first_container` as a
task of the app's runner and shows each ``progress`` line.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from engine.errors import NotFound, PortsideError
from engine.registry import parse_reference

#: What Docker's own guide runs first; ``PORTSIDE_FIRST_IMAGE`` picks another.
REGISTRY_IMAGE = "docker.io/library/hello-world:latest"
SAMPLE_TAG = "portside/hello:latest"
SAMPLE_TAR = Path(__file__).resolve().parent.parent.parent / "resources" / "sample-image.tar"
BUILD_HINT = "python3 packaging/sample-image/build.py"
LABEL = "io.portside.first-run"
REACH_TIMEOUT = 2.0


def registry_image() -> str:
    return os.environ.get("PORTSIDE_FIRST_IMAGE") or REGISTRY_IMAGE


def sample_tar() -> Path:
    """The sample image's tar (``PORTSIDE_SAMPLE_IMAGE`` overrides where it is)."""
    return Path(os.environ.get("PORTSIDE_SAMPLE_IMAGE") or SAMPLE_TAR)


def registry_url(image: str) -> str:
    registry = parse_reference(image).registry
    if registry in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        registry = "registry-1.docker.io"
    scheme = "http" if registry.startswith(("localhost", "127.")) else "https"
    return f"{scheme}://{registry}/v2/"


async def registry_reachable(image: str) -> bool:
    """Does the registry of ``image`` answer as a registry (200 or 401 with its API header)?

    A proxy's error page or a captive portal is not a registry, so only the distribution API's
    header counts.
    """
    try:
        async with httpx.AsyncClient(timeout=REACH_TIMEOUT) as http:
            response = await http.get(registry_url(image))
    except (httpx.HTTPError, OSError, ValueError):
        return False
    return response.status_code in (200, 401) and (
        "docker-distribution-api-version" in response.headers
    )


async def load_sample(client: Any, progress: Callable[[str], None]) -> str:
    """Load the sample image into the engine (once); returns its tag."""
    try:
        await client.images.inspect(SAMPLE_TAG)
        progress(f"The sample image {SAMPLE_TAG} is already in the engine.")
        return SAMPLE_TAG
    except NotFound:
        pass
    path = sample_tar()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PortsideError(
            f"The sample image {path} is missing; build it with `{BUILD_HINT}` "
            "(scripts/run.sh does), or connect to the internet to pull from the registry."
        ) from None
    progress(f"Loading the sample image ({len(data) // 1024} KiB) that Portside built offline…")
    async for _ in client.images.load(data):
        pass
    return SAMPLE_TAG


async def pull(client: Any, image: str, progress: Callable[[str], None]) -> None:
    """Pull with the login stored for its registry (the sign-in step's), else anonymously."""
    from app.dialogs.operation import stored_auth_for

    auth = await stored_auth_for(image)
    progress(f"Pulling {image}{' as ' + auth.username if auth and auth.username else ''}…")
    async for _ in client.images.pull(image, auth=auth):
        pass


async def run_first_container(
    client: Any,
    progress: Callable[[str], None],
    *,
    image: str | None = None,
    reachable: Callable[[str], Any] = registry_reachable,
) -> tuple[str, str]:
    """Pull (or load) and start the first container; returns (container id, image used)."""
    image = image or registry_image()
    progress(f"Is the registry of {image} reachable?")
    used = ""
    if await reachable(image):
        try:
            await pull(client, image, progress)
            used = image
        except PortsideError as exc:
            progress(f"The pull failed ({exc}); using the sample image instead.")
    else:
        progress("No registry answers; using the sample image instead.")
    if not used:
        used = await load_sample(client, progress)
    name = f"first-container-{uuid.uuid4().hex[:6]}"
    progress(f"Starting {name} from {used}…")
    # no network: the greeting needs none, and skipping the bridge's veth pair makes it start
    # sooner; the Run dialog is there for containers that serve something
    config = {"Image": used, "Labels": {LABEL: "1"}, "HostConfig": {"NetworkMode": "none"}}
    cid = await client.containers.create(config, name=name)
    await client.containers.start(cid)
    return str(cid), used
