"""vm.json edited by the Settings window (engine/vm/vmjson.py) and its ``shares`` key.

Real files; no VM boots here (the shares reach QEMU through make_plan -> machine_spec, which the
VM tests boot).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import LifecycleError
from engine.vm import vmjson
from engine.vm.layout import VMSettings
from engine.vm.share import Share, configured_shares


def test_update_keeps_unknown_keys_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"accel": "tcg", "mine": [1]}')
    settings = vmjson.update(path, {"cpus": 2, "memory_mib": 2048, "shares": ("/srv",)})
    assert settings.cpus == 2 and settings.shares == ("/srv",) and settings.accel == "tcg"
    assert json.loads(path.read_text()) == {
        "accel": "tcg", "mine": [1], "cpus": 2, "memory_mib": 2048, "shares": ["/srv"],
    }
    assert json.loads((tmp_path / "vm.json.bak").read_text()) == {"accel": "tcg", "mine": [1]}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # None removes a key: back to the host-bounded default
    vmjson.update(path, {"cpus": None, "shares": None})
    assert json.loads(path.read_text()) == {"accel": "tcg", "mine": [1], "memory_mib": 2048}


def test_update_refuses_bad_values_and_never_overwrites_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"cpus": 2}')
    with pytest.raises(LifecycleError, match="'cpus' must be a whole number"):
        vmjson.update(path, {"cpus": 0})
    assert json.loads(path.read_text()) == {"cpus": 2}
    path.write_text("{half")
    with pytest.raises(LifecycleError, match="not valid JSON"):
        vmjson.update(path, {"cpus": 2})
    assert path.read_text() == "{half"
    assert vmjson.update(tmp_path / "new" / "vm.json", {"disk_gib": 16}).disk_gib == 16


def test_shares_setting_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "vm.json"
    path.write_text('{"shares": ["relative/path"]}')
    with pytest.raises(LifecycleError, match="'shares' must be a list of absolute folder paths"):
        VMSettings.load(path)
    path.write_text('{"shares": []}')
    assert VMSettings.load(path).shares == ()  # share nothing
    assert VMSettings.load(tmp_path / "none.json").shares is None  # default: the home folder


def test_configured_shares_skip_what_cannot_be_shared(tmp_path: Path) -> None:
    good = tmp_path / "project"
    good.mkdir()
    spaced = tmp_path / "my project"
    spaced.mkdir()
    shares, note = configured_shares([str(good), str(spaced), str(tmp_path / "gone"), str(good)])
    assert shares == [Share("share0", str(good))]
    assert "my project has a character" in note and "gone is not a folder" in note
    assert configured_shares([]) == ([], "")
