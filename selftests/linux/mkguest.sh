#!/bin/bash
# Prepare the Linux guest the Linux-macro tests boot: Debian's cloud kernel
# (the release of the dbg package scripts/fetch-vmlinux.sh fetches) and a
# busybox-static initramfs whose /init is selftests/linux/guest-init.sh.
# Prints the kernel image path, then the initramfs path.
#   selftests/linux/mkguest.sh [KERNEL_RELEASE]   (default: LINUX_KVER or
#   the cloud flavour of the newest /usr/src/linux-headers-*-amd64)
set -eu
cd "$(dirname "$0")/../.."
. scripts/fetch-vmlinux.sh --lib

KVER=${1:-$(linux_default_kver)}
OUT=build/linux/guest
IMG=$(linux_fetch_image "$KVER")
mkdir -p "$OUT"
ROOT=$OUT/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp}
cp "$(command -v busybox)" "$ROOT/bin/busybox"
for a in $(busybox --list-full); do
	[ -e "$ROOT/$a" ] || ln -s /bin/busybox "$ROOT/$a"
done
install -m 0755 selftests/linux/guest-init.sh "$ROOT/init"
(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$OUT/initramfs.cpio.gz"
echo "$IMG"
echo "$OUT/initramfs.cpio.gz"
