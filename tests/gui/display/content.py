"""Content for looking at the window: containers in every state, a Compose project, images,
volumes and a user network, made through the engine client on a real engine.

:func:`populate` is used by the display tests (on the session engine) and can be run by hand
against any engine to look at the app with something in it::

    python -m tests.gui.display.content unix:///path/to/docker.sock

Everything it makes is named with ``prefix`` and labelled ``portside.look=<prefix>`` so
:func:`clean` removes exactly that.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from typing import Any

from engine.client import EngineClient
from tests.support.engine_fixtures import TEST_IMAGE, build_image, busybox_context

LABEL = "portside.look"


@dataclass
class Content:
    """What :func:`populate` made (ids and names), for the tests to find again."""

    prefix: str
    containers: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


async def populate(client: Any, prefix: str, image: str = TEST_IMAGE) -> Content:
    """Make containers running (one with a published port), paused, created, exited (0 and 137),
    a Compose project of three services, two volumes (one in use), a user network, two tags."""
    made = Content(prefix)
    labels = {LABEL: prefix}

    async def create(suffix: str, cmd: list[str], **extra: Any) -> str:
        config: dict[str, Any] = {
            "Image": image,
            "Cmd": cmd,
            "Labels": {**labels, **extra.pop("labels", {})},
            "StopSignal": "SIGKILL",
            **extra,
        }
        cid = str(await client.containers.create(config, name=f"{prefix}-{suffix}"))
        made.containers[suffix] = cid
        return cid

    vol_data = f"{prefix}-data"
    vol_cache = f"{prefix}-cache"
    for name in (vol_data, vol_cache):
        await client.volumes.create(name, labels=labels)
        made.volumes.append(name)
    net = f"{prefix}-backend"
    await client.networks.create(net, labels=labels)
    made.networks.append(net)
    for tag in ("1.0", "latest"):
        await client.images.tag(image, f"{prefix}/web", tag)
        made.images.append(f"{prefix}/web:{tag}")

    web = await create(
        "web",
        ["sh", "-c", "while true; do echo serving; sleep 2; done"],
        ExposedPorts={"80/tcp": {}},
        HostConfig={
            "PortBindings": {"80/tcp": [{"HostPort": "0"}]},
            "Binds": [f"{vol_data}:/data"],
        },
    )
    paused = await create("worker", ["sleep", "3600"])
    await create("scheduled", ["sleep", "3600"])  # created, never started
    done = await create("migrate", ["true"])
    killed = await create("crashy", ["sleep", "3600"])
    project = f"{prefix}-shop"
    compose = []
    for service in ("api", "db", "queue"):
        compose.append(
            await create(
                f"{service}-1",
                ["sleep", "3600"],
                labels={
                    "com.docker.compose.project": project,
                    "com.docker.compose.service": service,
                },
            )
        )
    for cid in (web, paused, done, killed, compose[0], compose[1]):
        await client.containers.start(cid)
    await client.containers.pause(paused)
    await client.containers.kill(killed)
    for cid in (done, killed):
        await client.containers.wait(cid)
    await client.networks.connect(net, web)
    return made


async def clean(client: Any, prefix: str) -> None:
    """Remove what :func:`populate` made with this ``prefix``."""
    filters = {"label": [f"{LABEL}={prefix}"]}
    for summary in await client.containers.list(all=True, filters=filters):
        with contextlib.suppress(Exception):
            await client.containers.remove(summary.id, force=True)
    for volume in await client.volumes.list(filters=filters):
        with contextlib.suppress(Exception):
            await client.volumes.remove(volume.name, force=True)
    for network in await client.networks.list(filters=filters):
        with contextlib.suppress(Exception):
            await client.networks.remove(network.id)
    for tag in ("1.0", "latest"):
        with contextlib.suppress(Exception):
            await client.images.remove(f"{prefix}/web:{tag}")


async def _main(endpoint: str, prefix: str) -> None:
    await build_image(endpoint, busybox_context(), TEST_IMAGE)
    async with EngineClient(endpoint) as client:
        await clean(client, prefix)
        made = await populate(client, prefix)
    print(made)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "look"))
