#!/usr/bin/env bash
# Inside a D-Bus session: start gnome-keyring's Secret Service, unlocked with an empty test
# password, then run the given command. Used by scripts/test.sh only.
set -euo pipefail
eval "$(printf '' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
exec "$@"
