#!/bin/sh
# mmdebstrap customize hook (build.sh): download the generic kernel package into the chroot's apt
# archive (synced to the build cache afterwards) without installing it, and tell build.sh which
# file it is. $1 = the root file system; DEB_ARCH and META come from build.sh.
set -eu
root=$1
# the pinned kernel (KERNEL_PKG, from pins/<arch>.txt; its version was checked with the others),
# or with --update-pins the one linux-image-<arch> depends on now
pkg=${KERNEL_PKG:-}
[ -n "$pkg" ] || pkg=$(chroot "$root" apt-cache depends "linux-image-$DEB_ARCH" | sed -n 's/.*Depends: //p' | head -1)
[ -n "$pkg" ] || { echo "fetch-kernel: no kernel behind linux-image-$DEB_ARCH" >&2; exit 1; }
chroot "$root" sh -c "cd /var/cache/apt/archives && apt-get download -q '$pkg'" >&2
file=$(chroot "$root" apt-cache show --no-all-versions "$pkg" | sed -n 's|^Filename: .*/||p' | head -1)
[ -f "$root/var/cache/apt/archives/$file" ] \
    || { echo "fetch-kernel: $file was not downloaded" >&2; exit 1; }
echo "$file" > "$META/kernel-deb"
chroot "$root" apt-cache policy "linux-image-$DEB_ARCH" > "$META/kernel-policy"
grep -h -E '^(Origin|Suite|Date):' "$root"/var/lib/apt/lists/*Release > "$META/releases" || true
