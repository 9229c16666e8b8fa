#!/usr/bin/env bash
# Puts the fast credential helper into a built bundle folder ($1, e.g. build/bundle/portside):
#   $1/docker-credential-portside        launcher.c, compiled here (execs the next line's python)
#   $1/_internal/helper/bin/python3      the build interpreter's own executable
#   $1/_internal/helper/lib/python3.X/   its standard library (without tests, tkinter, idle,
#                                        lib2to3, distutils, the static library), compiled
#   $1/_internal/helper/site/engine/     Portside's headless package (no Qt), compiled
#   $1/_internal/helper/main.py          helper_main.py
# The .pyc files are "unchecked-hash": valid whatever the files' dates (the .deb re-dates them), so
# Python never writes new ones into an installed, package-owned folder.
# Run by packaging/bundle/build.sh with PORTSIDE_BUNDLE_PYTHON set to the build venv's python.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="$1"
py="${PORTSIDE_BUNDLE_PYTHON:-python3}"
read -r base stdlib ver site < <("$py" -c 'import sys, sysconfig, os
import engine
print(os.path.realpath(sys._base_executable), sysconfig.get_paths()["stdlib"],
      "%d.%d" % sys.version_info[:2], os.path.dirname(os.path.dirname(engine.__file__)))')
helper="$bundle/_internal/helper"
rm -rf "$helper"
mkdir -p "$helper/bin" "$helper/lib" "$helper/site"
cp "$base" "$helper/bin/python3"
tar -C "$(dirname "$stdlib")" -cf - \
  --exclude='__pycache__' --exclude='*/test' --exclude='*/tests' --exclude='*/idlelib' \
  --exclude='*/tkinter' --exclude='*/turtledemo' --exclude='*/ensurepip' --exclude='*/lib2to3' \
  --exclude='*/distutils' --exclude='*/pydoc_data' --exclude='*/config-*' \
  --exclude='*/site-packages' --exclude='*/dist-packages' --exclude='*/_test*.so' \
  "$(basename "$stdlib")" | tar -C "$helper/lib" -xf -
tar -C "$site" -cf - --exclude='__pycache__' engine | tar -C "$helper/site" -xf -
cp "$here/helper_main.py" "$helper/main.py"
"$helper/bin/python3" -I -m compileall -q -j 0 --invalidation-mode unchecked-hash "$helper/lib" "$helper/site" >/dev/null
rm -f "$bundle/docker-credential-portside"
gcc -O2 -Wall -Wextra -o "$bundle/docker-credential-portside" "$here/launcher.c"
# The launcher must work before anything is installed: a quick self-check.
"$bundle/docker-credential-portside" version >/dev/null \
  || { echo "the bundled credential helper (Python $ver) does not run" >&2; exit 1; }
