""" "Open in system terminal": ``docker exec -it`` against Portside's engine in the user's emulator.

Data flow: the Terminal tab calls :func:`open_system_terminal` with the container, the chosen
shell command and user, and the engine endpoint the app is connected to. It finds the docker CLI
and a terminal emulator on PATH (``$TERMINAL`` first, then the Debian alternative
``x-terminal-emulator``, then the common emulators), and starts the emulator detached with
``DOCKER_HOST`` set to that endpoint (and ``DOCKER_CONTEXT`` removed, which would otherwise
win), so the CLI talks to the very engine the window shows. When ``docker exec`` fails (no such
shell, container stopped) the window stays open on its message until Enter.

:func:`terminal_argv` and :func:`find_terminal` are pure, for unit tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

#: How each emulator runs a command: the arguments that come before the command itself.
EMULATORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),
    ("gnome-terminal", ("--",)),
    ("konsole", ("-e",)),
    ("xfce4-terminal", ("-x",)),
    ("mate-terminal", ("-x",)),
    ("tilix", ("-e",)),
    ("kitty", ()),
    ("alacritty", ("-e",)),
    ("wezterm", ("start", "--")),
    ("foot", ()),
    ("terminator", ("-x",)),
    ("xterm", ("-e",)),
)

#: Runs the command, and keeps the window open on a failure so its message can be read.
_HOLD_SCRIPT = (
    '"$@"; s=$?; if [ "$s" -ne 0 ]; then '
    'printf "\\n[docker exec exited with %s. Press Enter to close this window.]" "$s"; read _; fi'
)


class NoTerminalError(RuntimeError):
    """Nothing to open: no emulator or no docker CLI; the message says what to install."""


def find_terminal(env: Mapping[str, str]) -> tuple[str, tuple[str, ...]] | None:
    """(emulator path, its run-a-command arguments) found on ``env['PATH']``, or None."""
    path = env.get("PATH", os.defpath)
    preferred = env.get("TERMINAL", "").strip()
    if preferred:
        found = shutil.which(preferred, path=path)
        if found:
            name = os.path.basename(preferred)
            flags = dict(EMULATORS).get(name, ("-e",))
            return found, flags
    for name, flags in EMULATORS:
        found = shutil.which(name, path=path)
        if found:
            return found, flags
    return None


def docker_exec_argv(docker: str, container_id: str, command: list[str], user: str) -> list[str]:
    argv = [docker, "exec", "-it"]
    if user:
        argv += ["-u", user]
    return [*argv, container_id, *(command or ["sh"])]


def terminal_argv(
    emulator: tuple[str, tuple[str, ...]], docker_argv: list[str], shell: str = "/bin/sh"
) -> list[str]:
    """The emulator's command line that runs ``docker_argv`` and holds on failure."""
    path, flags = emulator
    return [path, *flags, shell, "-c", _HOLD_SCRIPT, "sh", *docker_argv]


def open_system_terminal(
    endpoint_url: str,
    container_id: str,
    command: list[str],
    user: str = "",
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Start the emulator, detached; returns its command line.

    Raises :class:`NoTerminalError` with what to install. The emulator is started through a
    ``sh`` that puts it in the background and exits at once (a double fork): it outlives the
    app, and no child is left for the app to reap.
    """
    base = dict(os.environ if env is None else env)
    docker = shutil.which("docker", path=base.get("PATH", os.defpath))
    if docker is None:
        raise NoTerminalError(
            "The docker CLI is not on PATH, so no terminal can run `docker exec`. Install it "
            "(Debian/Ubuntu: `sudo apt-get install docker.io`) and try again."
        )
    emulator = find_terminal(base)
    if emulator is None:
        names = ", ".join(name for name, _ in EMULATORS[:4])
        raise NoTerminalError(
            f"No terminal emulator found on PATH (looked for $TERMINAL, {names}, …, xterm). "
            "Install one (e.g. `sudo apt-get install xterm`) or set TERMINAL to yours."
        )
    base.pop("DOCKER_CONTEXT", None)
    base["DOCKER_HOST"] = endpoint_url
    argv = terminal_argv(emulator, docker_exec_argv(docker, container_id, command, user))
    subprocess.run(
        ["/bin/sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', "sh", *argv],
        env=base,
        check=True,
        timeout=10,
        start_new_session=True,
    )
    return argv
