"""Starting Portside's own Python modules as child processes, from a checkout or a bundle.

A checkout or a pip install runs ``python -m engine.lifecycle.supervisor``. In the bundle
(PyInstaller, ``sys.frozen``) ``sys.executable`` is the ``portside`` program itself, which has no
``-m``: it is started as ``portside --portside-run-module MODULE ARGS...`` and ``app.__main__``
hands that to :func:`run_module` before anything else (no Qt is imported on that path).
"""

from __future__ import annotations

import runpy
import sys

RUN_MODULE_FLAG = "--portside-run-module"
#: the only modules a bundle may be asked to run this way
RUNNABLE = frozenset({"engine.lifecycle.supervisor"})


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def module_command(module: str) -> list[str]:
    """The argv that runs ``module`` as ``__main__`` in this installation."""
    if frozen():
        return [sys.executable, RUN_MODULE_FLAG, module]
    return [sys.executable, "-m", module]


def app_command() -> list[str]:
    """The argv that starts the desktop app of this installation."""
    return [sys.executable] if frozen() else [sys.executable, "-m", "app"]


def run_module(args: list[str]) -> int:
    """``[MODULE, ARGS...]`` after :data:`RUN_MODULE_FLAG`: run it as ``__main__``."""
    if not args or args[0] not in RUNNABLE:
        print(f"portside: {RUN_MODULE_FLAG} takes one of: {', '.join(sorted(RUNNABLE))}",
              file=sys.stderr)
        return 2
    sys.argv = [args[0], *args[1:]]
    try:
        runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
