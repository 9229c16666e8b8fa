#!/usr/bin/env bash
# Builds dist/Portside.app on a Mac (cannot run on Linux; tests/test_packaging_specs.py checks
# the spec from Linux). Needs Python 3.11+, Homebrew's qemu (`brew install qemu`) and the VM
# images built on Linux (`sudo bash packaging/vm/build.sh --arch arm64` and `--arch x86_64`),
# copied to $PORTSIDE_VM_IMAGES (default ~/Library/Caches/portside/vm).
#   bash packaging/macos/build.sh              -> dist/Portside.app (unsigned)
#   PORTSIDE_MACOS_SIGN_IDENTITY="Developer ID Application: NAME (TEAMID)" bash ... (signed)
# then packaging/macos/notarize.sh submits and staples it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ "$(uname -s)" = Darwin ] || { echo "packaging/macos/build.sh runs on macOS only" >&2; exit 1; }
venv="$root/.bundle-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "pyinstaller==6.22.3" "$root"
python3 "$root/packaging/sample-image/build.py" --out "$root/resources/sample-image.tar"
export PORTSIDE_SRC="$root"
export PORTSIDE_QEMU_DIR="${PORTSIDE_QEMU_DIR:-$(brew --prefix qemu)/bin}"
export PORTSIDE_VM_IMAGES="${PORTSIDE_VM_IMAGES:-$HOME/Library/Caches/portside/vm}"
"$venv/bin/pyinstaller" --noconfirm --distpath "$root/dist" --workpath "$root/build/macos" \
  "$root/packaging/macos/portside.spec"
echo "built $root/dist/Portside.app"
