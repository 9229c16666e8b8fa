#!/usr/bin/env bash
# Adds Portside to the desktop's application menu for the current user: the .desktop entry and
# the app icon under ~/.local/share (XDG_DATA_HOME). Run after `bash scripts/run.sh` has created
# .venv; the entry runs that venv's `portside`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
exe="$root/.venv/bin/portside"
[ -x "$exe" ] || { echo "No $exe yet: run 'bash scripts/run.sh' once first." >&2; exit 1; }
install -Dm644 "$root/resources/icons/portside.svg" "$data/icons/hicolor/scalable/apps/portside.svg"
mkdir -p "$data/applications"
sed "s|^Exec=portside|Exec=$exe|" "$root/packaging/linux/portside.desktop" \
  > "$data/applications/portside.desktop.tmp"
mv "$data/applications/portside.desktop.tmp" "$data/applications/portside.desktop"
echo "Installed $data/applications/portside.desktop"
