#!/bin/bash
# gdb against this project's stub and against QEMU's gdbstub, same gdb,
# in one run: throughput of a 16 MiB `dump binary memory` and the rate of
# `stepi`. Prints a table with the ratios. Not a test: nothing asserted.
#
# Memory: 16 MiB of untouched (zero) guest RAM read, 16 MiB of random bytes
# written with `restore` and read back, both at the same addresses on both
# sides (zero-filled pages compress well on the wire with RSP run-length
# encoding, random ones do not; both are shown).
# kvmdbg side: build/kvmdbg-launch --gdb on the mempattern guest (64 MiB),
#   stepping its fill() loop.
# QEMU side: qemu-system-x86_64 -S (TCG; this host's /dev/kvm is not
#   usable by QEMU), 64 MiB, stepping the firmware
#   from the reset vector. Stepping cost is protocol round trips plus one
#   stop per instruction on both sides, so the code stepped matters little.
set -eu
cd "$(dirname "$0")/.."
STEPS=${STEPS:-2000}
ROUNDS=${ROUNDS:-3}
guest=build/examples/mempattern.elf
[ -x build/kvmdbg-launch ] && [ -f "$guest" ] || { echo "bench: run 'make' first" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "bench: qemu-system-x86_64 missing: run scripts/deps.sh" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# measure NAME PORT [BREAK [FILE]]: one gdb run; appends "NAME key value" lines.
measure() {
	BENCH_TARGET=127.0.0.1:$2 BENCH_STEPS=$STEPS BENCH_BREAK=${3:-} BENCH_RANDOM=$random \
		timeout 300 gdb -batch -nx -x bench/gdb_measure.py ${4:-} 2>/dev/null |
		sed -n "s/^BENCH /$1 /p" >>"$results"
}

results=$(mktemp)
random=$(mktemp)
trap 'rm -f "$results" "$random"' EXIT
head -c $((16 << 20)) /dev/urandom >"$random"
for r in $(seq "$ROUNDS"); do
	port=$(free_port)
	build/kvmdbg-launch --mem 64M --gdb "127.0.0.1:$port" "$guest" >/dev/null &
	pid=$!
	scripts/wait-listen.sh "$port" "$pid"
	measure kvmdbg "$port" fill "$guest"
	wait "$pid" 2>/dev/null || true

	port=$(free_port)
	qemu-system-x86_64 -accel tcg -m 64M -nodefaults -nographic -display none \
		-S -gdb "tcp:127.0.0.1:$port" >/dev/null 2>&1 &
	pid=$!
	scripts/wait-listen.sh "$port" "$pid"
	measure qemu "$port"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "bench: round $r of $ROUNDS done" >&2
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
fig() { awk -v n="$1" -v k="$2" '$1==n && $2==k {print $3}' "$results" | median; }

echo "gdb $(gdb --version | head -1 | awk '{print $NF}'), $(qemu-system-x86_64 --version | head -1), $(nproc) CPUs, $(uname -r)"
echo "median of $ROUNDS rounds; stepi count $STEPS"
printf '%-28s %12s %12s %8s\n' figure kvmdbg qemu ratio
for k in mem_zero_mib_s mem_rand_mib_s mem_write_mib_s steps_s; do
	a=$(fig kvmdbg $k) b=$(fig qemu $k)
	case $k in
	mem_zero_mib_s) label="read 16 MiB zero (MiB/s)" ;;
	mem_rand_mib_s) label="read 16 MiB random (MiB/s)" ;;
	mem_write_mib_s) label="write 16 MiB (MiB/s)" ;;
	*) label="stepi (steps/s)" ;;
	esac
	printf '%-28s %12s %12s %7.1fx\n' "$label" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print (b > 0) ? a / b : 0}')"
done
