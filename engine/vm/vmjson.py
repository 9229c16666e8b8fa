"""Editing ``vm.json`` for the Settings window: change some keys, keep every other one.

Data flow: Settings > Resources -> :func:`update` (read the file as a plain dict, set or drop the
given keys, check the result with ``VMSettings.from_dict``, write atomically with the old file
as ``vm.json.bak``) -> the VM's next start reads it (engine/vm/plan.py). A value of None removes
the key (back to the host-bounded default). A file that is not valid JSON is never overwritten:
:func:`update` raises LifecycleError naming it, so the user's text is not lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import LifecycleError
from engine.lifecycle.jsonfiles import write_json_atomic
from engine.vm.layout import VMSettings


def read_raw(path: Path) -> dict[str, Any]:
    """vm.json as a dict ({} when missing); LifecycleError when unreadable or not an object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LifecycleError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LifecycleError(
            f"{path} is not valid JSON ({exc}); fix it by hand or delete it first, so that "
            "nothing in it is lost."
        ) from exc
    if not isinstance(data, dict):
        raise LifecycleError(f'{path} must hold a JSON object like {{"cpus": 2}}.')
    return data


def update(path: Path, values: dict[str, Any]) -> VMSettings:
    """Set (or, for None, remove) ``values`` in vm.json; returns the settings now in force."""
    data = read_raw(path)
    for key, value in values.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = list(value) if isinstance(value, tuple) else value
    settings = VMSettings.from_dict(data, str(path))
    write_json_atomic(path, data, backup=True)
    return settings
