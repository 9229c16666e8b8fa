#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: Debian packages when missing (and we may
# install them), then a virtualenv in .venv with Portside installed in editable mode.
# Usage: source scripts/setup.sh <run|test>
set -euo pipefail
PORTSIDE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-run}"

# What the app needs at run time: the engine and Qt's xcb/EGL libraries.
run_pkgs=(docker.io iptables iproute2 libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4
  libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0 libegl1 libgl1
  libfontconfig1 libdbus-1-3 gnome-keyring dbus)
# What the tests add: a registry with htpasswd auth, a keyring session, a virtual screen, a static
# busybox for offline images, the Go credential helpers as a peer, and hyperfine for benchmarks.
test_pkgs=(docker-registry apache2-utils busybox-static golang-docker-credential-helpers
  xvfb xauth dbus-x11 hyperfine rootlesskit slirp4netns uidmap)

pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  # Root installs directly, a user with password-less sudo through sudo; anyone else (or
  # PORTSIDE_NO_APT=1, or a machine without apt-get) gets the exact command and a clean stop.
  can_install=0
  if [ "${PORTSIDE_NO_APT:-}" != 1 ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then SUDO=(); can_install=1
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=(sudo -n); can_install=1
    fi
  fi
  if [ "$can_install" = 1 ]; then
    echo "portside: installing Debian packages: ${missing[*]}" >&2
    "${SUDO[@]}" apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "portside: these Debian packages are missing: ${missing[*]}" >&2
    echo "portside: install them, then run this again:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

PY="${PORTSIDE_PYTHON:-python3}"
VENV="$PORTSIDE_ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.portside-installed-$mode"
if [ ! -f "$stamp" ] || [ "$PORTSIDE_ROOT/pyproject.toml" -nt "$stamp" ]; then
  # editable_mode=compat is a plain .pth path entry: setuptools' import-hook finder would add
  # ~20 ms to every start of docker-credential-portside, which the docker CLI runs on each pull.
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    -e "$PORTSIDE_ROOT$([ "$mode" = test ] && echo '[test]')" --config-settings editable_mode=compat
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
