#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stepi with 1, 2, 4 and 8 vCPUs in the test VM, kvmdbg.ko against the
# userspace stop-the-world, in one run: boots the VM (BENCH=1 adds
# build/bench; tests.d/92-stepi-bench runs there) under the shared VM lock
# and prints medians per path and vCPU count and the rate relative to
# 1 vCPU. Every figure is TCG-emulated (nested SVM): read the ratios.
set -eu
cd "$(dirname "$0")/.."
make -s all
mkdir -p build/bench
touch build/bench/stepi_vm.enabled
log=$(mktemp)
trap 'rm -f "$log" build/bench/stepi_vm.enabled' EXIT
# VM_TESTS may add tests to the same boot (their TAP is in build/bench/stepi_vm.log).
flock /tmp/kvmdbg-vm.lock env BENCH=1 VM_TESTS="${VM_TESTS:-} 92-stepi-bench" \
	selftests/vm/run.sh >"$log" 2>&1 || true
cp "$log" build/bench/stepi_vm.log
sed -n 's/^# stepi_vm: //p' "$log" >"$log.fig"
if grep -q ' error' "$log.fig"; then
	echo "runs that failed:"; grep ' error' "$log.fig"
fi
awk '$4 != $5' "$log.fig" | grep -v error >"$log.ok" || true
median() { sort -n | awk '{v[NR]=$1} END {if (!NR) print 0; else print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "test VM (QEMU 7.2 TCG, nested SVM) on $(nproc) CPUs, $(uname -r), $(date -u +%F); stepi 50 timed by /proc/uptime, median of 2 rounds (the hook's STEPS and ROUNDS); steps/s"
printf '%-18s %6s %10s %10s\n' path vCPUs steps/s "vs 1 vCPU"
for p in module/spin200 module/spin0 userspace/spin200 userspace/spin0; do
	one=$(awk -v p=$p '$1==p && $2==1 {print $3}' "$log.ok" | median)
	for n in 1 2 4 8; do
		m=$(awk -v p=$p -v n=$n '$1==p && $2==n {print $3}' "$log.ok" | median)
		printf '%-18s %6s %10s %10s\n' $p $n "$m" "$(awk -v a="$m" -v b="$one" 'BEGIN {printf (b > 0) ? "%.2f" : "-", a / b}')"
	done
done
rm -f "$log.fig" "$log.ok"
