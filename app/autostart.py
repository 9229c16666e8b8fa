"""Start Portside when the user logs in: one entry per OS, kept by the Settings window.

No Qt here (plain files and the Windows registry), so it runs and is tested headless.

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/portside.desktop`` (default
  ``~/.config/autostart``), the freedesktop "Desktop Application Autostart" file. The session
  starts ``Exec`` at login; ``Hidden=true`` or a missing file means "off", so turning it off
  deletes the file.
- macOS: ``~/Library/LaunchAgents/io.portside.app.plist`` with ``RunAtLoad``; launchd reads the
  folder at login (no ``launchctl load`` needed for the next login).
- Windows: the value ``Portside`` under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

``enable``/``disable``/``is_enabled`` take ``platform`` (``sys.platform`` by default) and, for
files, a ``home`` so tests point them at a temporary folder. Files are written atomically.
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

APP_ID = "io.portside.app"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Portside"


def launch_command() -> list[str]:
    """How the login session starts Portside: the ``portside`` script, else this Python."""
    script = shutil.which("portside")
    if script:
        return [script]
    from engine.selfexec import app_command

    return app_command()


def linux_entry_path(env: dict[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/autostart/portside.desktop`` (``~/.config`` when unset or relative)."""
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME", "")
    if base and os.path.isabs(base):
        root = Path(base)
    else:
        root = Path(env.get("HOME", "~")).expanduser() / ".config"
    return root / "autostart" / "portside.desktop"


def mac_plist_path(home: Path | None = None) -> Path:
    return (home or Path.home()) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def desktop_entry(command: list[str]) -> str:
    """The XDG autostart file's text (``Exec`` quoted per the Desktop Entry spec)."""
    exec_line = " ".join(_desktop_quote(arg) for arg in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Portside\n"
        "Comment=Containers on your desktop\n"
        f"Exec={exec_line}\n"
        "Icon=portside\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def _desktop_quote(arg: str) -> str:
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped.replace("%", "%%")}"'


def launch_agent(command: list[str]) -> bytes:
    """The macOS LaunchAgent plist."""
    return plistlib.dumps(
        {
            "Label": APP_ID,
            "ProgramArguments": command,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
        }
    )


def windows_command(command: list[str]) -> str:
    """The Run key's value: one command line, each argument quoted the Windows way."""
    import subprocess

    return subprocess.list2cmdline(command)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _winreg() -> Any:
    import winreg  # only on Windows

    return winreg


def enable(
    command: list[str] | None = None, *, platform: str = sys.platform, home: Path | None = None,
    registry: Any = None,
) -> str:
    """Turn start-at-login on; returns where the entry is (a path or the registry value)."""
    command = command or launch_command()
    if platform.startswith("win"):
        reg = registry or _winreg()
        with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.SetValueEx(key, RUN_VALUE, 0, reg.REG_SZ, windows_command(command))
        return f"HKCU\\{RUN_KEY}\\{RUN_VALUE}"
    if platform == "darwin":
        path = mac_plist_path(home)
        _write_atomic(path, launch_agent(command))
        return str(path)
    path = linux_entry_path(None if home is None else {"HOME": str(home)})
    _write_atomic(path, desktop_entry(command).encode())
    return str(path)


def disable(
    *, platform: str = sys.platform, home: Path | None = None, registry: Any = None
) -> None:
    """Turn start-at-login off (nothing to do when it was off)."""
    if platform.startswith("win"):
        reg = registry or _winreg()
        with (
            reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key,
            contextlib.suppress(FileNotFoundError),
        ):
            reg.DeleteValue(key, RUN_VALUE)
        return
    if platform == "darwin":
        mac_plist_path(home).unlink(missing_ok=True)
        return
    linux_entry_path(None if home is None else {"HOME": str(home)}).unlink(missing_ok=True)


def is_enabled(
    *, platform: str = sys.platform, home: Path | None = None, registry: Any = None
) -> bool:
    """Whether the OS will start Portside at the next login."""
    if platform.startswith("win"):
        reg = registry or _winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
                reg.QueryValueEx(key, RUN_VALUE)
        except FileNotFoundError:
            return False
        return True
    if platform == "darwin":
        return mac_plist_path(home).is_file()
    path = linux_entry_path(None if home is None else {"HOME": str(home)})
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text


def describe_command(command: list[str]) -> str:
    """The command as a shell would show it (for the Settings window's tooltip)."""
    return shlex.join(command)
