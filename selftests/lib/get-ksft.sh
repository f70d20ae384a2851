#!/bin/bash
# Usage: get-ksft.sh OUTDIR [KSRC]
#
# Puts the kernel's kselftest headers (kselftest_harness.h, kselftest.h)
# and checkpatch (checkpatch.pl, spelling.txt, const_structs.checkpatch)
# into OUTDIR, flat. They come from the kernel tree KSRC when given, else
# from Debian's linux-source-6.1 tarball. Nothing of the kernel is kept in
# this repository: the files live in the build folder only.
set -eu

out=${1:?usage: get-ksft.sh OUTDIR [KSRC]}
ksrc=${2:-}
tarball=${KSFT_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
members=(
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)

die() {
	echo "get-ksft: $*" >&2
	exit 1
}

# Extract into a scratch folder and move into place, so an interrupted
# run never leaves half the files behind looking complete.
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -n "$ksrc" ]; then
	for m in "${members[@]}"; do
		[ -f "$ksrc/$m" ] || die "KSRC=$ksrc has no $m: pass the top of a kernel source tree"
		cp "$ksrc/$m" "$tmp/"
	done
else
	[ -f "$tarball" ] ||
		die "no $tarball: run scripts/deps.sh as root (installs linux-source-6.1) or pass KSRC=/path/to/linux"
	top=$(tar -tJf "$tarball" | head -n 1)
	top=${top%%/*}
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
		"${members[@]/#/$top/}" ||
		die "cannot extract the kselftest headers from $tarball: reinstall linux-source-6.1 or pass KSRC=/path/to/linux"
	for m in "${members[@]}"; do
		mv "$tmp/$m" "$tmp/"
	done
	rm -rf "$tmp/tools" "$tmp/scripts"
fi

mkdir -p "$out"
chmod +x "$tmp/checkpatch.pl"
mv "$tmp"/* "$out/"
