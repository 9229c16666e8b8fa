#!/usr/bin/env bash
# Sourced by scripts/setup.sh and scripts/fresh-machine.sh: `ensure_debian_packages PKG...` asks
# dpkg-query which of PKG are not installed and installs those with apt-get, directly as root or
# through password-less `sudo -n`; anyone else (or PORTSIDE_NO_APT=1, or no apt-get) gets the exact
# `apt-get install` line on stderr and a non-zero return. A system without dpkg-query is not
# Debian: nothing is checked there. tests/test_setup_scripts.py drives it with fake tools on PATH.

ensure_debian_packages() {
  local missing=() p
  command -v dpkg-query >/dev/null || return 0
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0

  local line="sudo apt-get install --no-install-recommends ${missing[*]}"
  local -a sudo=()
  local can_install=0
  if [ "${PORTSIDE_NO_APT:-}" != 1 ] && command -v apt-get >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      can_install=1
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
      can_install=1
    fi
  fi
  if [ "$can_install" != 1 ]; then
    echo "portside: these Debian packages are missing: ${missing[*]}" >&2
    echo "portside: install them, then run this again:" >&2
    echo "  $line" >&2
    return 1
  fi
  echo "portside: installing Debian packages: ${missing[*]}" >&2
  # ${sudo[@]+...}: an empty array is "unbound" to `set -u` on bash before 4.4. `env` after sudo:
  # sudo's env_reset would drop DEBIAN_FRONTEND set in front of it.
  if ! ${sudo[@]+"${sudo[@]}"} apt-get update -q >/dev/null \
    || ! ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "portside: apt-get could not install ${missing[*]} (its message is above)." >&2
    echo "portside: fix that (network, package sources), or run this yourself and try again:" >&2
    echo "  $line" >&2
    return 1
  fi
}
