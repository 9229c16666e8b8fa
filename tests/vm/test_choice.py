"""The app's engine choice as each OS would see it (default suite, no VM started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.gui import choose_engine
from app.settings import Settings
from engine.lifecycle import ExternalEngine, NativeEngine
from engine.vm.choice import engine_kind
from engine.vm.engine import VMEngine

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("platform", "setting", "kind"),
    [
        ("linux", "auto", "native"),
        ("darwin", "auto", "vm"),
        ("win32", "auto", "vm"),
        ("linux", "vm", "vm"),
        ("linux", "native", "native"),
        ("darwin", "native", "vm"),  # cannot work there: the VM, with a note
        ("win32", "native", "vm"),
        ("linux", "bogus", "native"),
        ("darwin", 3, "vm"),
    ],
)
def test_engine_kind(platform: str, setting: object, kind: str) -> None:
    got, note = engine_kind(setting, platform)
    assert got == kind
    assert bool(note) == (
        setting not in ("auto", "vm") and not (setting == "native" and platform == "linux")
    )


@pytest.mark.parametrize(
    ("platform", "expected"), [("linux", NativeEngine), ("darwin", VMEngine), ("win32", VMEngine)]
)
def test_choose_engine_per_os(
    platform: str, expected: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    engine, attached = choose_engine(None, "auto", platform)
    assert isinstance(engine, expected) and not attached
    if isinstance(engine, VMEngine):
        assert engine.paths.root == tmp_path / "home" / "vm"
        assert engine.endpoint.startswith("unix://")
    # DOCKER_HOST always wins: the user points at an engine of their own
    monkeypatch.setenv("DOCKER_HOST", "unix:///nowhere.sock")
    engine, attached = choose_engine(None, "vm", platform)
    assert isinstance(engine, ExternalEngine) and attached


def test_engine_setting_round_trips_and_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"engine": "vm", "future_key": 1}')
    settings = Settings.load(path)
    assert settings.engine == "vm" and settings.extra == {"future_key": 1}
    settings.engine = "native"
    settings.save()
    again = Settings.load(path)
    assert again.engine == "native" and again.extra == {"future_key": 1}
    assert Settings.load(tmp_path / "none.json").engine == "auto"


def test_the_choice_needs_nothing_unix_only() -> None:
    """What decides the engine, the accelerator and the API mode imports and runs without
    fcntl, grp, pwd and termios (what Windows lacks), as Windows would see it; so do VMEngine
    and engine.lifecycle's EnginePaths/ExternalEngine (NativeEngine is imported lazily)."""
    probe = (
        "import sys\n"
        "for name in ('fcntl', 'grp', 'pwd', 'termios', 'resource'):\n"
        "    sys.modules[name] = None\n"
        "from engine.vm import api, choice, qemu, qmp, qmp_pipe, ready, share, tls\n"
        "assert choice.engine_kind('auto', 'win32') == ('vm', '')\n"
        "assert choice.api_mode(None, 'win32', {}) == 'tls'\n"
        "assert qemu.host_accelerators('win32') == ['whpx']\n"
        "assert qemu.accel_candidates(['tcg', 'whpx'], ['whpx']) == ['whpx', 'tcg']\n"
        # the home share on Windows too, served by Portside's own 9P server on a named pipe
        "assert [s.tag for s in share.default_shares(platform='win32')[0]] == ['home']\n"
        "from engine.vm.ninep import FileServer, ShareServer\n"
        # the VM engine and the start-up path's names import too; native.py only on demand
        "from engine.vm.engine import VMEngine\n"
        "from engine.lifecycle import EnginePaths, ExternalEngine\n"
        "assert 'engine.lifecycle.native' not in sys.modules\n"
        "try:\n"
        "    from engine.lifecycle import NativeEngine\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('native.py imported with fcntl missing')\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.stdout == "ok\n", done.stderr
