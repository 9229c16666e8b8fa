"""Which files the Troubleshoot window works on, for the engine the app uses (no Qt).

* Portside's own engine (``NativeEngine``): its ``EnginePaths``; the VM folder under it, when
  there is one, is purged with it.
* The VM (``VMEngine``): the log is the VM's (its console), the purge covers the VM's disks and
  the native engine folder it sits in (``EnginePaths.default()`` with ``$PORTSIDE_HOME``).
* An engine Portside attaches to (``ExternalEngine``): no files of ours — no log to show, nothing
  to purge, no restart (the footer hides it too).

The diagnostics bundle reads the same folders (:func:`bundle_sources`), the settings file the
app uses and the app log ``app/gui.py`` writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from engine.diagnostics.collect import Sources
from engine.lifecycle.paths import EnginePaths


@dataclass(frozen=True)
class EngineFiles:
    """The files of the engine in use; ``paths`` is None for an engine Portside does not run."""

    paths: EnginePaths | None
    vm_root: Path | None
    log_file: Path | None
    endpoint: str

    @property
    def managed(self) -> bool:
        return self.paths is not None


def engine_files(engine: Any) -> EngineFiles:
    """The :class:`EngineFiles` of a NativeEngine, VMEngine or ExternalEngine."""
    endpoint = str(engine.status.endpoint or getattr(engine, "endpoint", "") or "")
    paths = getattr(engine, "paths", None)
    if isinstance(paths, EnginePaths):  # NativeEngine
        return EngineFiles(paths, paths.root / "vm", paths.log_file, endpoint)
    vm_engine = getattr(paths, "engine", None)
    if isinstance(vm_engine, EnginePaths):  # VMEngine: paths is VMPaths (root = <home>/vm)
        home = vm_engine.root.parent
        native = EnginePaths.default()
        if native.root != home:
            native = EnginePaths.at(home)
        return EngineFiles(native, vm_engine.root, vm_engine.log_file, endpoint)
    return EngineFiles(None, None, None, endpoint)


def app_log_path() -> Path:
    """The app's own log (``app.gui.setup_logging`` writes it)."""
    folder = os.environ.get("PORTSIDE_LOG_DIR") or platformdirs.user_log_dir("portside")
    return Path(folder) / "portside.log"


def bundle_sources(engine: Any, settings_file: Path) -> Sources:
    """What a bundle made from the app reads: the engine in use, this app's settings and log."""
    files = engine_files(engine)
    default = Sources.default(settings_file, endpoint=files.endpoint or None,
                              app_log=app_log_path())
    if files.paths is None:
        return default
    from dataclasses import replace

    return replace(default, engine_paths=files.paths, vm_root=files.vm_root)
