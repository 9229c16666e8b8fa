"""``portside context ...``: the settings window's CLI tab, without the GUI.

    portside context status [--json]   the docker context, the current context, the docker CLI,
                                       /var/run/docker.sock, the credential helper; exit 0 when
                                       `docker --context portside` reaches Portside's engine
                                       endpoint, 3 when not (yet), 1 on error
    portside context install           create (or re-point) the docker context "portside"
    portside context use               make it the docker CLI's current context (remembered)
    portside context undo              put back the context that was current before
    portside context remove            undo, then delete the "portside" context

``--endpoint`` overrides Portside's endpoint (default: its own engine; ``--vm`` the VM's) and
``--docker-config DIR`` the config folder. The work is :mod:`engine.cli_integration`; the
credential helper is ``portside credentials`` (:mod:`engine.credentials.toggle`).
"""

from __future__ import annotations

import argparse
import json
import sys

from engine import cli_integration as ci
from engine.errors import PortsideError

EXIT_OK, EXIT_FAILED, EXIT_NOT_SET_UP = 0, 1, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="portside context",
        description="Let the docker CLI reach Portside's engine through a docker context named "
                    "“portside” (docker --context portside ps), and make it current on request.")
    parser.add_argument("--docker-config", metavar="DIR",
                        help="the docker CLI's config folder (default: $DOCKER_CONFIG, "
                             "~/.docker)")
    parser.add_argument("--endpoint", help="the engine endpoint (default: Portside's own engine)")
    parser.add_argument("--vm", action="store_true", help="point at Portside's VM engine")
    parser.add_argument("--home", help="the engine folder (as `portside engine --home`)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = sub.add_parser("status", help="what the docker CLI uses now")
    status.add_argument("--json", action="store_true", help="print the facts as JSON")
    sub.add_parser("install", help="create or update the docker context “portside”")
    sub.add_parser("use", help="make “portside” the current docker context")
    sub.add_parser("undo", help="put back the context that was current before")
    sub.add_parser("remove", help="undo, then delete the docker context “portside”")
    return parser


def _status(args: argparse.Namespace, endpoint: str) -> int:
    from engine.credentials import toggle

    facts = ci.status(endpoint, args.docker_config)
    helper = toggle.describe(args.docker_config)
    if args.json:
        json.dump({**facts.to_json(), "credential_helper": helper.text,
                   "credential_helper_in_use": helper.working}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        name = ci.CONTEXT_NAME
        if facts.context_ok:
            print(f"ok    docker context “{name}” → {facts.endpoint}")
        elif facts.context_host:
            print(f"FAIL  docker context “{name}” points at {facts.context_host}, not "
                  f"{facts.endpoint}\n      fix: portside context install")
        else:
            print(f"FAIL  no docker context “{name}”\n      fix: portside context install")
        print(f"{'ok  ' if facts.is_current else 'info'}  current docker context: "
              f"{facts.current}" + (f" ({facts.override})" if facts.override else ""))
        if facts.config_error:
            print(f"FAIL  {facts.config_error}")
        print(f"{'ok  ' if facts.docker_cli else 'warn'}  docker CLI: "
              + (f"{facts.docker_cli} {facts.version}" if facts.docker_cli else
                 "not on PATH (install docker-cli / docker.io to use it)"))
        print(f"{'ok  ' if helper.working else 'info'}  credential helper: {helper.text}")
        if facts.socket:
            print(f"info  {facts.socket} (Portside never takes it over)")
    return EXIT_OK if facts.context_ok and not facts.config_error else EXIT_NOT_SET_UP


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    endpoint = args.endpoint or ci.portside_endpoint("vm" if args.vm else "auto", args.home)
    try:
        if args.command == "status":
            return _status(args, endpoint)
        if args.command == "install":
            tls = None if args.endpoint else ci.portside_tls("vm" if args.vm else "auto", args.home)
            change = ci.install_context(endpoint, args.docker_config, tls=tls)
        elif args.command == "use":
            change = ci.use_context(args.docker_config)
        elif args.command == "undo":
            change = ci.undo_use(args.docker_config)
        else:
            change = ci.remove_context(args.docker_config)
    except PortsideError as exc:
        print(f"portside context: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(change.message)
    if change.backup is not None:
        print(f"Backup of the previous config.json: {change.backup}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
