#!/usr/bin/env bash
# Inside a D-Bus session: start gnome-keyring's Secret Service with a throw-away "login" keyring
# (in a temporary folder, unlocked with a throw-away password), then run the given command.
# Used by scripts/test.sh only, so tests never touch the user's real keyring.
set -euo pipefail
keyring_home="$(mktemp -d -t portside-keyring.XXXXXX)"
trap 'rm -rf "$keyring_home"' EXIT
mkdir -p "$keyring_home/keyrings"
# --unlock reads the password from stdin and creates the login keyring with it when missing.
eval "$(printf 'portside-test' | XDG_DATA_HOME="$keyring_home" \
  gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
