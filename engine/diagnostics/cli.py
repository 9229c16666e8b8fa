"""``portside diagnostics --out FILE.zip``: the Troubleshoot window's bundle, without a window.

For people helping a user over chat: the same zip the app writes (versions, settings, engine
log, daemon.json, VM files, system checks, the docker CLI's view, secrets redacted), and a list
of what it holds on stdout. Exit 0 when written, 1 when it could not be written, 2 for bad usage.

``app/__main__.py`` dispatches here without importing Qt and passes the settings file's path
(``app.settings.default_path()``), which ``engine`` cannot know.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from engine.diagnostics.bundle import build_bundle
from engine.diagnostics.collect import Sources
from engine.lifecycle.paths import HOME_ENV

EXIT_OK = 0
EXIT_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portside diagnostics",
        description="Write a zip to send when asking for help: versions, settings, the engine "
        "log, daemon.json, system checks. Passwords, tokens and logins are replaced by "
        "<redacted>.",
    )
    parser.add_argument(
        "--out", "-o", metavar="FILE.zip",
        help="where to write it (default: portside-diagnostics-<date>-<time>.zip here)",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE.zip if it exists")
    parser.add_argument("--home", help=f"engine folder (default: ${HOME_ENV} or a per-user one)")
    parser.add_argument("--host", "-H", metavar="URL",
                        help="the engine to ask for its version (default: DOCKER_HOST, else "
                        "Portside's own engine)")
    parser.add_argument("--docker-config", metavar="DIR",
                        help="the docker CLI's config folder (default: $DOCKER_CONFIG, else "
                        "~/.docker)")
    return parser


def main(argv: list[str], *, settings_file: Path | None, app_log: Path | None = None) -> int:
    """``portside diagnostics …``; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = Path(args.out or time.strftime("portside-diagnostics-%Y%m%d-%H%M%S.zip")).expanduser()
    if out.is_dir():
        print(f"{out} is a folder; give a file name, e.g. --out {out / 'portside.zip'}",
              file=sys.stderr)
        return EXIT_FAILED
    if out.exists() and not args.force:
        print(f"{out} already exists; choose another name or add --force to replace it.",
              file=sys.stderr)
        return EXIT_FAILED
    sources = Sources.default(
        settings_file, home=args.home, app_log=app_log,
        endpoint=args.host or os.environ.get("DOCKER_HOST") or None,
    )
    if args.docker_config:
        from dataclasses import replace

        sources = replace(sources, docker_config_dir=Path(args.docker_config).expanduser())
    progress = (lambda text: print(f"… {text}", file=sys.stderr)) if sys.stderr.isatty() else None
    try:
        report = build_bundle(out, sources, progress)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"Could not write {out}: {exc.strerror or exc}{where}. Choose a folder you can "
              "write to with --out.", file=sys.stderr)
        return EXIT_FAILED
    print(report.describe())
    print(f"Took {report.seconds:.1f} s. Send {report.path.name} to whoever helps you; look "
          "inside first if you like (it is a plain zip).")
    return EXIT_OK
