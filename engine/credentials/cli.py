"""``portside credentials ...``: the Accounts view's docker CLI switch, without the GUI.

Commands (for scripts and support; each says what it changed and where the backup is)::

    portside credentials status [--json]     does the docker CLI use Portside's keyring?
                                             exit 0 yes, 3 no (or not fully), 1 error
    portside credentials enable [--migrate]  install the helper on the shell's PATH, set
                                             credsStore; --migrate moves plaintext logins
                                             from config.json into the keyring
    portside credentials disable             put back the previous credsStore

``--docker-config DIR`` edits ``DIR/config.json`` instead of ``$DOCKER_CONFIG`` or ``~/.docker``.
All the work is :mod:`engine.credentials.toggle`, which the Accounts view calls too. Results go
to stdout, errors to stderr with exit 1; secrets are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from engine.cli_stdout import run_command
from engine.credentials import dockerconfig, toggle
from engine.errors import PortsideError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_IN_USE = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portside credentials",
        description="Make the docker CLI keep its registry logins in Portside's keyring "
                    "(docker-credential-portside), or stop it.")
    parser.add_argument("--docker-config", metavar="DIR",
                        help="the docker CLI's config folder (default: $DOCKER_CONFIG or "
                             "~/.docker)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = sub.add_parser("status", help="whether the docker CLI uses Portside's keyring")
    status.add_argument("--json", action="store_true", help="print the facts as JSON")
    enable = sub.add_parser("enable", help="install the helper and set credsStore")
    enable.add_argument("--migrate", action="store_true",
                        help="move plaintext logins from config.json into the keyring")
    sub.add_parser("disable", help="put back the credsStore Portside replaced")
    return parser


def _status_facts(report: toggle.CliStatus, folder: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"summary": report.text, "uses_portside": report.working,
                             "credsStore_is_portside": report.configured}
    if report.config is not None:
        config = report.config
        backup = config.path.with_name(config.path.name + dockerconfig.BACKUP_SUFFIX)
        remembered, previous = dockerconfig.remembered_store(folder)
        facts.update({
            "config": str(config.path),
            "config_target": os.path.realpath(config.path),
            "config_exists": config.exists,
            "credsStore": config.creds_store,
            "credHelpers": config.cred_helpers,
            "plaintext_logins": config.plaintext,
            "backup": str(backup) if backup.exists() else None,
            "disable_restores": previous if remembered else None,
        })
    if report.helper is not None:
        facts.update({"helper": report.helper.resolved, "helper_is_portsides": report.helper.ours,
                      "helper_is_fast_launcher": report.helper.fast})
    return facts


def cmd_status(args: argparse.Namespace) -> int:
    report = toggle.describe(args.docker_config)
    facts = _status_facts(report, args.docker_config)
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print(report.text)
        labels = [("config", "config file"), ("credsStore", "credsStore"),
                  ("helper", "helper on PATH"), ("plaintext_logins", "plaintext logins"),
                  ("credHelpers", "credHelpers"), ("backup", "last backup"),
                  ("disable_restores", "disable restores")]
        for key, label in labels:
            if key not in facts:
                continue
            value = facts[key]
            if key == "config" and facts["config_target"] != value:
                value = f"{value} → {facts['config_target']}"
            if key == "config" and not facts["config_exists"]:
                value = f"{value} (does not exist yet)"
            print(f"  {label + ':':<18}{_shown(key, value, facts)}")
    if report.config is None:
        return EXIT_FAILED
    return EXIT_OK if report.working else EXIT_NOT_IN_USE


def _shown(key: str, value: Any, facts: dict[str, Any]) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} → {v}" for k, v in value.items()) or "none"
    if value is None and key == "disable_restores":
        if facts.get("credsStore_is_portside"):
            return "plaintext in config.json (no previous credsStore)"
        return "nothing (Portside is not enabled)"
    return "none" if value is None else str(value)


def cmd_enable(args: argparse.Namespace) -> int:
    report = toggle.turn_on(migrate=args.migrate, folder=args.docker_config)
    for line in report.changes:
        print(line)
    return EXIT_OK if report.changed else EXIT_FAILED


def cmd_disable(args: argparse.Namespace) -> int:
    report = toggle.turn_off(folder=args.docker_config)
    for line in report.changes:
        print(line)
    return EXIT_OK


COMMANDS = {"status": cmd_status, "enable": cmd_enable, "disable": cmd_disable}


def main(argv: list[str]) -> int:
    """``portside credentials <command>``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        # the reader may go away (`... status | head -1`)
        return run_command(lambda: COMMANDS[args.command](args), reader_gone=EXIT_OK)
    except PortsideError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # a malformed server name on the way into the keyring
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
