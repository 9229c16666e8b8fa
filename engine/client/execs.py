"""``/exec``: run a command in a running container.

Data flow: :meth:`Execs.create` registers the command with the engine; :meth:`Execs.start`
returns an :class:`engine.hijack.ExecSession`, which takes over the HTTP connection for the
process's stdin and output (it resizes and reads the exit code back through this group);
:meth:`Execs.run` is create + start + read to the end, for commands without input.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.client.connection import Resource
from engine.client.request import build_request, quote_path

if TYPE_CHECKING:
    from engine.client.system import EngineClient
    from engine.hijack import ExecSession


class Execs(Resource):
    """``/exec``: run a command in a running container."""

    # the whole client: a session resizes and reads its exit code through ``client.execs``
    _c: EngineClient

    async def create(
        self,
        container: str,
        cmd: builtins.list[str],
        *,
        tty: bool = False,
        stdin: bool = False,
        env: builtins.list[str] | Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
    ) -> str:
        if isinstance(env, Mapping):
            env = [f"{k}={v}" for k, v in env.items()]
        body: dict[str, Any] = {
            "AttachStdin": stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": tty,
            "Cmd": list(cmd),
            "Privileged": privileged,
        }
        if env is not None:
            body["Env"] = list(env)
        if workdir:
            body["WorkingDir"] = workdir
        if user:
            body["User"] = user
        spec = build_request("POST", f"/containers/{quote_path(container)}/exec", json_body=body)
        data = await self._c._json(spec)
        return str(data["Id"])

    def start(self, exec_id: str, *, tty: bool = False, stdin: bool = False) -> ExecSession:
        """A hijacked, bidirectional session; use ``async with`` (or ``await``) to open it."""
        from engine.hijack import ExecSession

        return ExecSession(self._c, exec_id, tty=tty, stdin=stdin)

    async def inspect(self, exec_id: str) -> dict[str, Any]:
        data = await self._c._json(build_request("GET", f"/exec/{quote_path(exec_id)}/json"))
        return data if isinstance(data, dict) else {}

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        spec = build_request(
            "POST", f"/exec/{quote_path(exec_id)}/resize", params={"h": height, "w": width}
        )
        await self._c._send(spec)

    async def run(
        self,
        container: str,
        cmd: builtins.list[str],
        *,
        env: builtins.list[str] | Mapping[str, str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
    ) -> tuple[int, str, str]:
        """Run a command to completion without stdin; returns ``(exit code, stdout, stderr)``."""
        exec_id = await self.create(container, cmd, env=env, workdir=workdir, user=user)
        async with self.start(exec_id) as session:
            stdout, stderr = await session.output()
        return await session.exit_code(), stdout, stderr
