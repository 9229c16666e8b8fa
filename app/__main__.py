"""``portside``: the desktop app, plus ``portside engine ...`` for headless use.

``portside engine``, ``credentials``, ``doctor``, ``context``, ``diagnostics`` and ``--version``
never import Qt, so they work on a machine with no display and stay fast.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``portside`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--portside-run-module"]:  # engine/selfexec.py: a bundle's child process
        from engine.selfexec import run_module

        return run_module(args[1:])
    if args[:1] in (["--version"], ["-V"]):
        from engine import __version__

        print(f"portside {__version__}")
        return 0
    if args[:1] == ["engine"]:
        from engine.cli import main as engine_main

        return engine_main(args[1:])
    if args[:1] == ["credentials"]:
        from engine.credentials.cli import main as credentials_main

        return credentials_main(args[1:])
    if args[:1] == ["doctor"]:
        from engine.doctor_cli import main as doctor_main

        return doctor_main(args[1:])
    if args[:1] == ["context"]:
        from engine.context_cli import main as context_main

        return context_main(args[1:])
    if args[:1] == ["diagnostics"]:
        import os
        from pathlib import Path

        import platformdirs

        from app.settings import default_path
        from engine.diagnostics.cli import main as diagnostics_main

        logs = os.environ.get("PORTSIDE_LOG_DIR") or platformdirs.user_log_dir("portside")
        return diagnostics_main(
            args[1:], settings_file=default_path(), app_log=Path(logs) / "portside.log"
        )
    from app.gui import run_gui

    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
