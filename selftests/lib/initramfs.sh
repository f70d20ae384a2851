# SPDX-License-Identifier: GPL-2.0
# Sourced (bash) by the scripts that build a Linux guest's initramfs:
# selftests/vm/linux-guest.sh, selftests/linux/mkguest.sh.

# A guest root: busybox (static), /init ($1), and /dev/console (the kernel
# opens it for init before any devtmpfs exists; without it init writes
# nowhere). The node is a second cpio archive written here, so building
# it needs no root. Writes the gzipped cpio to $2; $3 is a scratch folder.
mkinitramfs() {
	local init=$1 out=$2 root=$3 a
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp}
	cp "$(command -v busybox)" "$root/bin/busybox"
	for a in $(busybox --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	install -m 0755 "$init" "$root/init"
	{
		(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
		python3 - <<'PY'
import sys
def entry(name, mode, rmaj=0, rmin=0):
    name = name.encode() + b"\0"
    hdr = b"070701" + b"".join(b"%08X" % v for v in (
        0, mode, 0, 0, 1, 0, 0, 0, 0, rmaj, rmin, len(name), 0))
    out = hdr + name
    return out + b"\0" * (-len(out) % 4)
sys.stdout.buffer.write(entry("dev/console", 0o020600, 5, 1) + entry("TRAILER!!!", 0))
PY
	} | gzip -1 >"$out"
	rm -rf "$root"
}

