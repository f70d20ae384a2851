#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The gdbstub-fuzz suite: run the libFuzzer target over gdb_stub_input()
# for a bounded time and print one TAP result. Usage (from the tree top):
#   selftests/gdbstub/fuzz.sh [SECONDS]      default 20
# New corpus entries accumulate in build/fuzz/corpus; a crash leaves
# build/fuzz/crash-* (replay: build/fuzz/fuzz_packet FILE). For long runs
# see the comment at the top of selftests/gdbstub/fuzz_packet.c.
set -u
secs=${1:-20}
bin=build/fuzz/fuzz_packet
log=build/fuzz/fuzz.log

echo "TAP version 13"
echo "1..1"
if [ ! -x "$bin" ]; then
	echo "not ok 1 - fuzz: $bin not built (make needs clang and libclang-rt-14-dev: scripts/deps.sh)"
	exit 1
fi
mkdir -p build/fuzz/corpus
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix=build/fuzz/ \
	build/fuzz/corpus selftests/gdbstub/corpus >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ]; then
	echo "# ${runs:-?} inputs"
	echo "ok 1 - fuzz: $secs s, no crash"
else
	grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/# /'
	echo "not ok 1 - fuzz: crashed after ${runs:-?} inputs (exit $rc; log $log)"
fi
