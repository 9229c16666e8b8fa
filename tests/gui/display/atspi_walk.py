"""Walk Portside through the AT-SPI bus, as a screen reader does; print what is wrong as JSON.

Run by ``tests/gui/test_atspi.py`` with the *system* Python (``/usr/bin/python3``, which has
``pyatspi``; the venv does not), inside a D-Bus session where ``at-spi-bus-launcher`` runs and
the app was started with ``QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1``. It imports nothing of Portside.

It waits for the application "Portside", then selects each item of the sidebar list "Views"
through the AT-SPI Selection interface (what Orca's "select" does), waits until that view's title
is showing, and walks the window: every showing control a person operates must have a name, and
no two of them may share role and name. Output: ``{"views": [...], "problems": [...]}``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pyatspi  # type: ignore[import-not-found]  # system Python only

INTERACTIVE = {
    "push button", "toggle button", "check box", "radio button", "combo box", "text",
    "password text", "entry", "list", "table", "tree", "tree table", "progress bar", "slider",
    "spin button", "page tab",
}  # fmt: skip
NOT_INTO = {"list", "table", "tree", "tree table", "combo box", "table cell", "list item"}


def _find_app(timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            if app is not None and app.name == "Portside" and app.childCount:
                return app
        time.sleep(0.2)
    raise SystemExit(f"no application 'Portside' on the AT-SPI bus after {timeout} s")


def _walk(node: Any, chain: list[str], out: list[tuple[str, str, str]]) -> None:
    try:
        role, name = node.getRoleName(), (node.name or "").strip()
        showing = node.getState().contains(pyatspi.STATE_SHOWING)
    except Exception:  # a node that went away while walking
        return
    if not showing:
        return
    here = [*chain, f"{role}:{name}" if name else role]
    out.append((role, name, " > ".join(here[-4:])))
    if role in NOT_INTO:
        return
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            _walk(child, here, out)


def _nodes(frame: Any) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    _walk(frame, [], out)
    return out


def _wait_for(frame: Any, role: str, name: str, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(r == role and n == name for r, n, _ in _nodes(frame)):
            return True
        time.sleep(0.2)
    return False


def main() -> int:
    app = _find_app(60)
    frame = next(
        app.getChildAtIndex(i) for i in range(app.childCount)
        if app.getChildAtIndex(i).getRoleName() == "frame"
    )  # fmt: skip
    if not _wait_for(frame, "list", "Views", 60):
        raise SystemExit("no sidebar list named 'Views'")
    sidebar = next(n for n in _all(frame) if n.getRoleName() == "list" and n.name == "Views")
    problems: list[str] = []
    views: list[str] = []
    selection = sidebar.querySelection()
    for i in range(sidebar.childCount):
        title = sidebar.getChildAtIndex(i).name
        selection.selectChild(i)
        if not _wait_for(frame, "label", title):
            problems.append(f"selecting {title!r} through AT-SPI did not show its view")
            continue
        views.append(title)
        seen: dict[tuple[str, str], list[str]] = {}
        for role, name, where in _nodes(frame):
            if role not in INTERACTIVE:
                continue
            if not name:
                problems.append(f"[{title}] nameless {role}: {where}")
                continue
            seen.setdefault((role, name), []).append(where)
        for (role, name), wheres in seen.items():
            if len(wheres) > 1:
                problems.append(f"[{title}] {len(wheres)} × {role} {name!r}: " + " | ".join(wheres))
    json.dump({"views": views, "problems": problems}, sys.stdout)
    return 0


def _all(node: Any) -> list[Any]:
    found = [node]
    for i in range(node.childCount):
        child = node.getChildAtIndex(i)
        if child is not None:
            found.extend(_all(child))
    return found


if __name__ == "__main__":
    sys.exit(main())
