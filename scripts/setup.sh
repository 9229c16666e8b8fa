#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: Debian packages when missing (and we may
# install them), then a virtualenv in .venv with Portside installed in editable mode.
# Usage: source scripts/setup.sh <run|test>
set -euo pipefail
PORTSIDE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-run}"

# What the app needs at run time: the engine (rootless for a normal user: rootlesskit, slirp4netns,
# uidmap), Qt's xcb/EGL libraries, a keyring, Python with its venv module (Debian ships that
# apart: without python3-venv, `python3 -m venv` fails), and a static busybox, from which the
# first-run wizard's offline sample image is built. The README lists the same packages
# (tests/test_setup_scripts.py compares).
run_pkgs=(docker.io iptables iproute2 rootlesskit slirp4netns uidmap libxcb-cursor0
  libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0
  libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3 gnome-keyring dbus python3 python3-venv
  busybox-static)
# What the tests add: a registry with htpasswd auth, a keyring session, a virtual screen (busybox
# for offline test images comes with the run list), the Go credential helpers as a peer, hyperfine
# for benchmarks, the AT-SPI bus with pyatspi to read the app as a screen reader does (tests/gui/test_atspi.py),
# and QEMU, qemu-img and ssh-keygen for the VM engine's unit tests against real QEMU parts;
# desktop-file-validate checks the XDG autostart entry (tests/test_autostart.py); xterm is the
# terminal emulator "Open in system terminal" runs docker exec in (test_container_page_terminal.py);
# openssh-server is the sshd on 127.0.0.1 serving ssh:// engines (tests/support/remote_engines.py).
test_pkgs=(docker-registry apache2-utils golang-docker-credential-helpers
  xvfb xauth dbus-x11 hyperfine at-spi2-core python3-pyatspi qemu-system-x86 qemu-utils
  openssh-client openssh-server desktop-file-utils xterm)

pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

# shellcheck source=scripts/packages.sh
source "$PORTSIDE_ROOT/scripts/packages.sh"
ensure_debian_packages "${pkgs[@]}" || exit 1

PY="${PORTSIDE_PYTHON:-python3}"
VENV="$PORTSIDE_ROOT/.venv"
# No pip in it: a venv made while python3-venv was missing (ensurepip failed half-way); redo it.
if [ ! -x "$VENV/bin/python" ] || [ ! -x "$VENV/bin/pip" ]; then
  "$PY" -m venv --clear "$VENV"
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

# The first-run wizard's sample image (packaging/sample-image/): built offline from busybox when
# missing or older than its recipe; never committed.
sample="$PORTSIDE_ROOT/resources/sample-image.tar"
recipe="$PORTSIDE_ROOT/packaging/sample-image"
if [ ! -f "$sample" ] || [ -n "$(find "$recipe" -type f -newer "$sample")" ]; then
  "$VENV/bin/python" "$recipe/build.py" --out "$sample" >/dev/null ||
    echo "setup: the sample image was not built; the wizard's first container needs a registry" >&2
fi
