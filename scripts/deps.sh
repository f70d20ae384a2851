#!/bin/bash
# Install every Debian package kvmdbg needs to build, test and benchmark,
# when missing. Idempotent: with everything present it only checks.
set -eu

PKGS=(
	build-essential		# gcc, make, libc6-dev (static libc for VM tests)
	linux-headers-amd64	# build tree for kvmdbg.ko
	linux-source-6.1	# kselftest_harness.h, checkpatch.pl
	libkmod-dev		# launcher loads the module
	libcap-dev		# launcher drops capabilities
	gdb lldb		# the real clients of the gdb stub
	qemu-system-x86		# test VM, and the gdbstub baseline in bench/
	busybox-static cpio kmod xz-utils	# test VM initramfs
	lz4			# fetch-vmlinux.sh: build-id of a bzImage's kernel
	clang libclang-rt-14-dev	# libFuzzer target
	python3			# end-to-end test drivers
	crash python3-drgn	# read Linux guests' cores (issue 12's VM-side tests)
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'sudo scripts/deps.sh' (or install them with apt-get)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
