#!/usr/bin/env bash
# The package's install test: builds the bundle and the .deb (packaging/linux/build-deb.sh), then
# installs it in a fresh Debian 12 machine (scripts/fresh-machine.sh --deb) and checks
# `portside --version`, the credential helper against a keyring there, `portside engine
# start`/`stop`, the window on a virtual display, and that removing it leaves no file behind.
# As root. Prints one line: "fresh-machine: package OK (...)" or what failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORTSIDE_REBUILD="${PORTSIDE_REBUILD:-1}" bash "$root/packaging/linux/build-deb.sh" >&2
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/engine/__init__.py")"
deb="${PORTSIDE_DIST_DIR:-$root/dist}/portside_${version}_$(dpkg --print-architecture).deb"
exec bash "$root/scripts/fresh-machine.sh" --deb "$deb"
