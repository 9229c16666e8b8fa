"""Which files the Troubleshoot window works on for each kind of engine (app/troubleshoot/files.py).

No Qt and no engine process: the engines are only constructed, never started.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.troubleshoot.files import bundle_sources, engine_files
from engine.diagnostics.purge import plan_purge
from engine.lifecycle import EnginePaths, ExternalEngine, NativeEngine
from engine.vm.engine import VMEngine
from engine.vm.layout import VMPaths


def test_native_engine(tmp_path: Path) -> None:
    paths = EnginePaths.at(tmp_path / "home")
    files = engine_files(NativeEngine(paths))
    assert files.managed and files.paths == paths
    assert files.log_file == paths.log_file and files.vm_root == paths.root / "vm"
    sources = bundle_sources(NativeEngine(paths), tmp_path / "settings.json")
    assert sources.engine_paths == paths and sources.endpoint == paths.endpoint
    assert sources.settings_file == tmp_path / "settings.json"


def test_vm_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    vm = VMPaths.default()
    files = engine_files(VMEngine(vm))
    # the log is the VM's console; a purge covers the VM's disks and the native data beside it
    assert files.log_file == vm.engine.log_file == tmp_path / "home" / "vm" / "engine.log"
    assert files.vm_root == tmp_path / "home" / "vm"
    assert files.paths is not None and files.paths.root == tmp_path / "home"
    (vm.root).mkdir(parents=True)
    (vm.root / "data.qcow2").write_bytes(b"d" * 4096)
    plan = plan_purge(files.paths, files.vm_root)
    assert [i.path for i in plan.items] == [vm.root / "data.qcow2"]


def test_external_engine_has_no_files_of_ours(tmp_path: Path) -> None:
    files = engine_files(ExternalEngine("unix:///var/run/docker.sock"))
    assert not files.managed
    assert files.log_file is None and files.vm_root is None
    assert files.endpoint == "unix:///var/run/docker.sock"
    sources = bundle_sources(ExternalEngine("unix:///var/run/docker.sock"), tmp_path / "s.json")
    assert sources.endpoint == "unix:///var/run/docker.sock"
