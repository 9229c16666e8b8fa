#!/usr/bin/env bash
# Runs Portside: installs what is missing, then opens the app with its own engine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" run
exec portside "$@"
