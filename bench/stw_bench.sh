#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stop-the-world + capture benchmark (bench/stw_bench.c) in the test VM,
# kvmdbg.ko vs the userspace path, in one run. Builds build/bench/stw_bench,
# boots the VM with selftests/vm/run.sh (BENCH=1 adds build/bench; the
# tests.d/90-stw-bench hook runs it) and prints its table.
set -eu
cd "$(dirname "$0")/.."
make -s all
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -I. -O2 -g \
	-o build/bench/stw_bench bench/stw_bench.c build/libkvmdbg-vmm.a -lpthread -lkmod -lcap
BENCH=1 VM_TESTS=${VM_TESTS:-90-stw-bench} selftests/vm/run.sh | sed -n 's/^# stw_bench: \{0,1\}//p'
