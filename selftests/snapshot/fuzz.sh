#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The snapshot-fuzz suite, second half: run the libFuzzer target over
# snapshot__open() (selftests/snapshot/fuzz_snapshot.c) for a bounded time
# and print one TAP result. No /dev/kvm needed. Usage (from the tree top):
#   selftests/snapshot/fuzz.sh [SECONDS]      default 25
# The seeds are the real snapshot files in selftests/snapshot/corpus/ (and
# foreign-2cpu.snap, a foreign VM's as reader_test builds it: the SLOTS
# section and its rules),
# plus two fresh ones where /dev/kvm is there (each gets the harness's
# flags byte, 0, in front); new corpus entries
# accumulate in build/fuzz/snapshot-corpus. A crash leaves
# build/fuzz/snapshot-crash-* (replay: build/fuzz/fuzz_snapshot FILE).
set -u
secs=${1:-25}
bin=build/fuzz/fuzz_snapshot
log=build/fuzz/fuzz_snapshot.log
seeds=build/fuzz/snapshot-seeds

echo "TAP version 13"
echo "1..1"
if [ ! -x "$bin" ]; then
	echo "not ok 1 - snapshot fuzz: $bin not built (make needs clang and libclang-rt-14-dev: scripts/deps.sh)"
	exit 1
fi
rm -rf "$seeds"
mkdir -p "$seeds" build/fuzz/snapshot-corpus
# Where the host has /dev/kvm, snapshots from this build's writer join
# the committed ones (they follow the writer if its output changes).
if [ -w /dev/kvm ] && [ -x build/kvmdbg-launch ]; then
	build/kvmdbg-launch --snapshot "$seeds/fresh-at.snap" --snapshot-at snap_point \
		--snapshot-exit build/examples/snapguest.elf >/dev/null 2>&1
	build/kvmdbg-launch --cpus 2 --snapshot "$seeds/fresh-2cpu.snap" \
		build/examples/snapguest.elf >/dev/null 2>&1
fi
for f in selftests/snapshot/corpus/*.snap "$seeds"/fresh-*.snap; do
	[ -f "$f" ] || continue
	{ printf '\0'; cat "$f"; } >"$seeds/$(basename "$f" .snap)"
done
rm -f "$seeds"/fresh-*.snap
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
	-print_final_stats=1 -artifact_prefix=build/fuzz/snapshot- \
	build/fuzz/snapshot-corpus "$seeds" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ]; then
	echo "# ${runs:-?} inputs"
	echo "ok 1 - snapshot fuzz: $secs s, no crash, every refusal one line naming its place, every accepted file consistent"
else
	grep -E 'ERROR|runtime error|SUMMARY|Test unit written|fuzz_snapshot: ' "$log" | head -20 | sed 's/^/# /'
	echo "not ok 1 - snapshot fuzz: failed after ${runs:-?} inputs (exit $rc; log $log)"
fi
