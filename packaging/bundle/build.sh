#!/usr/bin/env bash
# Builds Portside's self-contained Linux bundle: one folder with `portside` and
# `docker-credential-portside` and everything they load (Python, Qt, the packages, the icons).
# It runs on a machine with no Python and no pip packages.
#
#   bash packaging/bundle/build.sh            -> build/bundle/portside/  (not committed)
#
# PORTSIDE_BUNDLE_VM=1 also ships the VM image built for this machine's arch
# (packaging/vm/build.sh) in _internal/share/portside/vm/, where engine/vm/image.py looks.
#
# What runs: a build venv (.bundle-venv, from the system's python3 so the bundle links the
# distribution's libpython) gets this checkout (non-editable) and PyInstaller; PyInstaller
# reads packaging/bundle/portside.spec. PORTSIDE_BUILD_DIR moves the output folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${PORTSIDE_BUILD_DIR:-$root/build}"
venv="$root/.bundle-venv"
pyinstaller_version="6.22.3"

# shellcheck source=scripts/packages.sh
source "$root/scripts/packages.sh"
# python3-venv and libpython3.11 (the shared library PyInstaller bundles); binutils for its
# dependency scan (objdump); the Qt runtime libraries PySide6 links and PyInstaller collects.
ensure_debian_packages python3 python3-venv libpython3.11 binutils gcc libc6-dev \
  libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
  libxcb-render-util0 libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3 busybox-static \
  || exit 1

# the first-run wizard's sample image ships in the bundle (resources/, as in a checkout)
sample="$root/resources/sample-image.tar"
if [ ! -f "$sample" ] || [ -n "$(find "$root/packaging/sample-image" -type f -newer "$sample")" ]
then
  /usr/bin/python3 "$root/packaging/sample-image/build.py" --out "$sample" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "pyinstaller==$pyinstaller_version"
# non-editable: the bundle must hold the packages themselves, not a path finder into the clone
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$root"
"$venv/bin/pip" install -q --disable-pip-version-check "$root"

mkdir -p "$out"
rm -rf "$out/bundle/portside"
PORTSIDE_SRC="$root" "$venv/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$out/bundle" --workpath "$out/pyinstaller" "$root/packaging/bundle/portside.spec"
PORTSIDE_BUNDLE_PYTHON="$venv/bin/python" \
  bash "$root/packaging/bundle/helper-launcher.sh" "$out/bundle/portside"
if [ "${PORTSIDE_BUNDLE_VM:-}" = 1 ]; then
  image="$("$venv/bin/python" -c 'from engine.vm.image import find_image; i = find_image()
print(i.dir if i else "")')"
  [ -n "$image" ] || { echo "no VM image built: run packaging/vm/build.sh first" >&2; exit 1; }
  dest="$out/bundle/portside/_internal/share/portside/vm/$(basename "$(dirname "$image")")"
  mkdir -p "$dest"
  cp -a "$image" "$dest/"
fi
version="$("$out/bundle/portside/portside" --version | awk '{print $2}')"
echo "built $out/bundle/portside (Portside $version, $(du -sh "$out/bundle/portside" | cut -f1))"
