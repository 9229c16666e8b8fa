#!/usr/bin/env bash
# Proves the README's promise on a machine that has nothing: a minimal Debian 12 inside a container
# runs `bash scripts/test.sh`, then `bash scripts/run.sh` until the Portside window is up.
#
# What runs where (all on this host, as root):
#   1. debootstrap builds a minbase Debian 12 root filesystem once; its tarball is cached outside
#      the repository ($PORTSIDE_FRESH_CACHE, default /var/cache/portside-fresh-machine).
#   2. A private dockerd of our own (own data root, exec root, socket, pidfile; vfs storage, no
#      bridge, no iptables) imports it, and runs the "machine": a container with the privileges a
#      dockerd needs (every capability but CAP_SYS_RESOURCE, which root lacks here, so no
#      --privileged), a private cgroup namespace, --init as PID 1, and no network of its own:
#      slirp4netns gives it a user-mode one, so the engines inside never touch the host's bridges
#      or iptables.
#   3. The machine gets what any machine here has: the host's apt sources and settings, the CA
#      files of the HTTPS proxy, pip's certificate/timeout settings (no local wheel folders, so
#      every Python package comes from PyPI). Then a clean `git clone` of HEAD, at /srv/portside.
#   4. Inside: `bash scripts/test.sh` (installs packages, venv, runs ruff, mypy, pytest).
#   5. Inside: `bash scripts/run.sh` on an Xvfb display of the host's (its socket bound in);
#      xdotool on the host waits for the "Portside" window.
#   6. One line with both results on stdout; every log in $PORTSIDE_FRESH_CACHE/last-run/. The
#      container, the private dockerd, slirp4netns and Xvfb are ended by their pids on any exit.
# Usage: bash scripts/fresh-machine.sh   (as root; FRESH_MACHINE_VERBOSE=1 shows the inner output)
#
# With --deb FILE it checks the package instead of the README's commands (steps 4-5 become
# packaging/linux/test-deb-inside.sh in the same kind of machine: install the .deb, hide Python,
# portside --version, the credential helper against a keyring, the engine, the window, remove and
# purge); packaging/linux/test-deb.sh builds the .deb and calls this.
set -euo pipefail
DEB=""
if [ "${1:-}" = --deb ]; then
  DEB="$(realpath "${2:?--deb needs the .deb file}")"
  [ -f "$DEB" ] || { echo "fresh-machine: no such .deb: $DEB" >&2; exit 1; }
fi
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PORTSIDE_FRESH_CACHE:-/var/cache/portside-fresh-machine}"
# Bump the suffix when the debootstrap line changes, so the cache is rebuilt.
ROOTFS_TAR="$CACHE/debian12-minbase-v1.tar"
LOGS="$CACHE/last-run${DEB:+-deb}"
TEST_TIMEOUT="${FRESH_MACHINE_TEST_TIMEOUT:-2400}"
WINDOW_TIMEOUT="${FRESH_MACHINE_WINDOW_TIMEOUT:-300}"
IMAGE="portside-fresh-machine:debian12"
NAME="portside-fresh-machine${DEB:+-deb}"
START=$(date +%s)

say() { [ "${FRESH_MACHINE_VERBOSE:-}" = 1 ] && echo "fresh-machine: $*" >&2; return 0; }
fail() {
  # $1: the one result line's reason; $2 (optional): a log whose end explains it
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "--- last lines of $2:" >&2
    tail -n 40 "$2" >&2
  fi
  echo "fresh-machine: FAILED: $1 (logs: $LOGS)"
  exit 1
}

# Anything unexpected still ends in one line that says where.
trap 'echo "fresh-machine: FAILED at line $LINENO: $BASH_COMMAND (logs: $LOGS)"' ERR

if [ "$(id -u)" != 0 ]; then
  echo "fresh-machine: run this as root (it runs a dockerd and a privileged container)." >&2
  exit 1
fi

# -- host tools ----------------------------------------------------------------------------------
# shellcheck source=scripts/packages.sh
source "$REPO/scripts/packages.sh"
ensure_debian_packages debootstrap docker.io slirp4netns xvfb xdotool git ca-certificates \
  || exit 1
DOCKER="$(command -v docker)" || fail "no docker CLI on PATH"

mkdir -p "$CACHE"
rm -rf "$LOGS"
mkdir -p "$LOGS"

# -- 1. the root filesystem (once) ----------------------------------------------------------------
mirror() {
  # The host's own Debian mirror (a dated snapshot on CI machines), else Debian's.
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -v security | head -n1 || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^http/) {
      print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_rootfs() {
  local tmp
  tmp=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  say "debootstrap of Debian 12 from $(mirror) (once; cached in $ROOTFS_TAR)"
  # python3 and git: what someone who cloned the repository has; the rest comes from setup.sh.
  if ! debootstrap --variant=minbase --include=python3,git,ca-certificates bookworm \
    "$tmp/root" "$(mirror)" >"$LOGS/debootstrap.log" 2>&1; then
    rm -rf "$tmp"
    fail "debootstrap of the Debian 12 root filesystem failed" "$LOGS/debootstrap.log"
  fi
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb
  tar -C "$tmp/root" --numeric-owner -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$ROOTFS_TAR"
  rm -rf "$tmp"
}
(
  flock 9
  [ -s "$ROOTFS_TAR" ] || build_rootfs
) 9>"$CACHE/.lock"

# -- clean-up, on every exit ----------------------------------------------------------------------
RUN=$(mktemp -d /tmp/pfm.XXXXXX) # short: the dockerd socket path must stay under 108 bytes
DOCKERD_PID=""
SLIRP_PID=""
XVFB_PID=""
dk() { "$DOCKER" -H "unix://$RUN/docker.sock" "$@"; }

end_pid() {
  # TERM, up to $2 seconds, then KILL; only the pid we started.
  local pid="$1" wait_s="${2:-10}" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    timeout 120 "$DOCKER" -H "unix://$RUN/docker.sock" rm -f "$NAME" >/dev/null 2>&1
  fi
  end_pid "$SLIRP_PID" 5
  end_pid "$DOCKERD_PID" 30
  # dockerd ends the containerd it started; after a KILL that one is left: ours by its paths.
  local pid
  for pid in $(pgrep -f -- "$RUN/" 2>/dev/null); do
    if [ "$pid" != $$ ]; then end_pid "$pid" 5; fi
  done
  end_pid "$XVFB_PID" 5
  # a killed Xvfb leaves its socket and lock: remove them only while the lock still names ours
  if [ -n "${DISPLAY_NUM:-}" ] &&
    [ "$({ tr -dc 0-9 <"/tmp/.X$DISPLAY_NUM-lock"; } 2>/dev/null)" = "$XVFB_PID" ]; then
    rm -f "/tmp/.X11-unix/X$DISPLAY_NUM" "/tmp/.X$DISPLAY_NUM-lock"
  fi
  # Mounts a killed dockerd may have left (shm, netns): deepest first, then the folder.
  awk -v run="$RUN/" 'index($2, run) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'echo "fresh-machine: FAILED: interrupted (logs: $LOGS)"; exit 130' INT TERM

# -- 2. the private dockerd and the machine image -------------------------------------------------
echo '{}' >"$RUN/daemon.json"
say "starting a private dockerd (data root $RUN/data)"
dockerd --data-root "$RUN/data" --exec-root "$RUN/exec" --pidfile "$RUN/dockerd.pid" \
  --host "unix://$RUN/docker.sock" --config-file "$RUN/daemon.json" \
  --storage-driver vfs --bridge none --iptables=false --ip-masq=false \
  --containerd-namespace portside-fresh --containerd-plugins-namespace portside-fresh-plugins \
  >"$LOGS/outer-dockerd.log" 2>&1 &
DOCKERD_PID=$!
for ((i = 0; i < 600; i++)); do
  dk version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || fail "the private dockerd exited" "$LOGS/outer-dockerd.log"
  sleep 0.1
done
dk version >/dev/null 2>&1 || fail "the private dockerd did not answer in 60 s" \
  "$LOGS/outer-dockerd.log"
dk import "$ROOTFS_TAR" "$IMAGE" >/dev/null

# -- 3. what the machine gets from this host ------------------------------------------------------
HOSTCFG="$RUN/host"
mkdir -p "$HOSTCFG/apt/sources.list.d" "$HOSTCFG/apt/apt.conf.d" "$HOSTCFG/ca" "$HOSTCFG/keyrings"
if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$HOSTCFG/apt/"; fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  if [ -f "$f" ]; then cp "$f" "$HOSTCFG/apt/sources.list.d/"; fi
done
# keyrings the sources name with signed-by / Signed-By (the inner machine may lack them)
keys=$({ grep -rhoiE 'signed-by[=:][[:space:]]*[^] ]+' /etc/apt/sources.list \
  /etc/apt/sources.list.d 2>/dev/null || true; } | sed -E 's/^[^=:]*[=:][[:space:]]*//' | sort -u)
for k in $keys; do
  if [ -f "$k" ]; then cp --parents "$k" "$HOSTCFG/keyrings/"; fi
done
for f in /etc/apt/apt.conf.d/*; do
  if [ -f "$f" ] && grep -qiE 'Proxy|Check-Valid-Until|Check-Date' "$f"; then
    cp "$f" "$HOSTCFG/apt/apt.conf.d/"
  fi
done
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$HOSTCFG/ca/" \; 2>/dev/null
# pip: certificate, timeouts, retries, proxies and http(s) indexes; never local wheel folders
# (find-links, file:// indexes) nor constraint files that exist only here.
pip_list() {
  local py
  for py in "$REPO/.venv/bin/python" python3; do
    if "$py" -m pip --version >/dev/null 2>&1; then
      "$py" -m pip config list 2>/dev/null
      return 0
    fi
  done
}
{
  echo "[global]"
  pip_list | sed -nE "s/^[^.]*\.([a-z-]+)='(.*)'$/\1 \2/p" | while read -r key value; do
    case "$key" in
      cert) echo "cert = /etc/ssl/certs/ca-certificates.crt" ;;
      timeout | default-timeout) echo "timeout = $value" ;;
      retries | trusted-host | proxy) echo "$key = $value" ;;
      index-url | extra-index-url)
        urls=$(tr ' ' '\n' <<<"$value" | grep -E '^https?://' | tr '\n' ' ' || true)
        if [ -n "$urls" ]; then echo "$key = $urls"; fi ;;
    esac
  done | sort -u
} >"$HOSTCFG/pip.conf"
# names this host's /etc/hosts gives (other than the loopback ones)
add_hosts=()
while read -r ip names; do
  case "$ip" in '' | \#* | 127.* | ::1 | fe00::* | ff0*) continue ;; esac
  for n in $names; do add_hosts+=(--add-host "$n:$ip"); done
done </etc/hosts
env_pass=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  if [ -n "${!v:-}" ]; then env_pass+=(-e "$v=${!v}"); fi
done

cat >"$HOSTCFG/prepare.sh" <<'EOF'
# Runs inside the machine once, as root, before anything else.
set -euo pipefail
mount -o remount,rw /sys
mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/mounts | while read -r m; do
  mount -o remount,bind,rw "$m"
done
rm -f /etc/apt/sources.list
cp -r /run/host/apt/. /etc/apt/
cp -r /run/host/keyrings/. / 2>/dev/null || true
cp /run/host/ca/*.crt /usr/local/share/ca-certificates/ 2>/dev/null || true
update-ca-certificates >/dev/null 2>&1
cp /run/host/pip.conf /etc/pip.conf
echo "nameserver 10.0.2.3" >/etc/resolv.conf # slirp4netns's DNS, which asks the host's
# slirp4netns configures tap0; wait for its default route (no iproute2 here yet)
for _ in $(seq 100); do
  awk '$1 == "tap0" && $2 == "00000000" {found = 1} END {exit !found}' /proc/net/route && exit 0
  sleep 0.1
done
echo "no default route through tap0 after 10 s" >&2
exit 1
EOF

mkdir -p "$RUN/pkg/flags"
if [ -n "$DEB" ]; then
  cp "$DEB" "$REPO/packaging/linux/test-deb-inside.sh" "$RUN/pkg/"
fi

# -- the clean clone ------------------------------------------------------------------------------
COMMIT=$(git -C "$REPO" rev-parse HEAD)
git clone -q --no-local "$REPO" "$RUN/src" 2>"$LOGS/clone.log" || fail "git clone failed" \
  "$LOGS/clone.log"
git -C "$RUN/src" checkout -q --detach "$COMMIT"

# -- the display (for step 5) ---------------------------------------------------------------------
mkdir -p /tmp/.X11-unix
chmod 1777 /tmp/.X11-unix
: >"$RUN/display" # exists before Xvfb's shell opens it
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>>"$RUN/display" >"$LOGS/xvfb.log" 2>&1 &
XVFB_PID=$!
DISPLAY_NUM=""
for ((i = 0; i < 100; i++)); do
  DISPLAY_NUM=$(tr -dc 0-9 <"$RUN/display")
  [ -n "$DISPLAY_NUM" ] && break
  kill -0 "$XVFB_PID" 2>/dev/null || fail "Xvfb did not start" "$LOGS/xvfb.log"
  sleep 0.1
done
[ -n "$DISPLAY_NUM" ] || fail "Xvfb gave no display number in 10 s" "$LOGS/xvfb.log"
X_SOCKET="/tmp/.X11-unix/X$DISPLAY_NUM"

# -- the machine ----------------------------------------------------------------------------------
say "starting the machine (clone of $COMMIT)"
dk run -d --name "$NAME" --hostname fresh-debian12 --init --cgroupns private --network none \
  --shm-size 1g \
  --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
  --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
  --device-cgroup-rule 'a *:* rwm' --device /dev/net/tun --device /dev/fuse \
  -v "$HOSTCFG:/run/host:ro" -v "$RUN/src:/srv/portside" -v "$X_SOCKET:$X_SOCKET" \
  -v "$RUN/pkg:/run/pkg" \
  ${add_hosts[@]+"${add_hosts[@]}"} \
  "$IMAGE" sleep infinity >/dev/null 2>"$LOGS/machine.log" \
  || fail "the machine's container did not start" "$LOGS/machine.log"
MACHINE_PID=$(dk inspect -f '{{.State.Pid}}' "$NAME")
slirp4netns --configure --mtu=65520 --disable-host-loopback "$MACHINE_PID" tap0 \
  >"$LOGS/slirp4netns.log" 2>&1 &
SLIRP_PID=$!
dk exec "$NAME" bash /run/host/prepare.sh >"$LOGS/prepare.log" 2>&1 \
  || fail "preparing the machine failed" "$LOGS/prepare.log"

in_machine() {
  # in_machine LOG COMMAND...: the command in the clone, as root, like a login on a fresh machine
  local log="$1"
  shift
  if [ "${FRESH_MACHINE_VERBOSE:-}" = 1 ]; then
    dk exec -w /srv/portside ${env_pass[@]+"${env_pass[@]}"} "$NAME" "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
  fi
  dk exec -w /srv/portside ${env_pass[@]+"${env_pass[@]}"} "$NAME" "$@" >"$log" 2>&1
}

# -- the package check (--deb) instead of steps 4-5 -----------------------------------------------
if [ -n "$DEB" ]; then
  say "installing $(basename "$DEB") inside and checking it (the log: $LOGS/deb.log)"
  t0=$(date +%s)
  dk exec -e "DISPLAY=:$DISPLAY_NUM" ${env_pass[@]+"${env_pass[@]}"} "$NAME" \
    bash /run/pkg/test-deb-inside.sh "/run/pkg/$(basename "$DEB")" /run/pkg/flags \
    >"$LOGS/deb.log" 2>&1 &
  inside=$!
  while kill -0 "$inside" 2>/dev/null; do
    if [ -s "$RUN/pkg/flags/app.pid" ] && [ ! -e "$RUN/pkg/flags/window-seen" ] &&
      DISPLAY=":$DISPLAY_NUM" xdotool search --onlyvisible --name '^Portside$' >/dev/null 2>&1
    then
      touch "$RUN/pkg/flags/window-seen"
    fi
    sleep 0.5
  done
  deb_rc=0
  wait "$inside" || deb_rc=$?
  checks=$(grep -c '^ok: ' "$LOGS/deb.log" || true)
  total_s=$(($(date +%s) - START))
  if [ "$deb_rc" = 0 ]; then
    echo "fresh-machine: package OK ($checks checks in $(($(date +%s) - t0)) s:" \
      "$(sed -n 's/^ok: //p' "$LOGS/deb.log" | paste -sd ';' | sed 's/;/; /g'))" \
      "(Debian 12 container, ${total_s} s in all)"
    exit 0
  fi
  echo "--- last lines of $LOGS/deb.log:" >&2
  tail -n 40 "$LOGS/deb.log" >&2
  echo "fresh-machine: package FAILED after $checks checks: $(grep -m1 '^FAILED' "$LOGS/deb.log" \
    || echo "exit $deb_rc") (logs: $LOGS)"
  exit 1
fi

# -- 4. the README's test command ------------------------------------------------------------------
say "bash scripts/test.sh inside (the log: $LOGS/test.log)"
t0=$(date +%s)
test_rc=0
# FRESH_MACHINE_PYTEST_ARGS (to debug this script only): pytest arguments for test.sh
# shellcheck disable=SC2086
in_machine "$LOGS/test.log" timeout "$TEST_TIMEOUT" bash scripts/test.sh \
  ${FRESH_MACHINE_PYTEST_ARGS:-} || test_rc=$?
test_s=$(($(date +%s) - t0))
summary=$(grep -E '^=+ .*\b(passed|failed|errors?|no tests ran)\b.* in [0-9.]+s' "$LOGS/test.log" |
  tail -n1 | sed -E 's/^=+ //; s/ =+$//; s/ in [0-9.]+s.*//' || true)
scope=""
[ -n "${FRESH_MACHINE_PYTEST_ARGS:-}" ] && scope=" of ONLY: $FRESH_MACHINE_PYTEST_ARGS"
if [ "$test_rc" = 0 ]; then
  tests_part="tests passed ($summary in ${test_s} s$scope)"
else
  tests_part="tests FAILED (bash scripts/test.sh exited $test_rc after ${test_s} s:"
  tests_part+=" ${summary:-no pytest summary}$scope)"
fi

# -- 5. the README's run command, until the window is up (also after failed tests: both results) --
say "bash scripts/run.sh inside, on display :$DISPLAY_NUM"
dk exec -d -w /srv/portside -e "DISPLAY=:$DISPLAY_NUM" ${env_pass[@]+"${env_pass[@]}"} "$NAME" \
  bash -c 'echo $$ >/tmp/run.pid; exec bash scripts/run.sh >/tmp/run.log 2>&1'
t0=$(date +%s)
window=""
app_part=""
while [ $(($(date +%s) - t0)) -lt "$WINDOW_TIMEOUT" ]; do
  window=$(DISPLAY=":$DISPLAY_NUM" xdotool search --onlyvisible --name '^Portside$' 2>/dev/null |
    head -n1 || true)
  [ -n "$window" ] && break
  if ! dk exec "$NAME" sh -c 'kill -0 "$(cat /tmp/run.pid)"' 2>/dev/null; then
    app_part="app FAILED (scripts/run.sh exited before its window showed)"
    break
  fi
  sleep 0.5
done
window_s=$(($(date +%s) - t0))
dk exec "$NAME" cat /tmp/run.log >"$LOGS/run.log" 2>&1 || true
if [ -n "$window" ]; then
  app_part="app window up in ${window_s} s"
  DISPLAY=":$DISPLAY_NUM" xdotool getwindowgeometry "$window" >"$LOGS/window.txt" 2>&1 || true
elif [ -z "$app_part" ]; then
  app_part="app FAILED (no Portside window in ${WINDOW_TIMEOUT} s)"
fi

total_s=$(($(date +%s) - START))
line="fresh-machine: $tests_part, $app_part (Debian 12 container, commit ${COMMIT:0:10},"
line+=" ${total_s} s in all)"
if [ "$test_rc" = 0 ] && [ -n "$window" ]; then
  echo "$line"
  exit 0
fi
for log in test run; do
  if { [ "$log" = test ] && [ "$test_rc" != 0 ]; } || { [ "$log" = run ] && [ -z "$window" ]; }
  then
    echo "--- last lines of $LOGS/$log.log:" >&2
    tail -n 40 "$LOGS/$log.log" >&2
  fi
done
echo "$line (logs: $LOGS)"
exit 1
