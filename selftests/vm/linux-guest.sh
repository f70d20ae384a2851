#!/bin/bash
# Host-side prep for the Linux-guest VM tests (selftests/vm/tests.d/6*, 7*):
# Debian's cloud kernel and a busybox-static initramfs for the nested guest,
# put into build/vm/linux/ (run.sh copies that folder into the test VM):
#   vmlinuz             the bzImage
#   vmlinux             its ELF vmlinux with symbols but no DWARF (objcopy
#                       --strip-debug of the -dbg package's, same build-id):
#                       the --kernel ELF boot and the launcher's --symbols
#   initramfs.cpio.gz   busybox + selftests/vm/linux-guest-init.sh
#   gdb-initramfs.cpio.gz  busybox + selftests/linux/guest-init.sh
#
#   selftests/vm/linux-guest.sh KVER      e.g. 6.1.0-56-amd64 (the test VM's)
#
# The guest kernel is linux-image-<KVER with -cloud>: same release, the
# lighter flavour. The .deb is downloaded once into build/vm/cache/ (put it
# there beforehand for offline use). The guest's /init is
# selftests/vm/linux-guest-init.sh. Prints one "# ..." line; exits non-zero
# with one line on stderr when something is missing.
set -eu
cd "$(dirname "$0")/../.."

CACHE=build/vm/cache
OUT=build/vm/linux
kver=${1:?usage: $0 KVER}
ckver=${kver%-amd64}-cloud-amd64
pkg=linux-image-$ckver

die() {
	echo "linux-guest: $*" >&2
	exit 1
}

mkdir -p "$CACHE" "$OUT"
deb=$(ls "$CACHE/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	(cd "$CACHE" && apt-get download -q "$pkg") >"$CACHE/apt-cloud.log" 2>&1 ||
		die "apt-get download $pkg failed (see $CACHE/apt-cloud.log): run 'apt-get update' as root, or put the .deb into $CACHE"
	deb=$(ls "$CACHE/${pkg}_"*.deb | head -n 1)
fi
if [ ! -f "$OUT/vmlinuz" ] || [ "$deb" -nt "$OUT/vmlinuz" ]; then
	rm -rf "$OUT/tmp"
	mkdir -p "$OUT/tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$OUT/tmp" "./boot/vmlinuz-$ckver" ||
		die "$deb has no boot/vmlinuz-$ckver: delete it and run again"
	mv "$OUT/tmp/boot/vmlinuz-$ckver" "$OUT/vmlinuz"
	rm -rf "$OUT/tmp"
fi
if [ ! -f "$OUT/vmlinux" ] || [ "$OUT/vmlinuz" -nt "$OUT/vmlinux" ]; then
	dbg=$(scripts/fetch-vmlinux.sh "$OUT/vmlinuz" 2>"$CACHE/fetch-vmlinux.log" | tail -n 1) ||
		die "scripts/fetch-vmlinux.sh $OUT/vmlinuz failed: $(tail -n 1 "$CACHE/fetch-vmlinux.log")"
	objcopy --strip-debug "$dbg" "$OUT/vmlinux.tmp" ||
		die "objcopy --strip-debug $dbg failed: is binutils installed?"
	mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
fi

# shellcheck source=selftests/lib/initramfs.sh
. selftests/lib/initramfs.sh
mkinitramfs selftests/vm/linux-guest-init.sh "$OUT/initramfs.cpio.gz" "$OUT/root"
# The guest the Linux-macro tests debug (tests.d/70-linux-gdb).
mkinitramfs selftests/linux/guest-init.sh "$OUT/gdb-initramfs.cpio.gz" "$OUT/root"
echo "# vm: Linux guest $(basename "$deb") + busybox initramfs in $OUT"
