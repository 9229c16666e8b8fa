#!/usr/bin/env bash
# Runs the whole test suite with real parts: installs what is missing, then runs pytest inside a
# private D-Bus session with an unlocked gnome-keyring and a virtual X screen.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" test
cd "$PORTSIDE_ROOT"
ruff check app engine tests benchmarks
mypy engine app
exec dbus-run-session -- bash "$PORTSIDE_ROOT/scripts/with-keyring.sh" \
  xvfb-run -a -s "-screen 0 1280x800x24" python -m pytest "$@"
