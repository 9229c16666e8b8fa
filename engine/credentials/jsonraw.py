"""JSON that keeps numbers exactly as written, for editing files other programs own.

``json.loads`` turns ``1e400`` into ``inf`` and ``json.dumps`` writes that back as ``Infinity``,
which Go's encoding/json (the docker CLI) cannot parse; ``1.10`` would come back as ``1.1`` and
big integers through ``float`` lose digits. :func:`loads` keeps every number as a
:class:`RawNumber` (a ``str`` subclass holding the literal) and :func:`dumps` writes it verbatim.
Everything else is plain ``json``: objects keep their key order, strings are escaped by
``json.dumps`` (ASCII, so lone surrogates survive as ``\\udXXX`` escapes).
"""

from __future__ import annotations

import json
from typing import Any


class RawNumber(str):
    """A JSON number literal exactly as it was in the file (``"1e400"``, ``"1.10"``, ``"-0"``)."""

    __slots__ = ()


def loads(text: str) -> Any:
    """Parse JSON; numbers become :class:`RawNumber`, ``NaN``/``Infinity`` too (kept verbatim).

    Raises:
        ValueError: not valid JSON (``json.JSONDecodeError``).
    """
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber,
                      parse_constant=RawNumber)


def dumps(value: Any, indent: str = "\t") -> str:
    """Serialise like ``json.dumps(value, indent=indent)``, with :class:`RawNumber` verbatim."""
    out: list[str] = []
    _write(value, out, indent, 0)
    return "".join(out)


def _write(value: Any, out: list[str], indent: str, depth: int) -> None:
    if isinstance(value, RawNumber):
        out.append(str.__str__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + indent * (depth + 1)
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("," if n else "") + inner + json.dumps(str(key)) + ": ")
            _write(item, out, indent, depth + 1)
        out.append("\n" + indent * depth + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = "\n" + indent * (depth + 1)
        out.append("[")
        for n, item in enumerate(value):
            out.append(("," if n else "") + inner)
            _write(item, out, indent, depth + 1)
        out.append("\n" + indent * depth + "]")
    else:
        out.append(json.dumps(value))  # str, bool, None, and int/float set by the caller
