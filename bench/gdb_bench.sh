#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gdb and lldb against kvmdbg-launch and against QEMU's gdbstub, the same
# guest code at the same address on both, paired rounds, every result
# checked: see bench/gdb_bench.py for what is measured and the knobs
# (ROUNDS, STEPS, REGS, BPS, LLDB_STEPS, STOPS, QEMU_ACCEL). Not a test:
# nothing about timing is asserted. ~5 minutes at the defaults.
set -eu
cd "$(dirname "$0")/.."
for f in build/kvmdbg-launch build/examples/benchloop.bin build/examples/bench-bios.bin build/bench/floor; do
	[ -e "$f" ] || { echo "bench: $f missing: run 'make' first" >&2; exit 1; }
done
exec python3 bench/gdb_bench.py
