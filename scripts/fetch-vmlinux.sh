#!/bin/bash
# Fetch the DWARF vmlinux of a Debian guest kernel and make kvmdbg-launch's
# gdb driver find it (docs/gdb-driver.md, "Linux guests").
#
#   scripts/fetch-vmlinux.sh [--beside IMAGE] [RELEASE | IMAGE]
#
# RELEASE is a kernel release such as 6.1.0-56-cloud-amd64; IMAGE a bzImage
# (its release is read from the boot header) or an ELF vmlinux. Default:
# $LINUX_KVER, else the cloud flavour of the newest
# /usr/src/linux-headers-6.1.0-N-amd64.
#
# Downloads linux-image-RELEASE-dbg with apt-get (once; the .deb stays in
# the cache), extracts usr/lib/debug/boot/vmlinux-RELEASE alone, and
# checks its GNU build-id against the image's (a bzImage's kernel is
# decompressed for that with lz4/xz/zstd/gzip/bzip2, whichever it needs).
# Then it installs it for the driver's lookup:
#   $KVMDBG_ARTIFACTS/vmlinux-<build-id> and $KVMDBG_ARTIFACTS/vmlinux-RELEASE
#     (symlinks into the cache), when KVMDBG_ARTIFACTS is set;
#   IMAGE.debug (a symlink) with --beside IMAGE.
# Prints the vmlinux path last.
#
# Environment: LINUX_CACHE (default build/linux/cache under the tree).
# Sourced with --lib it only defines the linux_* functions.
set -eu

LINUX_CACHE=${LINUX_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/linux/cache}

linux_die() {
	echo "fetch-vmlinux: $*" >&2
	exit 1
}

# The cloud flavour of the newest installed 6.1 headers (what kvmdbg.ko
# and the test VM use), or $LINUX_KVER.
linux_default_kver() {
	local h
	if [ -n "${LINUX_KVER:-}" ]; then
		echo "$LINUX_KVER"
		return
	fi
	h=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | grep -v cloud | sort -V | tail -n 1)
	[ -n "$h" ] || linux_die "no /usr/src/linux-headers-*-amd64 to pick a release from: name one (e.g. 6.1.0-56-cloud-amd64) or set LINUX_KVER"
	h=${h#/usr/src/linux-headers-}
	echo "${h%-amd64}-cloud-amd64"
}

# Downloads package $1 into the cache unless a .deb of it is there; prints it.
linux_fetch_deb() {
	local pkg=$1 deb
	mkdir -p "$LINUX_CACHE"
	deb=$(ls "$LINUX_CACHE/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		echo "# fetch-vmlinux: apt-get download $pkg" >&2
		(cd "$LINUX_CACHE" && apt-get download -q "$pkg") >"$LINUX_CACHE/apt.log" 2>&1 ||
			linux_die "apt-get download $pkg failed (see $LINUX_CACHE/apt.log): run 'apt-get update' as root, or put the .deb into $LINUX_CACHE"
		deb=$(ls "$LINUX_CACHE/${pkg}_"*.deb | head -n 1)
	fi
	echo "$deb"
}

# Prints the bzImage of release $1, unpacked once from linux-image-$1.
linux_fetch_image() {
	local kver=$1 img=$LINUX_CACHE/vmlinuz-$1 deb tmp
	if [ ! -f "$img" ]; then
		deb=$(linux_fetch_deb "linux-image-$kver")
		tmp=$LINUX_CACHE/image.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$kver" ||
			linux_die "$deb has no boot/vmlinuz-$kver"
		mv "$tmp/boot/vmlinuz-$kver" "$img"
		rm -rf "$tmp"
	fi
	echo "$img"
}

# Prints the DWARF vmlinux of release $1, extracted once (only that file)
# from linux-image-$1-dbg.
linux_fetch_vmlinux() {
	local kver=$1 out=$LINUX_CACHE/vmlinux-$1 deb tmp
	if [ ! -f "$out" ]; then
		deb=$(linux_fetch_deb "linux-image-$kver-dbg")
		tmp=$LINUX_CACHE/dbg.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp"
		echo "# fetch-vmlinux: extracting vmlinux-$kver from $(basename "$deb")" >&2
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$kver" ||
			linux_die "$deb has no usr/lib/debug/boot/vmlinux-$kver"
		mv "$tmp/usr/lib/debug/boot/vmlinux-$kver" "$out"
		rm -rf "$tmp"
	fi
	echo "$out"
}

# The release a bzImage names in its boot header (kernel_version at 0x20E,
# an offset from 0x200), or nothing when $1 is no bzImage.
linux_image_release() {
	python3 - "$1" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    d = f.read(0x8000)
if len(d) > 0x210 and d[0x202:0x206] == b"HdrS":
    off = 0x200 + struct.unpack_from("<H", d, 0x20E)[0]
    if off < len(d):
        print(d[off:off + 256].split(b"\0")[0].split(b" ")[0].decode())
PY
}

# The GNU build-id of an ELF file, or nothing.
linux_elf_build_id() {
	readelf -n "$1" 2>/dev/null | awk '/Build ID:/ { print $3; exit }'
}

# The GNU build-id of the kernel inside bzImage $1: its payload
# (payload_offset/length at 0x248) decompressed by the tool its magic names.
linux_bzimage_build_id() {
	local tmp=$LINUX_CACHE/payload.tmp tool
	tool=$(python3 - "$1" "$tmp" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
setup = (d[0x1F1] or 4) + 1
off, n = struct.unpack_from("<II", d, 0x248)
p = d[setup * 512 + off:setup * 512 + off + n]
open(sys.argv[2], "wb").write(p)
for magic, tool in ((b"\x02\x21\x4c\x18", "lz4"), (b"\xfd7zXZ", "xz"),
                    (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b", "gzip"),
                    (b"BZh", "bzip2")):
    if p.startswith(magic):
        print(tool)
PY
)
	if [ -z "$tool" ] || ! command -v "$tool" >/dev/null; then
		rm -f "$tmp"
		return 0
	fi
	"$tool" -dc <"$tmp" >"$tmp.elf" 2>/dev/null || true
	linux_elf_build_id "$tmp.elf"
	rm -f "$tmp" "$tmp.elf"
}

linux_main() {
	local beside='' arg='' kver image='' vmlinux id want=''
	while [ $# -gt 0 ]; do
		case $1 in
		--beside) beside=${2:?--beside IMAGE}; shift 2 ;;
		-h | --help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//; /^set -eu/d'; exit 0 ;;
		*) arg=$1; shift ;;
		esac
	done
	[ -n "$arg" ] || arg=${beside:-$(linux_default_kver)}
	if [ -f "$arg" ]; then
		image=$arg
		kver=$(linux_image_release "$image")
		if [ -n "$kver" ]; then
			want=$(linux_bzimage_build_id "$image")
		else
			want=$(linux_elf_build_id "$image")
			kver=$(strings -n 8 "$image" | sed -n 's/^Linux version \([^ ]*\) .*/\1/p' | head -n 1)
		fi
		[ -n "$kver" ] || linux_die "$image is neither a bzImage nor a vmlinux with a Linux version string"
	else
		kver=$arg
	fi
	vmlinux=$(linux_fetch_vmlinux "$kver")
	id=$(linux_elf_build_id "$vmlinux")
	[ -n "$id" ] || linux_die "$vmlinux has no GNU build-id"
	if [ -n "$want" ] && [ "$want" != "$id" ]; then
		linux_die "build-id of $image's kernel is $want, $vmlinux has $id: not the same build"
	fi
	echo "# fetch-vmlinux: $kver build-id $id${want:+ (matches $image)}" >&2
	if [ -n "${KVMDBG_ARTIFACTS:-}" ]; then
		mkdir -p "$KVMDBG_ARTIFACTS"
		ln -sfn "$(realpath "$vmlinux")" "$KVMDBG_ARTIFACTS/vmlinux-$id"
		ln -sfn "$(realpath "$vmlinux")" "$KVMDBG_ARTIFACTS/vmlinux-$kver"
		echo "# fetch-vmlinux: installed as $KVMDBG_ARTIFACTS/vmlinux-{$id,$kver}" >&2
	fi
	if [ -n "$beside" ]; then
		ln -sfn "$(realpath "$vmlinux")" "$beside.debug"
		echo "# fetch-vmlinux: installed as $beside.debug" >&2
	fi
	echo "$vmlinux"
}

if [ "${1:-}" = --lib ]; then
	return 0 2>/dev/null || exit 0
fi
linux_main "$@"
