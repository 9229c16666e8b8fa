#!/usr/bin/env bash
# Runs the VM tests (pytest markers `vm` and `vm_arm64`, in tests/vm/): installs QEMU and the image
# build tools when missing, builds the VM image once (cached in ~/.cache/portside/vm; the tests'
# fixture runs packaging/vm/build.sh when it is not there), boots it under QEMU/TCG and runs the
# engine, the docker CLI and the CLI's `--vm` commands against it. The default `scripts/test.sh`
# run deselects these markers. Extra arguments go to pytest, e.g. `-m vm` for x86_64 only, or
# `tests/vm/test_vm_engine.py -x`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" test
cd "$PORTSIDE_ROOT"

# QEMU for both guests, qemu-img, the arm64 root file system's emulator, the image build tools
# (packaging/vm/build.sh), busybox for the test image, and the ssh client for the API forward.
vm_pkgs=(qemu-system-x86 qemu-system-arm qemu-utils qemu-user-static mmdebstrap debootstrap
  kmod e2fsprogs cpio busybox-static openssh-client)
ensure_debian_packages "${vm_pkgs[@]}" || exit 1

ruff check engine/vm tests/vm benchmarks
mypy engine
# a nested KVM guest hangs on our CI machines; the code still picks kvm/hvf/whpx elsewhere
export PORTSIDE_VM_ACCEL="${PORTSIDE_VM_ACCEL:-tcg}"
[ $# -gt 0 ] || set -- tests/vm
# `-m` first, so a `-m` among the arguments (e.g. `-m vm`) overrides it
exec dbus-run-session -- bash "$PORTSIDE_ROOT/scripts/with-keyring.sh" \
  python -m pytest -m "vm or vm_arm64" "$@"
