#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvmdbg-launch and kvmdbg.ko on a host where the module cannot be had
# (this one's kernel has no module support): the launcher falls back to
# the userspace stop-the-world path, says so once with --verbose and in
# --info (never otherwise), honours KVMDBG_PATH, reports its path in gdb's
# `monitor info`, and runs the guest holding no capability. The module
# path itself is tested in the VM (selftests/vm/tests.d/50-kvmdbg-launch).
# Prints TAP.
#
# Usage: selftests/launch/kvmdbg_path.sh [LAUNCHER]   (from the top of the tree)
set -u

LAUNCH=${1:-build/asan/kvmdbg-launch}
L=kvmdbg-launch
EX=build/examples
USER_PATH='userspace (signals + per-vCPU ioctls)'
TMP=$(mktemp -d /tmp/kvmdbg-path-test.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	[ $# -lt 2 ] || sed 's/^/#   /' "$2"
}
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-/dev/null}"; fi; }

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "1..0 # SKIP no /dev/kvm on this host"
	exit 0
fi
if [ -e /dev/kvmdbg ]; then
	echo "1..0 # SKIP /dev/kvmdbg exists: the fallback is tested where the module is absent (the VM suite tests the module)"
	exit 0
fi

fallback_re="^$L: kvmdbg.ko: .*; stopping the world from userspace \(signals \+ per-vCPU ioctls\)$"

"$LAUNCH" --verbose "$EX/hello.elf" >"$TMP/out" 2>"$TMP/err"
check "--verbose without the module: the guest runs, one line says why and that it falls back" \
	'[ $? = 0 ] && [ "$(cat "$TMP/out")" = "Hello from kvmdbg guest" ] &&
	 [ "$(wc -l <"$TMP/err")" = 1 ] && grep -Eq "$fallback_re" "$TMP/err"' "$TMP/err"

"$LAUNCH" --cpus 2 "$EX/smp.elf" >"$TMP/out" 2>"$TMP/err"
check "without --verbose: nothing about the module on stderr" \
	'[ $? = 0 ] && [ ! -s "$TMP/err" ]' "$TMP/err"

"$LAUNCH" --info >"$TMP/info" 2>&1
check "--info: the userspace path, and why the module is not used" \
	'[ $? = 0 ] && grep -qx "stop the world:  $USER_PATH" "$TMP/info" &&
	 grep -q "^ *(kvmdbg.ko not used: ..*)$" "$TMP/info"' "$TMP/info"

KVMDBG_PATH=userspace "$LAUNCH" --info >"$TMP/info" 2>&1
check "KVMDBG_PATH=userspace --info: says so" \
	'[ $? = 0 ] && grep -qx " *(kvmdbg.ko not used: KVMDBG_PATH=userspace)" "$TMP/info"' "$TMP/info"

KVMDBG_PATH=module "$LAUNCH" "$EX/hello.elf" >"$TMP/out" 2>"$TMP/err"
check "KVMDBG_PATH=module without the module: status 1, one line, no guest" \
	'[ $? = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
	 grep -q "^$L: KVMDBG_PATH=module: " "$TMP/err"' "$TMP/err"

KVMDBG_PATH=fast "$LAUNCH" "$EX/hello.elf" >"$TMP/out" 2>"$TMP/err"
check "KVMDBG_PATH=fast: status 1 and what the values are" \
	'[ $? = 1 ] && [ "$(cat "$TMP/err")" = "$L: KVMDBG_PATH=fast: must be '"'userspace'"' or '"'module'"'" ]' \
	"$TMP/err"

# A guest waiting for gdb: its capabilities, then gdb's view of the path.
"$LAUNCH" --gdb 127.0.0.1:0 --cpus 2 "$EX/smp.elf" >"$TMP/out" 2>"$TMP/err" &
pid=$!
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/^gdb: listening on \([^;]*\);.*/\1/p' "$TMP/err")
	[ -n "$addr" ] && break
	sleep 0.1
done
grep '^Cap\(Inh\|Prm\|Eff\|Amb\)' "/proc/$pid/status" >"$TMP/caps" 2>&1
check "the running launcher holds no capability (CapInh/Prm/Eff/Amb all 0)" \
	'[ "$(grep -c ":[[:space:]]*0000000000000000$" "$TMP/caps")" = 4 ]' "$TMP/caps"
if [ -n "$addr" ]; then
	timeout 60 gdb -nx -batch -ex "target remote $addr" -ex 'monitor info' \
		-ex 'monitor info path' -ex 'monitor help' -ex kill >"$TMP/gdb" 2>&1
fi
check "gdb: monitor info and monitor info path name the userspace path; help lists it" \
	'[ "$(grep -cx "stop the world: $USER_PATH" "$TMP/gdb")" = 2 ] &&
	 grep -q "^info \[path\] " "$TMP/gdb"' "$TMP/gdb"
wait "$pid" 2>/dev/null
pid=

echo "1..$n"
[ "$failed" = 0 ]
