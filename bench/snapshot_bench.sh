#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshot write throughput and resume latency for a 256 MiB guest that
# touched 32 MiB, beside cp of the same file on the same disk (the floor).
# Not a test: prints a table. Usage (from the top of the tree, after make):
#
#   bench/snapshot_bench.sh [ROUNDS] [DIR]     (default 5 rounds, DIR=bench tmp)
#
# IDLE=S (default 10): seconds of idle before round 1, which is reported
# on its own (the first write after an idle spell is where the page cache
# once cost 3-4x, see afile__pwrite()); the other rows are medians of
# rounds 2..ROUNDS (of all rounds when ROUNDS is 1).
#
# The guest is a flat binary generated here: it writes one qword into each
# of 8192 pages at 2 MiB (32 MiB of non-zero pages), asks for a snapshot on
# port 0xF5, then exits through port 0xF4. Resuming runs only that exit.
#   snapshot write: the launcher's own timing (--verbose) of capture, scan,
#                   write, fsync, rename and directory fsync
#   resume:         wall time of `kvmdbg-launch --resume` from exec to exit
#                   (file validation with every checksum, VM creation, COW
#                   mapping, vCPU state, first guest instruction, exit,
#                   teardown): an upper bound of resume-to-first-instruction
#   cp / cp+fsync:  the same file copied on the same file system
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
IDLE=${IDLE:-10}
DIR=${2:-$(mktemp -d "${TMPDIR:-/var/tmp}/kvmdbg-snapbench.XXXXXX")}
LAUNCH=build/kvmdbg-launch
[ -x "$LAUNCH" ] || { echo "bench: run make first" >&2; exit 1; }
trap 'rm -rf "$DIR"' EXIT

# mov $0x200000,%rdi; mov $8192,%rcx; 1: mov %rdi,(%rdi); add $0x1000,%rdi;
# dec %rcx; jnz 1b; mov $1,%al; out %al,$0xf5; xor %eax,%eax; out %eax,$0xf4
printf '\x48\xc7\xc7\x00\x00\x20\x00\x48\xc7\xc1\x00\x20\x00\x00\x48\x89\x3f\x48\x81\xc7\x00\x10\x00\x00\x48\xff\xc9\x75\xf1\xb0\x01\xe6\xf5\x31\xc0\xe7\xf4' >"$DIR/touch.bin"

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

: >"$DIR/w" ; : >"$DIR/r" ; : >"$DIR/c" ; : >"$DIR/cf"
sleep "$IDLE"
for i in $(seq "$ROUNDS"); do
	rm -f "$DIR/s.snap"
	"$LAUNCH" --verbose --mem 256M --flat --load-addr 0x100000 --snapshot "$DIR/s.snap" \
		"$DIR/touch.bin" 2>&1 >/dev/null | sed -n 's/.* in \([0-9.]*\) ms.*$/\1/p' >>"$DIR/w"
	sync
	t0=$(now); "$LAUNCH" --resume "$DIR/s.snap" >/dev/null 2>&1 || true; t1=$(now)
	echo "($t1 - $t0) * 1000" | bc -l >>"$DIR/r"
	rm -f "$DIR/copy"; t0=$(now); cp "$DIR/s.snap" "$DIR/copy"; t1=$(now)
	echo "($t1 - $t0) * 1000" | bc -l >>"$DIR/c"
	rm -f "$DIR/copy"; t0=$(now); cp "$DIR/s.snap" "$DIR/copy"; sync -d "$DIR/copy"; t1=$(now)
	echo "($t1 - $t0) * 1000" | bc -l >>"$DIR/cf"
done
size=$(stat -c %s "$DIR/s.snap")
mib=$(echo "$size / 1048576" | bc -l)
# Round 1 apart; the medians are of the rest.
first() { head -n 1 "$1"; }
later() { if [ "$ROUNDS" -gt 1 ]; then tail -n +2 "$1"; else cat "$1"; fi | median; }
w1=$(first "$DIR/w"); cf1=$(first "$DIR/cf")
w=$(later "$DIR/w"); r=$(later "$DIR/r"); c=$(later "$DIR/c"); cf=$(later "$DIR/cf")
echo "# snapshot bench: 256 MiB guest, 32 MiB touched; file $(printf %.1f "$mib") MiB on $(df -T "$DIR" | awk 'NR == 2 {print $2}') ($DIR)"
echo "# $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); round 1 after $IDLE s idle, then medians of rounds 2..$ROUNDS"
printf '%-34s %10s %10s %12s\n' "operation" "ms" "MiB/s" "vs cp+fsync"
row() { printf '%-34s %10.2f %10.0f %11.2fx\n' "$1" "$2" "$(echo "$mib / ($2 / 1000)" | bc -l)" "$(echo "$2 / $cf" | bc -l)"; }
row1() { printf '%-34s %10.2f %10.0f %11.2fx\n' "$1" "$2" "$(echo "$mib / ($2 / 1000)" | bc -l)" "$(echo "$2 / $cf1" | bc -l)"; }
row1 "round 1: snapshot write" "$w1"
row1 "round 1: cp + fsync (its floor)" "$cf1"
row "snapshot write (incl. fsync)" "$w"
row "cp (page cache, no fsync)" "$c"
row "cp + fsync (floor)" "$cf"
printf '%-34s %10.2f %10s %12s\n' "resume: exec to guest exit" "$r" "-" "-"
