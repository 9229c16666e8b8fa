#!/usr/bin/env bash
# Builds the .deb and the .tar.gz of Portside from the bundle (packaging/bundle/build.sh, run
# first when build/bundle/portside is missing or PORTSIDE_REBUILD=1):
#
#   bash packaging/linux/build-deb.sh   -> dist/portside_<version>_<arch>.deb
#                                          dist/portside-<version>-linux-<machine>.tar.gz
#
# The .deb installs the bundle under /opt/portside, `portside` and `docker-credential-portside` on
# PATH (/usr/bin symlinks), the desktop entry and icon for the application menu. Removing it
# leaves every user's data, settings and keyring entries alone; purging says where they are.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${PORTSIDE_BUILD_DIR:-$root/build}"
dist="${PORTSIDE_DIST_DIR:-$root/dist}"
bundle="$out/bundle/portside"

if [ ! -x "$bundle/portside" ] || [ "${PORTSIDE_REBUILD:-}" = 1 ]; then
  bash "$root/packaging/bundle/build.sh"
fi
# shellcheck source=scripts/packages.sh
source "$root/scripts/packages.sh"
ensure_debian_packages dpkg-dev || exit 1

version="$("$bundle/portside" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
machine="$(uname -m)"
stage="$out/deb-root"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
  "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/portside"
cp -a "$bundle" "$stage/opt/portside"
ln -s /opt/portside/portside "$stage/usr/bin/portside"
ln -s /opt/portside/docker-credential-portside "$stage/usr/bin/docker-credential-portside"
install -m644 "$root/packaging/linux/portside.desktop" "$stage/usr/share/applications/"
install -m644 "$root/resources/icons/portside.svg" "$stage/usr/share/icons/hicolor/scalable/apps/"
install -m644 "$root/packaging/linux/copyright" "$stage/usr/share/doc/portside/copyright"
install -m755 "$root/packaging/linux/postinst" "$root/packaging/linux/postrm" "$stage/DEBIAN/"
size_kib="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size_kib/" \
  "$root/packaging/linux/control.in" >"$stage/DEBIAN/control"
# Reproducible: every file dated by the last commit, owned by root. zstd (which Debian 12 and
# Ubuntu 22.04 read): xz -6 made a 53 MB package in 2m20s here, zstd about the same size in seconds.
epoch="$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)"
find "$stage" -exec touch -h -d "@$epoch" {} +
mkdir -p "$dist"
deb="$dist/portside_${version}_${arch}.deb"
SOURCE_DATE_EPOCH="$epoch" dpkg-deb --root-owner-group -Zzstd --build "$stage" "$deb" >/dev/null

# The same bundle for other distributions: unpack anywhere and run ./portside.
tarname="portside-$version-linux-$machine"
tarstage="$out/tar-root/$tarname"
rm -rf "$out/tar-root"
mkdir -p "$tarstage/share/applications" "$tarstage/share/icons/hicolor/scalable/apps"
cp -a "$bundle/." "$tarstage/"
install -m644 "$root/packaging/linux/portside.desktop" "$tarstage/share/applications/"
install -m644 "$root/resources/icons/portside.svg" "$tarstage/share/icons/hicolor/scalable/apps/"
tar -C "$out/tar-root" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  -czf "$dist/$tarname.tar.gz" "$tarname"
rm -rf "$out/tar-root"
echo "built $deb ($(du -h "$deb" | cut -f1)) and $dist/$tarname.tar.gz" \
  "($(du -h "$dist/$tarname.tar.gz" | cut -f1)); bundle $(du -sh "$bundle" | cut -f1)"
