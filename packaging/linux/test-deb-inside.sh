#!/usr/bin/env bash
# Runs INSIDE a fresh Debian 12 machine (scripts/fresh-machine.sh --deb), as root: installs
# Portside's .deb, hides the machine's Python, and checks what a user would do with the package.
#   $1: the .deb;  $2: a folder for the window check's flag files (shared with the host)
# Prints one "ok: ..." line per check; exits non-zero at the first failure with the reason.
set -euo pipefail
deb="$1"
flags="$2"
export DEBIAN_FRONTEND=noninteractive
ok() { echo "ok: $*"; }
die() { echo "FAILED: $*" >&2; exit 1; }

# -- install (its Depends come from the archive; Recommends are skipped but for the keyring and
#    the D-Bus session the checks below use: the QEMU ones are hundreds of MB) -------------------
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$deb" gnome-keyring dbus-user-session dbus-x11 \
  >/tmp/apt-install.log 2>&1 || { tail -n 30 /tmp/apt-install.log >&2; die "apt-get install"; }
ok "apt-get install of $(basename "$deb")"
dpkg -L portside | sort >/tmp/portside-files.txt

# -- no Python and no pip packages: the bundle must not need them ---------------------------------
for p in /usr/bin/python3* /usr/lib/python3 /usr/lib/python3.*; do
  [ -e "$p" ] && mv "$p" "$p.hidden-by-test"
done
command -v python3 >/dev/null && die "python3 is still on PATH"
ok "the machine's Python is hidden"

# -- version, menu entry ---------------------------------------------------------------------------
version="$(portside --version)"
[ "$version" = "portside $(dpkg-query -W -f='${Version}' portside)" ] \
  || die "portside --version says '$version', the package is $(dpkg-query -W -f='${Version}' portside)"
ok "$version"
grep -q '^Exec=portside' /usr/share/applications/portside.desktop || die "desktop entry"
[ -f /usr/share/icons/hicolor/scalable/apps/portside.svg ] || die "menu icon"
ok "desktop entry and icon"

# -- the credential helper against a real keyring --------------------------------------------------
cat >/tmp/helper-check.sh <<'INNER'
set -euo pipefail
home="$(mktemp -d)"
mkdir -p "$home/keyrings"
eval "$(printf 'pw' | XDG_DATA_HOME="$home" gnome-keyring-daemon --unlock --components=secrets)"
printf '{"ServerURL":"registry.example:5000","Username":"alice","Secret":"s3cr3t-T0ken"}' |
  docker-credential-portside store
got="$(echo registry.example:5000 | docker-credential-portside get)"
case "$got" in *'"Secret":"s3cr3t-T0ken"'*'' | *'"Secret": "s3cr3t-T0ken"'*) ;; *)
  echo "get returned: $got" >&2; exit 1 ;; esac
docker-credential-portside list | grep -q 'registry.example:5000'
echo registry.example:5000 | docker-credential-portside erase
if echo registry.example:5000 | docker-credential-portside get >/dev/null 2>&1; then
  echo "get still finds the login after erase" >&2; exit 1
fi
INNER
dbus-run-session -- bash /tmp/helper-check.sh || die "docker-credential-portside store/get/list/erase"
ok "docker-credential-portside store, get, list, erase"

# -- the engine, headless --------------------------------------------------------------------------
endpoint="$(portside engine start)" || die "portside engine start"
DOCKER_HOST="$endpoint" docker version --format '{{.Server.Version}}' >/tmp/server-version \
  || die "docker version against $endpoint"
portside engine status >/dev/null || die "portside engine status"
portside engine stop >/dev/null || die "portside engine stop"
ok "portside engine start ($endpoint, dockerd $(cat /tmp/server-version)), status, stop"

# -- the window: the host's xdotool looks for it while this waits ---------------------------------
dbus-run-session -- bash -c 'portside >/tmp/app.log 2>&1 & pid=$!
  echo "$pid" >"'"$flags"'/app.pid"
  for _ in $(seq 600); do [ -e "'"$flags"'/window-seen" ] && break
    kill -0 "$pid" 2>/dev/null || exit 1; sleep 0.2; done
  [ -e "'"$flags"'/window-seen" ] || exit 2
  kill -TERM "$pid"; wait "$pid"' \
  || { tail -n 30 /tmp/app.log >&2; die "the app's window (see /tmp/app.log)"; }
ok "the window opened and the app quit on SIGTERM"

# -- uninstall leaves no file of the package; purge says where the user's data is ----------------
apt-get remove -y -qq portside >/tmp/apt-remove.log 2>&1 || die "apt-get remove"
left=""
while read -r f; do
  [ -d "$f" ] && [ ! -L "$f" ] && continue   # folders other packages share (/usr/bin, ...)
  if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done </tmp/portside-files.txt
[ -z "$left" ] || die "files left after apt-get remove:$left"
[ ! -e /opt/portside ] || die "/opt/portside left after apt-get remove: $(find /opt/portside | head)"
ok "apt-get remove left no file of the package ($(wc -l </tmp/portside-files.txt) paths checked)"
dpkg --purge portside >/tmp/purge.log 2>&1 || die "dpkg --purge"
grep -q "~/.local/share/portside" /tmp/purge.log || die "purge did not say where the data is"
ok "purge says where each user's data is"
