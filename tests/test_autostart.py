"""app/autostart.py: the login entry written and removed for real (Linux), and as far as this
machine allows for macOS (the plist file under a temporary home) and Windows (the Run key
through an in-memory stand-in for ``winreg``, which exists only on Windows)."""

from __future__ import annotations

import configparser
import plistlib
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app import autostart

COMMAND = ["/opt/Port Side/bin/portside", "--debug"]


def test_linux_entry_is_a_valid_autostart_file_under_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    assert not autostart.is_enabled(platform="linux")
    where = autostart.enable(COMMAND, platform="linux")
    entry = xdg / "autostart" / "portside.desktop"
    assert where == str(entry) and entry.is_file()
    assert autostart.is_enabled(platform="linux")
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read(entry)
    desktop = parsed["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "Portside"
    # Exec is quoted per the Desktop Entry spec: a path with a space stays one argument
    assert shlex.split(desktop["Exec"]) == COMMAND
    # the freedesktop validator (desktop-file-utils, installed by scripts/setup.sh for tests)
    validator = shutil.which("desktop-file-validate")
    assert validator, "desktop-file-validate missing: apt-get install desktop-file-utils"
    out = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    autostart.disable(platform="linux")
    assert not entry.exists() and not autostart.is_enabled(platform="linux")
    autostart.disable(platform="linux")  # already off: nothing to do, no error


def test_linux_entry_follows_home_when_xdg_config_home_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart.linux_entry_path() == tmp_path / ".config" / "autostart" / "portside.desktop"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")  # the spec says: ignore relative
    assert autostart.linux_entry_path().is_relative_to(tmp_path / ".config")


def test_a_hidden_entry_counts_as_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    autostart.enable(COMMAND, platform="linux")
    entry = autostart.linux_entry_path()
    entry.write_text(entry.read_text() + "Hidden=true\n")
    assert not autostart.is_enabled(platform="linux")


def test_macos_launch_agent_plist(tmp_path: Path) -> None:
    where = autostart.enable(COMMAND, platform="darwin", home=tmp_path)
    plist = tmp_path / "Library" / "LaunchAgents" / "io.portside.app.plist"
    assert where == str(plist)
    data = plistlib.loads(plist.read_bytes())
    assert data == {
        "Label": "io.portside.app", "ProgramArguments": COMMAND, "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    assert autostart.is_enabled(platform="darwin", home=tmp_path)
    autostart.disable(platform="darwin", home=tmp_path)
    assert not plist.exists() and not autostart.is_enabled(platform="darwin", home=tmp_path)


class MemoryRegistry:
    """The few ``winreg`` calls autostart makes, on a dict (winreg exists only on Windows)."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    KEY_READ = 1
    REG_SZ = 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], Any] = {}

    class _Key:
        def __init__(self, reg: MemoryRegistry, path: str) -> None:
            self.reg, self.path = reg, path

        def __enter__(self) -> MemoryRegistry._Key:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    def OpenKey(self, root: str, path: str, _reserved: int, _access: int) -> _Key:
        return self._Key(self, f"{root}\\{path}")

    def SetValueEx(self, key: _Key, name: str, _r: int, kind: int, value: str) -> None:
        assert kind == self.REG_SZ
        self.values[(key.path, name, "sz")] = value

    def QueryValueEx(self, key: _Key, name: str) -> tuple[str, int]:
        try:
            return self.values[(key.path, name, "sz")], self.REG_SZ
        except KeyError:
            raise FileNotFoundError(name) from None

    def DeleteValue(self, key: _Key, name: str) -> None:
        try:
            del self.values[(key.path, name, "sz")]
        except KeyError:
            raise FileNotFoundError(name) from None


def test_windows_run_key() -> None:
    reg = MemoryRegistry()
    assert not autostart.is_enabled(platform="win32", registry=reg)
    where = autostart.enable([r"C:\Program Files\Portside\portside.exe"], platform="win32",
                             registry=reg)
    assert where == r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run\Portside"
    key = (r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run", "Portside", "sz")
    assert reg.values[key] == r'"C:\Program Files\Portside\portside.exe"'
    assert autostart.is_enabled(platform="win32", registry=reg)
    autostart.disable(platform="win32", registry=reg)
    assert not reg.values and not autostart.is_enabled(platform="win32", registry=reg)
    autostart.disable(platform="win32", registry=reg)  # already off
