"""Reading the engine's JSON fields tolerantly (pure): the helpers every model is built with.

Data flow: each model's ``from_api(dict)`` (:mod:`engine.models.containers`, ``images``, ...)
reads its fields through these functions, which give a neutral default ("", 0, (), {}) for a
field the engine leaves out or sends with another type, instead of raising: the engine is the
source of truth and we only present it. :func:`config_fields` reads the ``Config`` section that
container and image inspections share; :func:`parse_time` the engine's RFC 3339 timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

JSON = dict[str, Any]


def str_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def int_of(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def opt_int_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def strs_of(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def labels_of(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def dict_of(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


class ConfigFields(TypedDict):
    """What a container's and an image's ``Config`` section both say about the process."""

    cmd: tuple[str, ...]
    entrypoint: tuple[str, ...]
    env: tuple[str, ...]
    working_dir: str
    labels: Mapping[str, str]


def config_fields(config: JSON) -> ConfigFields:
    """The process fields of a ``Config`` section (an entrypoint may be one string or a list)."""
    entry = config.get("Entrypoint")
    return ConfigFields(
        cmd=strs_of(config.get("Cmd")),
        entrypoint=(entry,) if isinstance(entry, str) else strs_of(entry),
        env=strs_of(config.get("Env")),
        working_dir=str_of(config.get("WorkingDir")),
        labels=labels_of(config.get("Labels")),
    )


_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: str) -> datetime | None:
    """Parse the engine's RFC 3339 timestamps (nanosecond precision); None for zero/blank."""
    m = _TIME.match(text)
    if m is None or text.startswith("0001-01-01"):
        return None
    main, frac, tz = m.groups()
    tz = "+00:00" if tz == "Z" else tz
    return datetime.fromisoformat(f"{main}.{((frac or '') + '000000')[:6]}{tz}")
