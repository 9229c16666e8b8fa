"""Reconstruct a ``docker run`` command from a container's inspect data (pure, no Qt, no I/O).

Covers what people need to recreate a container: name, published ports, environment, binds and
volumes (``-v``) and ``--mount`` entries, restart policy, network, labels, user, working dir,
entrypoint, tty/stdin, auto-remove, privileged, the image and the command. Values the image
already sets (env, labels, cmd, entrypoint, working dir, user) are left out when the image's
inspect data is given, so the command stays short and still recreates the same container.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_NETWORKS = {"", "default", "bridge"}


def _port_args(bindings: Mapping[str, Any] | None) -> list[str]:
    args: list[str] = []
    for container_port, hosts in sorted((bindings or {}).items(), key=lambda kv: _port_key(kv[0])):
        port, _, proto = container_port.partition("/")
        suffix = f"/{proto}" if proto and proto != "tcp" else ""
        for host in hosts or [{}]:
            host_ip = (host or {}).get("HostIp") or ""
            host_port = (host or {}).get("HostPort") or ""
            if host_ip and host_ip not in ("0.0.0.0", "::"):
                spec = f"{host_ip}:{host_port}:{port}"
            elif host_port:
                spec = f"{host_port}:{port}"
            else:
                spec = port
            args += ["-p", spec + suffix]
    return args


def _port_key(spec: str) -> tuple[int, str]:
    port, _, proto = spec.partition("/")
    return (int(port) if port.isdigit() else 0, proto)


def _mount_args(mounts: Sequence[Mapping[str, Any]] | None) -> list[str]:
    args: list[str] = []
    for m in mounts or ():
        parts = [f"type={m.get('Type', 'volume')}"]
        if m.get("Source"):
            parts.append(f"source={m['Source']}")
        parts.append(f"target={m.get('Target', '')}")
        if m.get("ReadOnly"):
            parts.append("readonly")
        args += ["--mount", ",".join(parts)]
    return args


def docker_run_args(
    container: Mapping[str, Any], image: Mapping[str, Any] | None = None
) -> list[str]:
    """The argv (starting with ``docker run``) that recreates ``container``.

    Args:
        container: ``GET /containers/{id}/json`` as returned by the engine.
        image: ``GET /images/{id}/json`` of its image, to leave out what the image sets.
    """
    config: Mapping[str, Any] = container.get("Config") or {}
    host: Mapping[str, Any] = container.get("HostConfig") or {}
    image_config: Mapping[str, Any] = (image or {}).get("Config") or {}
    known_image = image is not None

    args = ["docker", "run", "--detach"]
    name = str(container.get("Name") or "").lstrip("/")
    if name:
        args += ["--name", name]
    if config.get("Tty"):
        args.append("--tty")
    if config.get("OpenStdin"):
        args.append("--interactive")
    if host.get("AutoRemove"):
        args.append("--rm")
    if host.get("Privileged"):
        args.append("--privileged")
    if host.get("Init"):
        args.append("--init")

    user = config.get("User") or ""
    if user and (not known_image or user != (image_config.get("User") or "")):
        args += ["--user", user]
    workdir = config.get("WorkingDir") or ""
    if workdir and (not known_image or workdir != (image_config.get("WorkingDir") or "")):
        args += ["--workdir", workdir]

    image_env = set(image_config.get("Env") or ())
    for entry in config.get("Env") or ():
        if entry not in image_env:
            args += ["--env", entry]

    image_labels: Mapping[str, str] = image_config.get("Labels") or {}
    for key, value in sorted((config.get("Labels") or {}).items()):
        if image_labels.get(key) != value:
            args += ["--label", f"{key}={value}"]

    args += _port_args(host.get("PortBindings"))
    if host.get("PublishAllPorts"):
        args.append("--publish-all")

    for bind in host.get("Binds") or ():
        args += ["--volume", bind]
    args += _mount_args(host.get("Mounts"))

    restart = host.get("RestartPolicy") or {}
    policy = restart.get("Name") or ""
    if policy and policy != "no":
        retries = int(restart.get("MaximumRetryCount") or 0)
        if policy == "on-failure" and retries:
            policy = f"on-failure:{retries}"
        args += ["--restart", policy]

    network = host.get("NetworkMode") or ""
    if network not in DEFAULT_NETWORKS:
        args += ["--network", network]

    entrypoint = list(config.get("Entrypoint") or ())
    image_entrypoint = list(image_config.get("Entrypoint") or ())
    cmd = list(config.get("Cmd") or ())
    image_cmd = list(image_config.get("Cmd") or ())
    entrypoint_changed = entrypoint != image_entrypoint if known_image else bool(entrypoint)
    if entrypoint_changed and entrypoint:
        # --entrypoint takes one word; the rest of it goes before the command.
        args += ["--entrypoint", entrypoint[0]]
        cmd = entrypoint[1:] + cmd
    elif entrypoint_changed:
        args += ["--entrypoint", ""]

    args.append(str(config.get("Image") or container.get("Image") or ""))
    if cmd and (entrypoint_changed or not known_image or cmd != image_cmd):
        args += cmd
    return args


def docker_run_command(container: Mapping[str, Any], image: Mapping[str, Any] | None = None) -> str:
    """:func:`docker_run_args` as one shell-quoted line."""
    return shlex.join(docker_run_args(container, image))
