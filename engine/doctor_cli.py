"""``portside doctor``: the system checks of :mod:`engine.doctor`, for a terminal or a script.

    portside doctor            one line per check (ok / FAIL / warn), the fix indented below
    portside doctor --json     {"ok": bool, "checks": [Check...], "existing_engines": [...]}

Exit status 0 when no blocking check fails (an engine can run), 1 otherwise; 2 for bad usage.
No Qt is imported (``app/__main__.py`` dispatches here before the GUI loads).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence

from engine.doctor import Check, blocking_failures, existing_engines, run_checks


def format_check(check: Check) -> str:
    """One check as the terminal shows it."""
    mark = "ok  " if check.ok else ("FAIL" if check.blocking else "warn")
    lines = check.detail.splitlines() or [""]
    out = [f"{mark}  {check.title}: {lines[0]}"]
    out += [f"      {line}" for line in lines[1:]]
    if not check.ok and check.fix:
        for i, line in enumerate(check.fix.splitlines()):
            out += textwrap.wrap(line, 96, initial_indent="      fix: " if i == 0 else " " * 11,
                                 subsequent_indent=" " * 11, break_on_hyphens=False)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="portside doctor",
        description="Check that this machine can run a container engine, with a fix for each "
                    "failure. Exit 0 when nothing blocks an engine, 1 otherwise.",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    args = parser.parse_args(list(argv) if argv is not None else None)
    checks = run_checks()
    blockers = blocking_failures(checks)
    if args.json:
        engines = [e.to_json() for e in existing_engines()]
        json.dump({"ok": not blockers, "checks": [c.to_json() for c in checks],
                   "existing_engines": engines}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for check in checks:
            print(format_check(check))
        if blockers:
            names = ", ".join(c.title for c in blockers)
            print(f"\nAn engine cannot run here until this is fixed: {names}.")
        else:
            print("\nNothing blocks an engine on this machine.")
    sys.stdout.flush()
    return 1 if blockers else 0


if __name__ == "__main__":
    sys.exit(main())
