#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The gdbstub-clients suite: real gdb (batch mode) and lldb (gdb-remote)
# against fake_target - the stub and gdb_server over the fake backend,
# ASan/UBSan build - asserting exact output lines. Proves the protocol
# layer against the real clients independently of the VMM.
#   selftests/gdbstub/clients_test.sh      (from the top of the tree)
# FAKE_TARGET=path overrides the binary.
set -u
bin=${FAKE_TARGET:-build/asan/selftests/gdbstub/fake_target}
tmp=$(mktemp -d /tmp/gdbstub-clients.XXXXXX)
pids=()
n=0
failed=0

cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

result() {	# STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# expect FILE DESCRIPTION LINE: LINE must be a whole line of FILE.
expect() {
	if grep -qxF -- "$3" "$1"; then
		result 0 "$2"
	else
		echo "# expected the line: $3"
		echo "# $1 was:"
		sed 's/^/#   /' "$1" | head -60
		if [ -s "$1.packets" ]; then
			echo "# lldb's packets, last 20:"
			tail -n 20 "$1.packets" | sed 's/^/#   /'
		fi
		result 1 "$2"
	fi
}

# wait_count FILE LINE COUNT: until LINE occurs COUNT times (10 s).
wait_count() {
	for _ in $(seq 100); do
		[ "$(grep -cxF -- "$2" "$1")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# start_target NAME: run a fresh fake_target; sets $addr and $tpid.
start_target() {
	"$bin" 0 >"$tmp/$1.log" 2>"$tmp/$1.err" &
	tpid=$!
	pids+=("$tpid")
	for _ in $(seq 100); do
		addr=$(sed -n 's/^listening on //p' "$tmp/$1.log")
		[ -n "$addr" ] && return 0
		sleep 0.1
	done
	echo "# fake_target did not start:"
	sed 's/^/#   /' "$tmp/$1.err"
	return 1
}

run_gdb() {	# OUTFILE ARGS...
	local out=$1
	shift
	timeout 60 gdb -batch -nx -ex 'set pagination off' \
		-ex "target remote $addr" "$@" >"$out" 2>&1
}

run_lldb() {	# OUTFILE ARGS...
	local out=$1
	shift
	# The packet log is shown when a check fails.
	timeout 60 lldb -b -o "log enable -f $out.packets gdb-remote packets" \
		-o "gdb-remote $addr" "$@" >"$out" 2>&1
}

echo "TAP version 13"
if [ ! -x "$bin" ]; then
	echo "1..1"
	echo "not ok 1 - $bin not built (run make)"
	exit 1
fi
for c in gdb lldb; do
	if ! command -v $c >/dev/null; then
		echo "1..1"
		echo "not ok 1 - $c not installed (scripts/deps.sh)"
		exit 1
	fi
done

# ---- lldb on a fresh target ------------------------------------------------
start_target lldb || exit 1
o=$tmp/lldb1.out
run_lldb "$o" -o 'register read rip' -o 'register read cr3' \
	-o 'thread list' -o 'memory read -s1 -fx -c4 0x401000' \
	-o 'thread select 2' -o 'si' -o 'register read rip' -o 'detach'
expect "$o" "lldb: register read rip" "     rip = 0x0000000000401000"
expect "$o" "lldb: system register cr3 from target.xml" \
	"     cr3 = 0x0000000000003001"
expect "$o" "lldb: thread list, thread 1" \
	"* thread #1: tid = 0x0001, 0x0000000000401000, stop reason = signal SIGTRAP"
expect "$o" "lldb: thread list, thread 2" \
	"  thread #2: tid = 0x0002, 0x0000000000401100"
expect "$o" "lldb: memory read" "0x00401000: 0x55 0x48 0x89 0xe5"
expect "$o" "lldb: si on thread 2" \
	"* thread #2, stop reason = instruction step into"
expect "$o" "lldb: rip after si" "     rip = 0x0000000000401101"
expect "$o" "lldb: detach" "Process 1 detached"
grep -q 'read packet: \$OK#9a' <(grep -A1 -F 'send packet: $x0,0#04' "$o.packets")
result $? "lldb: its x0,0 probe answered OK"
grep -qE 'send packet: \$x[0-9a-f]+,[0-9a-f]*[1-9a-f][0-9a-f]*#' "$o.packets" &&
	! grep -qE 'send packet: \$m[0-9a-f]+,' "$o.packets"
result $? "lldb: memory read through x, no m"
kill "$tpid" 2>/dev/null

# ---- gdb on a fresh target -------------------------------------------------
start_target gdb || exit 1
tlog=$tmp/gdb.log
o=$tmp/gdb1.out
run_gdb "$o" -ex 'info registers rip' -ex 'x/4xb 0x401000' \
	-ex 'x/2i $pc' -ex 'info threads' -ex 'p/x $cr3' -ex 'p/x $fs_base' \
	-ex 'p $eflags' -ex 'p/x $efer' -ex 'thread 2' -ex 'stepi' \
	-ex 'p/x $pc' -ex 'set $rax = 0x1234' -ex 'p/x $rax' \
	-ex 'set {int}0x400100 = 0x11223344' -ex 'x/xw 0x400100' \
	-ex 'monitor info vcpus' -ex 'monitor phys on' -ex 'x/2xb 0x100010' \
	-ex 'monitor phys off' -ex 'break *0x401010' -ex 'continue' \
	-ex 'delete' -ex 'detach'
expect "$o" "gdb: info registers rip" \
	"rip            0x401000            0x401000"
expect "$o" "gdb: x/4xb" $'0x401000:\t0x55\t0x48\t0x89\t0xe5'
expect "$o" "gdb: x/i" $'=> 0x401000:\tpush   %rbp'
expect "$o" "gdb: info threads, thread 1" \
	"* 1    Thread 1 (vCPU 0 halted) 0x0000000000401000 in ?? ()"
expect "$o" "gdb: info threads, thread 2" \
	"  2    Thread 2 (vCPU 1 halted) 0x0000000000401100 in ?? ()"
expect "$o" "gdb: p/x \$cr3 (org.kvmdbg.x86.sys)" '$1 = 0x3001'
expect "$o" "gdb: p/x \$fs_base" '$2 = 0xf5001'
expect "$o" "gdb: eflags flags type" '$3 = [ IF ]'
expect "$o" "gdb: p/x \$efer" '$4 = 0xd01'
expect "$o" "gdb: stepi on thread 2" "0x0000000000401101 in ?? ()"
expect "$o" "gdb: \$pc after stepi" '$5 = 0x401101'
expect "$o" "gdb: register write read back" '$6 = 0x1234'
expect "$o" "gdb: memory write read back" $'0x400100:\t0x11223344'
expect "$o" "gdb: monitor command output" "vCPU 1: rip 0x401101"
expect "$o" "gdb: monitor phys on" \
	"phys on: memory packets use guest-physical addresses"
expect "$o" "gdb: physical memory read" $'0x100010:\t0x10\t0x11'
expect "$o" "gdb: software breakpoint hit" \
	"Thread 1 hit Breakpoint 1, 0x0000000000401010 in ?? ()"
expect "$o" "gdb: detach" "[Inferior 1 (Remote target) detached]"

# ---- reconnect after detach: hardware breakpoints, watchpoint --------------
o=$tmp/gdb2.out
run_gdb "$o" -ex 'hbreak *0x401020' -ex 'hbreak *0x401030' \
	-ex 'hbreak *0x401040' -ex 'hbreak *0x401050' -ex 'hbreak *0x401060' \
	-ex 'continue' -ex 'delete' -ex 'awatch *(int*)0x402000' \
	-ex 'continue' -ex 'delete' -ex 'detach'
expect "$o" "gdb: reconnect stops the running target" \
	"0x0000000000401010 in ?? ()"
expect "$o" "gdb: 5th hardware breakpoint refused" \
	"Cannot insert hardware breakpoint 5."
expect "$o" "gdb: access watchpoint hit" \
	"Thread 1 hit Hardware access (read/write) watchpoint 6: *(int*)0x402000"
expect "$o" "gdb: watched value" "Value = 50462976"

# ---- Ctrl-C while running --------------------------------------------------
# gdb runs in the background here, without the timeout wrapper, so that
# $! is gdb itself: SIGINT is what a user's Ctrl-C sends it.
bg_gdb() {	# OUTFILE ARGS...
	local out=$1
	shift
	gdb -batch -nx -ex 'set pagination off' -ex "target remote $addr" \
		"$@" >"$out" 2>&1 &
	gpid=$!
	pids+=("$gpid")
}

o=$tmp/gdb3.out
running=$(grep -cxF running "$tlog")
bg_gdb "$o" -ex 'continue' -ex 'p/x $pc' -ex 'detach'
wait_count "$tlog" running $((running + 1)) && kill -INT "$gpid"
wait "$gpid"
expect "$o" "gdb: Ctrl-C stops the target" \
	"Thread 1 received signal SIGINT, Interrupt."
expect "$tlog" "gdb: Ctrl-C reached ops->interrupt" "interrupt"

# ---- unexpected disconnect, then lldb ---------------------------------------
running=$(grep -cxF running "$tlog")
detached=$(grep -cxF detach "$tlog")
bg_gdb "$tmp/gdb4.out" -ex 'continue'
wait_count "$tlog" running $((running + 1))
kill -KILL "$gpid"
wait "$gpid" 2>/dev/null
wait_count "$tlog" detach $((detached + 1))
result $? "gdb killed while running: ops->detach called"
o=$tmp/lldb2.out
run_lldb "$o" -o 'register read rip' -o 'process kill'
expect "$o" "lldb after gdb vanished: target stopped on connect" \
	"* thread #1, stop reason = signal SIGTRAP"
timeout 10 tail --pid="$tpid" -f /dev/null
expect "$tlog" "lldb: process kill reached ops->kill" "kill"
# ---- qOffsets TextSeg= (a slid kernel): gdb moves every section ------------
# callchain.elf's first segment starts at 0x100000; 0x300000 slides it 2M.
FAKE_TEXT_SEG=0x300000 start_target seg || exit 1
o=$tmp/seg.out
run_gdb "$o" -ex 'p/x &main' -ex 'maint info sections .text .rodata .data' \
	-ex 'detach' build/examples/callchain.elf
main=$(nm build/examples/callchain.elf | awk '$3 == "main" { print $1 }')
expect "$o" "gdb: TextSeg=300000 moves main by 0x200000" \
	"\$1 = $(printf '0x%x' $((0x$main + 0x200000)))"
for sec in .rodata .data; do
	a=$(readelf -SW build/examples/callchain.elf | awk -v s=$sec '{ for (i = 1; i < NF; i++) if ($i == s) print $(i + 2) }')
	grep -q "0x$(printf '%08x' $((0x$a + 0x200000)))->.*: $sec " "$o"
	result $? "gdb: TextSeg= moves $sec by 0x200000 too (Text=/Data= would not move .rodata)"
done
kill "$tpid" 2>/dev/null

if [ -s "$tmp/gdb.err" ]; then
	echo "# fake_target stderr:"
	sed 's/^/#   /' "$tmp/gdb.err" "$tmp/lldb.err" "$tmp/seg.err"
fi
grep -q 'ERROR: AddressSanitizer\|runtime error' "$tmp"/*.err
result $((! $?)) "fake_target: no sanitizer report"

echo "1..$n"
[ "$failed" -eq 0 ]
