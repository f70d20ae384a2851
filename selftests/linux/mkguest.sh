#!/bin/bash
# Prepare the Linux guest the Linux-macro tests boot: Debian's cloud kernel
# (the release of the dbg package scripts/fetch-vmlinux.sh fetches) and a
# busybox-static initramfs whose /init is selftests/linux/guest-init.sh
# (selftests/lib/initramfs.sh).
# Prints the kernel image path, then the initramfs path.
#   selftests/linux/mkguest.sh [KERNEL_RELEASE]   (default: LINUX_KVER or
#   the cloud flavour of the newest /usr/src/linux-headers-*-amd64)
set -eu
cd "$(dirname "$0")/../.."
. scripts/fetch-vmlinux.sh --lib
# shellcheck source=selftests/lib/initramfs.sh
. selftests/lib/initramfs.sh

KVER=${1:-$(linux_default_kver)}
OUT=build/linux/guest
IMG=$(linux_fetch_image "$KVER")
mkdir -p "$OUT"
mkinitramfs selftests/linux/guest-init.sh "$OUT/initramfs.cpio.gz" "$OUT/root"
echo "$IMG"
echo "$OUT/initramfs.cpio.gz"
