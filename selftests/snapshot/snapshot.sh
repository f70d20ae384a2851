#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshots and the gdb driver, end to end on the host's /dev/kvm with the
# ASan/UBSan launcher and real gdb: every trigger (guest port 0xF5,
# --snapshot-at SYMBOL, SIGUSR1, gdb's monitor snapshot), resume with the
# same output and exit status as the original run from the snapshot point,
# byte-equal memory and equal registers under gdb for 1 and 2 vCPUs,
# rejection of damaged files with their exact message, a failed write
# that keeps the old snapshot, the batch driver's status, symbol lookup
# precedence and the bundled macros; a foreign VM's snapshot (FOREIGN,
# from the writer's foreign path) resumed only for inspection under gdb.
# Prints TAP.
#
# Usage: selftests/snapshot/snapshot.sh [LAUNCHER]   (from the top of the tree)
set -u

LAUNCH=${1:-build/asan/kvmdbg-launch}
[ "${LAUNCH#/}" = "$LAUNCH" ] && LAUNCH=$PWD/$LAUNCH	# some tests run elsewhere
GUEST=$PWD/build/examples/snapguest.elf
T=$(mktemp -d /tmp/kvmdbg-snapshot-test.XXXXXX)
MNT=
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$PWD/build/snapshot-dio.$$" "/dev/shm/dio-$$.snap"
	rm -rf "$T"
}
trap cleanup EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export TMPDIR=$T/tmp		# the driver's temp files must vanish from here
mkdir -p "$TMPDIR"
unset KVMDBG_ARTIFACTS
P=$(basename "$LAUNCH")

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d" "failed: $*"; fi; }

if ! [ -c /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "1..1"; echo "ok 1 - snapshot suite # SKIP no /dev/kvm on this host"; exit 0
fi
command -v gdb >/dev/null || { echo "1..1"; echo "not ok 1 - gdb is missing (scripts/deps.sh installs it)"; exit 1; }

# expect DESC WANT_RC WANT_STDOUT_FILE WANT_STDERR -- ARGS: exact stderr and status.
expect_err() {
	local desc=$1 want_rc=$2 want_err=$3 rc err
	shift 4
	"$LAUNCH" "$@" >"$T/o" 2>"$T/e"; rc=$?
	err=$(cat "$T/e")
	if [ "$rc" = "$want_rc" ] && [ "$err" = "$want_err" ] && [ ! -s "$T/o" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status $rc (should be $want_rc)" "stderr: $err" "should be: $want_err" \
			"stdout: $(head -c 200 "$T/o")"
	fi
}

SNAP_POINT=$(nm "$GUEST" | awk '$3 == "snap_point" {print "0x" substr($1, match($1, /[1-9a-f]/))}')
BUILD_ID=$(readelf -n "$GUEST" | awk '/Build ID/ {print $3}')

# --- port 0xF5 trigger, resume, same output from there (1 and 2 vCPUs) ---
for cpus in 1 2; do
	s=$T/port$cpus.snap
	"$LAUNCH" --cpus $cpus --snapshot "$s" "$GUEST" >"$T/orig$cpus" 2>"$T/err$cpus"; rc=$?
	check "port 0xF5 ($cpus vCPUs): guest runs on and exits 7" [ $rc = 7 ]
	check "port 0xF5 ($cpus vCPUs): one snapshot written, message exact" \
		[ "$(cat "$T/err$cpus")" = "$P: snapshot written to $s (guest write to port 0xf5)" ]
	"$LAUNCH" --resume "$s" >"$T/res$cpus" 2>"$T/rerr$cpus"; rc=$?
	check "resume ($cpus vCPUs): exit status 7 as the original" [ $rc = 7 ]
	check "resume ($cpus vCPUs): output equals the original's from the snapshot on" \
		cmp -s "$T/res$cpus" <(tail -n +2 "$T/orig$cpus")
	check "resume ($cpus vCPUs): original printed phase 1 with $cpus vCPUs" \
		grep -qx "phase 1: $cpus vCPUs, checksum 0x[0-9a-f]*" "$T/orig$cpus"
done

# --- the page runs bypass the page cache (O_DIRECT) on a disk file system ---
# A 256 MiB guest that writes a qword into each of 8192 pages at 2 MiB (32
# MiB of non-zero pages), snapshots through port 0xF5 and exits: of the
# 32 MiB file only the metadata pages may stay in the page cache, and the
# snapshot resumes. The file goes under build/ (the tree's disk: tmpfs is
# memory either way); /dev/shm (tmpfs) must work too.
D=$PWD/build/snapshot-dio.$$
mkdir -p "$D"
printf '\x48\xc7\xc7\x00\x00\x20\x00\x48\xc7\xc1\x00\x20\x00\x00\x48\x89\x3f\x48\x81\xc7\x00\x10\x00\x00\x48\xff\xc9\x75\xf1\xb0\x01\xe6\xf5\x31\xc0\xe7\xf4' >"$D/touch.bin"
for dir in "$D" /dev/shm; do
	s=$dir/dio-$$.snap
	"$LAUNCH" --mem 256M --flat --load-addr 0x100000 --snapshot "$s" "$D/touch.bin" >"$T/o" 2>"$T/e"; rc=$?
	check "32 MiB touched, snapshot on $(findmnt -n -o FSTYPE -T "$dir"): written, status 0" \
		[ $rc = 0 -a "$(cat "$T/e")" = "$P: snapshot written to $s (guest write to port 0xf5)" ]
	check "32 MiB touched, snapshot on $(findmnt -n -o FSTYPE -T "$dir"): the file holds 32 MiB of pages" \
		[ "$(stat -c %s "$s" 2>/dev/null)" -gt $((32 << 20)) ]
	if [ "$dir" = "$D" ]; then
		res=$(fincore --bytes --noheadings --output RES "$s" | tr -d " ")
		check "32 MiB touched, snapshot on $(findmnt -n -o FSTYPE -T "$dir"): ${res:-?} bytes of it in the page cache (at most 1 MiB: the runs went out with O_DIRECT)" \
			[ "${res:-999999999}" -le $((1 << 20)) ]
	fi
	"$LAUNCH" --resume "$s" >"$T/o" 2>"$T/e"; rc=$?
	check "32 MiB touched, snapshot on $(findmnt -n -o FSTYPE -T "$dir"): --resume runs the exit, status 0" \
		[ $rc = 0 -a ! -s "$T/e" ]
	rm -f "$s"
done
rm -rf "$D"

# --- --snapshot-at SYMBOL with --snapshot-exit ---
S=$T/at.snap
"$LAUNCH" --snapshot "$S" --snapshot-at snap_point --snapshot-exit "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
check "--snapshot-at snap_point --snapshot-exit: status 0" [ $rc = 0 ]
check "--snapshot-at: stops before phase 2" [ "$(cat "$T/o")" = "phase 1: 1 vCPUs, checksum 0x673ce800" ]
check "--snapshot-at: message exact" [ "$(cat "$T/e")" = "$P: snapshot written to $S (--snapshot-at breakpoint)" ]
"$LAUNCH" --resume "$S" >"$T/o" 2>/dev/null; rc=$?
check "resume of --snapshot-at: phase 2 to done, status 7" \
	[ $rc = 7 -a "$(head -1 "$T/o")" = "phase 2: checksum 0x6212e800" -a "$(tail -1 "$T/o")" = "done: 180000 spins" ]

# --- resume under gdb: held at the resume point ---
out=$("$LAUNCH" --resume "$S" --gdb-exec 'printf "rip=%#lx\n", $pc' 2>/dev/null)
check "resume under gdb: rip is snap_point ($SNAP_POINT), nothing ran" \
	grep -qx "rip=$SNAP_POINT" <<<"$out"
check "resume under gdb: the guest printed nothing before gdb's continue" \
	bash -c "! grep -q phase <<<'$out'"

# --- monitor snapshot from gdb; byte-equal memory and equal registers ---
for cpus in 1 2; do
	g=$T/gdb$cpus
	cat >"$T/cap.gdb" <<-EOF2
	hbreak snap_point
	continue
	monitor snapshot $g.snap
	set logging file $g-regs-cap.txt
	set logging overwrite on
	set logging redirect on
	set logging enabled on
	thread apply all info all-registers
	set logging enabled off
	monitor phys on
	dump binary memory $g-mem-cap.bin 0 0x200000
	monitor phys off
	kill
	EOF2
	"$LAUNCH" --cpus $cpus --gdb-script "$T/cap.gdb" "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
	check "monitor snapshot ($cpus vCPUs): batch driver status 0" [ $rc = 0 ]
	# gdb prints monitor output on its stderr.
	check "monitor snapshot ($cpus vCPUs): gdb says written" grep -qx "snapshot written to $g.snap" "$T/e"
	cat >"$T/res.gdb" <<-EOF2
	set logging file $g-regs-res.txt
	set logging overwrite on
	set logging redirect on
	set logging enabled on
	thread apply all info all-registers
	set logging enabled off
	monitor phys on
	dump binary memory $g-mem-res.bin 0 0x200000
	monitor phys off
	EOF2
	"$LAUNCH" --resume "$g.snap" --gdb-script "$T/res.gdb" >"$T/o" 2>"$T/e"; rc=$?
	check "resume ($cpus vCPUs) under gdb: status 0" [ $rc = 0 ]
	check "resume ($cpus vCPUs): guest memory 0-2M byte-equal to capture" cmp -s "$g-mem-cap.bin" "$g-mem-res.bin"
	check "resume ($cpus vCPUs): all registers (GPRs, segments, x87/SSE, system) of every vCPU equal to capture" cmp -s "$g-regs-cap.txt" "$g-regs-res.txt"
	check "resume ($cpus vCPUs): $cpus threads in the register dump" \
		[ "$(grep -c '^Thread ' "$g-regs-res.txt")" = $cpus ]
done

# --- SIGUSR1 ---
S=$T/usr1.snap
"$LAUNCH" --snapshot "$S" "$GUEST" >"$T/usr1.out" 2>"$T/usr1.err" &
pid=$!
for _ in $(seq 400); do grep -q '^tick 1$' "$T/usr1.out" && break; sleep 0.01; done
kill -USR1 $pid
wait $pid; rc=$?
check "SIGUSR1: guest runs on and exits 7" [ $rc = 7 ]
check "SIGUSR1: message exact" grep -qx "$P: snapshot written to $S (SIGUSR1)" "$T/usr1.err"
"$LAUNCH" --resume "$S" >"$T/usr1.res" 2>/dev/null; rc=$?
tail -c "$(stat -c %s "$T/usr1.res")" "$T/usr1.out" >"$T/usr1.tail"
check "SIGUSR1: resume exits 7 and prints the original's tail" \
	[ $rc = 7 -a -s "$T/usr1.res" ] && cmp -s "$T/usr1.res" "$T/usr1.tail"

# --- damaged files: one exact line, status 1, nothing ran ---
S=$T/at.snap
size=$(stat -c %s "$S")
head -c $((size - 4096)) "$S" >"$T/trunc.snap"
expect_err "truncated file rejected" 1 \
	"$P: $T/trunc.snap: header: file is $((size - 4096)) bytes but was written as $size (truncated)" -- --resume "$T/trunc.snap"
: >"$T/empty.snap"
expect_err "empty file rejected" 1 \
	"$P: $T/empty.snap: header: file is 0 bytes, too short for the 64-byte header (truncated)" -- --resume "$T/empty.snap"
cp "$S" "$T/ver.snap"; printf '\x02' | dd of="$T/ver.snap" bs=1 seek=8 conv=notrunc status=none
expect_err "wrong version rejected" 1 \
	"$P: $T/ver.snap: header: version 2 is not supported (this kvmdbg reads version 1)" -- --resume "$T/ver.snap"
cp "$S" "$T/magic.snap"; printf 'X' | dd of="$T/magic.snap" bs=1 seek=0 conv=notrunc status=none
expect_err "bad magic rejected" 1 "$P: $T/magic.snap: header: bad magic (not a kvmdbg snapshot)" -- --resume "$T/magic.snap"
cp "$S" "$T/ext.snap"; printf 'junk' >>"$T/ext.snap"
expect_err "extended file rejected" 1 \
	"$P: $T/ext.snap: header: file is $((size + 4)) bytes but was written as $size (extended)" -- --resume "$T/ext.snap"
# Flip a byte in the last data page (a memory run) and in VCPU 0's section.
cp "$S" "$T/mem.snap"; printf '\xff' | dd of="$T/mem.snap" bs=1 seek=$((size - 100)) conv=notrunc status=none
"$LAUNCH" --resume "$T/mem.snap" >"$T/o" 2>"$T/e"; rc=$?
check "corrupt memory run rejected: status 1, checksum message, nothing ran" \
	[ $rc = 1 -a ! -s "$T/o" ] && grep -qxE "$P: $T/mem.snap: section MEMORY: run [0-9]+ \(gpa 0x[0-9a-f]+, [0-9]+ pages\): checksum mismatch \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)" "$T/e"
voff=$(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(); print(struct.unpack_from('<Q', d, 64 + 32 + 8)[0] + 40)" "$S")
cp "$S" "$T/vcpu.snap"; printf '\x55' | dd of="$T/vcpu.snap" bs=1 seek=$voff conv=notrunc status=none
"$LAUNCH" --resume "$T/vcpu.snap" >"$T/o" 2>"$T/e"; rc=$?
check "corrupt VCPU section rejected with its name" \
	[ $rc = 1 -a ! -s "$T/o" ] && grep -qxE "$P: $T/vcpu.snap: section VCPU 0: checksum mismatch \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)" "$T/e"
# Any single corrupted byte of the metadata: one line naming where, status 1.
meta=$(python3 -c "import struct,sys; d=open(sys.argv[1],'rb').read(); n=struct.unpack_from('<I', d, 20)[0]; print(max(struct.unpack_from('<QQ', d, 64 + 32 * i + 8)[0] + struct.unpack_from('<QQ', d, 64 + 32 * i + 8)[1] for i in range(n)))" "$S")
bad=0
for i in $(seq 40); do
	off=$((RANDOM % meta)); cp "$S" "$T/fz.snap"
	python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); b=f.read(1)[0]; f.seek(int(sys.argv[2])); f.write(bytes([b ^ (1 + int(sys.argv[3]) % 255)]))" "$T/fz.snap" $off $RANDOM
	"$LAUNCH" --resume "$T/fz.snap" >"$T/o" 2>"$T/e"; rc=$?
	if [ $rc != 1 ] || [ -s "$T/o" ] || [ "$(wc -l <"$T/e")" != 1 ] ||
	   ! grep -qE "^$P: $T/fz.snap: (header|section table|section (CONFIG|VCPU [0-9]+|DEVICES|MEMORY)): " "$T/e"; then
		bad=$((bad + 1)); echo "#   offset $off: status $rc: $(head -c 300 "$T/e")"
	fi
done
check "40 random single-byte corruptions of the metadata ($meta bytes): each rejected in one line" [ $bad = 0 ]
expect_err "missing file" 1 "$P: $T/nope.snap: cannot open: No such file or directory" -- --resume "$T/nope.snap"
# Header flags: set one and fix the header's CRC32C, so the flag itself is judged.
set_hdr_flags() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF
f = open(sys.argv[1], 'r+b'); h = bytearray(f.read(64))
struct.pack_into('<I', h, 16, int(sys.argv[2])); struct.pack_into('<I', h, 44, 0)
struct.pack_into('<I', h, 44, crc32c(h)); f.seek(0); f.write(h)
PY
}
cp "$S" "$T/flag4.snap"; set_hdr_flags "$T/flag4.snap" 4
expect_err "unknown header flag rejected" 1 \
	"$P: $T/flag4.snap: header: unknown header size 64, flags 0x4 or reserved bytes set" -- --resume "$T/flag4.snap"
# FOREIGN (0x2) on an own VM's snapshot: it has no SLOTS and no --attach trigger.
cp "$S" "$T/flag2.snap"; set_hdr_flags "$T/flag2.snap" 2
expect_err "FOREIGN flag on an own VM's snapshot rejected" 1 \
	"$P: $T/flag2.snap: section CONFIG: trigger 3 (--snapshot-at breakpoint) with the header's FOREIGN flag: only --attach PID --snapshot writes a foreign snapshot" -- --resume "$T/flag2.snap"
# A foreign VM's snapshot (reader_test's, in the fuzz corpus) is for gdb only.
F=selftests/snapshot/corpus/foreign-2cpu.snap
WHY="it was taken from a VM another VMM runs (--attach), whose devices are not recreated: this snapshot is for inspection under gdb (--gdb or --gdb-session), not for running"
expect_err "--resume of a foreign snapshot without gdb refused, with the reason" 1 \
	"$P: --resume $F: refused: $WHY" -- --resume "$F"
expect_err "--resume of a foreign snapshot with --snapshot refused (it would fake the state it lacks)" 2 \
	"$P: --resume $F: --snapshot FILE: refused: $WHY" -- --resume "$F" --gdb 1234 --snapshot "$T/re.snap"
# The same writer's FOREIGN file from a real 2-vCPU snapshot (what kvmdbg.ko's
# capture record holds, RAM in two slots around a hole at 0xa0000-0x100000):
# resumed under gdb it holds the own snapshot's registers and memory, and
# refuses to run or to be snapshotted.
FF=build/asan/selftests/snapshot/foreign_fixture
g=$T/gdb2
if "$FF" "$g.snap" "$T/f2.snap" 2>"$T/e"; then
	ok "foreign fixture: the writer makes a FOREIGN snapshot of a 2-vCPU one"
else
	not_ok "foreign fixture: the writer makes a FOREIGN snapshot of a 2-vCPU one" "$(cat "$T/e")"
fi
for which in own foreign; do
	snap=$g.snap
	[ $which = foreign ] && snap=$T/f2.snap
	cat >"$T/f.gdb" <<-EOF2
	set logging file $T/$which-regs.txt
	set logging overwrite on
	set logging redirect on
	set logging enabled on
	thread apply all info registers
	set logging enabled off
	monitor phys on
	dump binary memory $T/$which-mem.bin 0 0x200000
	monitor phys off
	EOF2
	[ $which = foreign ] && cat >>"$T/f.gdb" <<-EOF2
	printf "pc before: %#lx\n", \$pc
	continue
	printf "pc after: %#lx\n", \$pc
	monitor snapshot $T/again.snap
	EOF2
	"$LAUNCH" --resume "$snap" --symbols "$GUEST" --gdb-script "$T/f.gdb" >"$T/$which.o" 2>"$T/$which.e"
	echo $? >"$T/$which.rc"
done
# Thread lines differ on purpose: the own file knows vCPU 1 halted, a
# foreign one records no halted state.
check "foreign resume under gdb: general, segment and control registers of both vCPUs equal the own snapshot's" \
	cmp -s <(grep -v '^Thread ' "$T/own-regs.txt") <(grep -v '^Thread ' "$T/foreign-regs.txt")
check "foreign resume under gdb: the own vCPU 1 is halted, the foreign one just stopped (no halted state recorded)" \
	bash -c "grep -qx 'Thread 2 (Thread 2 (vCPU 1 halted)):' '$T/own-regs.txt' &&
		 grep -qx 'Thread 2 (Thread 2 (vCPU 1 stopped)):' '$T/foreign-regs.txt'"
check "foreign resume under gdb: 2 threads in the register dump" \
	[ "$(grep -c '^Thread ' "$T/foreign-regs.txt")" = 2 ]
check "foreign resume under gdb: guest memory 0-2M (two slots, the hole zero) byte-equal to the own snapshot's" \
	cmp -s "$T/own-mem.bin" "$T/foreign-mem.bin"
check "foreign resume under gdb: continue refused with the reason, the vCPU did not move" \
	bash -c "grep -qx 'gdb: continue refused: $WHY' '$T/foreign.e' &&
		 [ \"\$(sed -n 's/^pc before: //p' '$T/foreign.o')\" = \"\$(sed -n 's/^pc after: //p' '$T/foreign.o')\" ] &&
		 grep -q '^pc after: 0x' '$T/foreign.o'"
check "foreign resume under gdb: monitor snapshot refused (it would fake the state the file lacks), no file" \
	bash -c "grep -qx \"snapshot $T/again.snap: refused: the VM is a resumed snapshot of another VMM's VM, without the state KVM refuses to another process and without that VMM's devices\" '$T/foreign.e' &&
		 [ ! -e '$T/again.snap' ]"
check "foreign resume under gdb: no guest output, the session ends (gdb's status 1: the refused monitor command)" \
	bash -c "! grep -q phase '$T/foreign.o' && [ \"\$(cat '$T/foreign.rc')\" = 1 ]"
cp "$S" "$T/irq.snap"; set_hdr_flags "$T/irq.snap" 1
expect_err "IRQCHIP flag without LAPIC and device records rejected" 1 \
	"$P: $T/irq.snap: section VCPU 0: incomplete: an in-kernel irqchip snapshot needs a LAPIC record" -- --resume "$T/irq.snap"
# Run data moved onto the metadata or onto run 0's pages (OFFSET "run0"),
# every checksum recomputed: the overlap itself is refused, nothing is
# mapped. Usage: set_run_offset FILE RUN OFFSET; prints the run's old
# offset, its pages, run 0's offset and pages, and the metadata's end.
set_run_offset() {
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
def crc32c(b):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
        t.append(c)
    c = 0xFFFFFFFF
    for x in b:
        c = t[(c ^ x) & 0xff] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
f = open(sys.argv[1], 'r+b'); d = bytearray(f.read())
n = struct.unpack_from('<I', d, 20)[0]
tab = [list(struct.unpack_from('<IIQQII', d, 64 + 32 * i)) for i in range(n)]
mem = tab[-1][2]
at = mem + 16 + 32 * int(sys.argv[2])
old = struct.unpack_from('<QQQ', d, at); r0 = struct.unpack_from('<QQQ', d, mem + 16)
off = r0[2] if sys.argv[3] == 'run0' else int(sys.argv[3], 0)
struct.pack_into('<Q', d, at + 16, off)
struct.pack_into('<I', d, at + 24, crc32c(d[off:off + 4096 * old[1]]))
for i, e in enumerate(tab):
    struct.pack_into('<I', d, 64 + 32 * i + 24, crc32c(d[e[2]:e[2] + e[3]]))
struct.pack_into('<I', d, 40, crc32c(d[64:64 + 32 * n]))
struct.pack_into('<I', d, 44, 0); struct.pack_into('<I', d, 44, crc32c(d[:64]))
f.seek(0); f.write(d)
print(old[2], old[1], r0[2], r0[1], tab[-1][2] + tab[-1][3])
PY
}
# 2 vCPUs: page 0x1000-0x1fff holds vCPU state only, not the MEMORY
# section (a run over its own checksum could not be made consistent).
cp "$T/port2.snap" "$T/runmeta.snap"; read -r _ _ _ _ mend < <(set_run_offset "$T/runmeta.snap" 1 4096)
expect_err "run data on the metadata rejected" 1 \
	"$P: $T/runmeta.snap: section MEMORY: run 1: data at offset 0x1000 overlaps the metadata (header, table and sections: bytes 0-$(printf %#x "$mend"))" \
	-- --resume "$T/runmeta.snap"
cp "$S" "$T/runrun.snap"; read -r _ pages off0 pages0 _ < <(set_run_offset "$T/runrun.snap" 1 run0)
expect_err "run data shared with another run rejected" 1 \
	"$P: $T/runrun.snap: section MEMORY: run 1: data at offset $(printf '%#x-%#x' "$off0" $((off0 + pages * 4096))) overlaps the data of run 0 ($(printf '%#x-%#x' "$off0" $((off0 + pages0 * 4096))))" \
	-- --resume "$T/runrun.snap"

# --- a failed write keeps the old snapshot ---
MNT=$T/mnt; mkdir -p "$MNT"
if mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null; then
	cp "$T/port1.snap" "$MNT/s.snap" 2>/dev/null || true
	if [ -s "$MNT/s.snap" ] && cmp -s "$T/port1.snap" "$MNT/s.snap"; then
		"$LAUNCH" --snapshot "$MNT/s.snap" "$GUEST" >/dev/null 2>"$T/e"; rc=$?
		check "ENOSPC: guest still exits 7" [ $rc = 7 ]
		check "ENOSPC: one exact message" [ "$(cat "$T/e")" = \
			"$P: snapshot $MNT/s.snap: write failed: No space left on device; the previous snapshot there is untouched" ]
		check "ENOSPC: the old snapshot is intact" cmp -s "$T/port1.snap" "$MNT/s.snap"
		check "ENOSPC: no temp file left" [ "$(ls -A "$MNT")" = s.snap ]
		"$LAUNCH" --resume "$MNT/s.snap" >"$T/o" 2>/dev/null; rc=$?
		check "ENOSPC: the old snapshot still resumes" [ $rc = 7 ] && cmp -s "$T/o" <(tail -n +2 "$T/orig1")
	else
		not_ok "ENOSPC: the 64k tmpfs does not hold the first snapshot ($(stat -c %s "$T/port1.snap") bytes)"
	fi
	umount "$MNT"; MNT=
else
	not_ok "ENOSPC: cannot mount a tmpfs (run as root)"
fi

# --- batch driver status ---
printf 'info registers rip\nprint 6 * 7\n' >"$T/good.gdb"
printf 'print 1\nthis-is-not-a-command\nprint 2\n' >"$T/bad.gdb"
"$LAUNCH" --gdb-script "$T/good.gdb" "$GUEST" >"$T/o" 2>/dev/null; rc=$?
check "--gdb-script: a good script exits 0" [ $rc = 0 ] && grep -qx '\$1 = 42' "$T/o"
"$LAUNCH" --gdb-script "$T/bad.gdb" "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
check "--gdb-script: a failing script exits non-zero ($rc) and stops there" \
	[ $rc != 0 ] && ! grep -q '\$2 = 2' "$T/o" && grep -q 'Undefined command: "this-is-not-a-command"' "$T/e"
"$LAUNCH" --gdb-exec 'print 5' --gdb-exec 'print $_exitcode' "$GUEST" >"$T/o" 2>/dev/null; rc=$?
check "--gdb-exec (repeatable): runs each command, status 0" [ $rc = 0 ] && grep -qx '\$1 = 5' "$T/o"
check "driver: its temp directory and socket are gone" [ -z "$(ls -A "$TMPDIR")" ]

# --- symbols: --symbols > beside the snapshot > recorded image > $KVMDBG_ARTIFACTS ---
sym() { "$LAUNCH" "$@" --gdb-exec 'info symbol $pc' 2>&1 | awk '/^  symbols:/ {sub(/^  symbols: +/, ""); print}'; }
S=$T/at.snap
cp "$GUEST" "$T/explicit.elf"
check "symbols: --symbols wins" [ "$(sym --resume "$S" --symbols "$T/explicit.elf")" = "$T/explicit.elf (--symbols)" ]
check "symbols: the image recorded in the snapshot" [ "$(sym --resume "$S")" = "$GUEST (beside the snapshot)" ]
cp "$GUEST" "$S.elf"
check "symbols: <snapshot>.elf beats the recorded image" [ "$(sym --resume "$S")" = "$S.elf (beside the snapshot)" ]
rm -f "$S.elf"
# A snapshot whose image is gone: only the artifacts directory has it.
cp "$GUEST" "$T/gone.elf"
"$LAUNCH" --snapshot "$T/gone.snap" --snapshot-at snap_point --snapshot-exit "$T/gone.elf" >/dev/null 2>&1
rm -f "$T/gone.elf"
mkdir -p "$T/art"; cp "$GUEST" "$T/art/gone-$BUILD_ID"
check "symbols: \$KVMDBG_ARTIFACTS/<name>-<build-id>" \
	[ "$(KVMDBG_ARTIFACTS=$T/art sym --resume "$T/gone.snap")" = "$T/art/gone-$BUILD_ID (\$KVMDBG_ARTIFACTS)" ]
check "symbols: a miss lists every place tried" \
	[ "$(sym --resume "$T/gone.snap")" = "none found; tried $T/gone.snap.elf, $T/gone.snap.debug, $T/gone.elf, \$KVMDBG_ARTIFACTS (not set)" ]
expect_err "symbols: a missing --symbols FILE is an error" 1 \
	"$P: gdb driver: --symbols $T/nope.elf: cannot read it" -- --resume "$S" --symbols "$T/nope.elf" --gdb-exec 'print 1'

# --- bundled macros, end to end on a resumed snapshot ---
"$LAUNCH" --resume "$S" --gdb-exec kvm-vcpus --gdb-exec 'kvm-translate 0x102000' \
	--gdb-exec 'kvm-translate &data 0' --gdb-exec kvm-memmap --gdb-exec kvm-snapshot-info \
	--gdb-exec "kvm-snapshot $T/again.snap" >"$T/o" 2>"$T/e"; rc=$?
cat "$T/e" >>"$T/o"	# monitor output comes on gdb's stderr
check "macros: session status 0" [ $rc = 0 ]
check "kvm-snapshot: says written" grep -qx "snapshot written to $T/again.snap" "$T/o"
check "kvm-vcpus: vCPU 0 at snap_point, paging mode" \
	grep -qx "vCPU 0: rip $SNAP_POINT not halted, long mode (64-bit), 4-level paging" "$T/o"
check "kvm-vcpus: thread list" grep -qE '^\* 1 +Thread 1 \(vCPU 0 stopped\) .*snap_point' "$T/o"
check "kvm-translate: each level" bash -c "grep -qx '  PML4\[  0\] @ 0x000002000 = 0x0000000000003023  P RW S' $T/o &&
	grep -qx '  PD  \[  0\] @ 0x000006000 = 0x0000000000004023  P RW S' $T/o &&
	grep -qx '  PT  \[258\] @ 0x000004810 = 0x0000000000102063  P RW S' $T/o"
check "kvm-translate: result (twice, by address and by symbol)" \
	[ "$(grep -cx '0x102000 -> 0x102000 (4K page)' "$T/o")" = 2 ]
check "kvm-memmap: RAM and reserved area" bash -c "grep -qx 'guest RAM: 0x0-0x4000000 (64 MiB), identity-mapped, one memslot' $T/o &&
	grep -qE '^  [0-9]+ pages mapped copy-on-write from $S$' $T/o"
printf '%s\n' 'guest RAM: 0x0-0x4000000 (64 MiB), identity-mapped, one memslot' \
	'  0x00000000-0x00001000  not present (NULL guard)' \
	'  0x00001000-0x00002000  GDT' \
	'  0x00002000-0x00003000  page table (PML4)' \
	'  0x00003000-0x00004000  page table (PDPT)' \
	'  0x00004000-0x00005000  page table (PT of the first 2 MiB)' \
	'  0x00005000-0x00006000  TSS' \
	'  0x00006000-0x00007000  page table (page directory)' \
	'  0x00080000-0x00090000  vCPU stacks, 1 x 0x10000' \
	'  0x00100000-0x04000000  guest image and free RAM' > "$T/memmap.want"
check "kvm-memmap: the layout's regions, then the ELF machine's lines" \
	bash -c "grep -A9 -x 'guest RAM: .*' $T/o | diff $T/memmap.want -"
check "kvm-snapshot-info: trigger and vCPUs" bash -c "grep -qE '^captured: .* by --snapshot-at breakpoint at $SNAP_POINT; userspace capture' $T/o &&
	grep -qx '  vCPU 0:  rip $SNAP_POINT' $T/o && grep -qx 'image:     $GUEST (build-id $BUILD_ID)' $T/o"
check "kvm-snapshot: writes a snapshot that resumes" [ -s "$T/again.snap" ] && \
	[ "$("$LAUNCH" --resume "$T/again.snap" 2>/dev/null | tail -1)" = "done: 180000 spins" ]
check "debug context block printed" bash -c "grep -qx '  snapshot:       $S (captured by --snapshot-at breakpoint; image $GUEST)' $T/e &&
	grep -qx '  vCPUs:          1, held at the resume point until gdb continues' $T/e"

# --- snapshot targets: never a device, FIFO, symlink or write-protected file ---
# Each one refused before the guest runs (status 2, one line) and left as it was.
mknod "$T/chr" c 1 3 && mkfifo "$T/fifo" && ln -s "$T/link-target" "$T/link" &&
	echo keep >"$T/ro" && chmod 0400 "$T/ro"
expect_err "--snapshot onto a character device refused (status 2)" 2 \
	"$P: --snapshot $T/chr: it exists and is a character device, not a regular file; refusing to replace it (give a new path or a regular file's)" \
	-- --snapshot "$T/chr" "$GUEST"
check "--snapshot onto a character device: still that device" [ -c "$T/chr" ]
expect_err "--snapshot onto a FIFO refused (status 2)" 2 \
	"$P: --snapshot $T/fifo: it exists and is a FIFO, not a regular file; refusing to replace it (give a new path or a regular file's)" \
	-- --snapshot "$T/fifo" "$GUEST"
check "--snapshot onto a FIFO: still a FIFO" [ -p "$T/fifo" ]
expect_err "--snapshot onto a symlink refused, not followed (status 2)" 2 \
	"$P: --snapshot $T/link: it exists and is a symbolic link, not a regular file; refusing to replace it (give a new path or a regular file's)" \
	-- --snapshot "$T/link" "$GUEST"
check "--snapshot onto a symlink: still the link, its target not created" \
	[ -L "$T/link" -a "$(readlink "$T/link")" = "$T/link-target" -a ! -e "$T/link-target" ]
expect_err "--snapshot onto a 0400 file refused (status 2)" 2 \
	"$P: --snapshot $T/ro: the existing file is write-protected (mode 0400); refusing to replace it (make it writable or remove it first)" \
	-- --snapshot "$T/ro" "$GUEST"
check "--snapshot onto a 0400 file: content and mode kept" \
	[ "$(cat "$T/ro")" = keep -a "$(stat -c %a "$T/ro")" = 400 ]
expect_err "--snapshot into a missing directory refused (status 2)" 2 \
	"$P: --snapshot $T/nodir/s.snap: directory $T/nodir: No such file or directory; create it first" \
	-- --snapshot "$T/nodir/s.snap" "$GUEST"
# From gdb: the writer itself refuses, and gdb's monitor command fails (E
# reply after the message), so a batch script stops there.
mon_snap() {
	printf 'monitor snapshot %s\nprint 6 * 7\n' "$1" >"$T/mon.gdb"
	(cd "$T/cwd" && "$LAUNCH" --gdb-script "$T/mon.gdb" "$GUEST" >"$T/o" 2>"$T/e"); echo $? >"$T/rc"
}
mkdir -p "$T/cwd"
mon_snap rel.snap
check "monitor snapshot RELATIVE: refused in one line, the script stops (status $(cat "$T/rc"))" \
	[ "$(cat "$T/rc")" != 0 ] && grep -qx "snapshot rel.snap: give an absolute path (a relative one would land in the launcher's working directory)" "$T/e" &&
	! grep -q '\$1 = 42' "$T/o"
check "monitor snapshot RELATIVE: nothing written in the launcher's directory" [ -z "$(ls -A "$T/cwd")" ]
mkfifo "$T/mfifo"
mon_snap "$T/mfifo"
check "monitor snapshot onto a FIFO: the writer refuses, the script stops" \
	[ "$(cat "$T/rc")" != 0 -a -p "$T/mfifo" ] && ! grep -q '\$1 = 42' "$T/o" &&
	grep -qx "snapshot $T/mfifo: it exists and is a FIFO, not a regular file; refusing to replace it (give a new path or a regular file's)" "$T/e"
mon_snap "$T/nodir/m.snap"
check "monitor snapshot into a missing directory: one line, the script stops" \
	[ "$(cat "$T/rc")" != 0 ] && ! grep -q '\$1 = 42' "$T/o" &&
	grep -qx "snapshot $T/nodir/m.snap: directory $T/nodir: No such file or directory; create it first" "$T/e"
(cd "$T/cwd" && "$LAUNCH" --gdb-exec 'print 1' --gdb-exec "monitor snapshot $T/nodir/m.snap" "$GUEST" >"$T/o" 2>"$T/e"); rc=$?
check "--gdb-exec 'monitor snapshot' that fails: gdb's command errors, the session's status is 1" \
	[ $rc = 1 ] && grep -qx "snapshot $T/nodir/m.snap: directory $T/nodir: No such file or directory; create it first" "$T/e"

# --- resume inputs that must not hang ---
mkfifo "$T/rfifo"
timeout 20 "$LAUNCH" --resume "$T/rfifo" >"$T/o" 2>"$T/e"; rc=$?
check "--resume FIFO: refused at once (status $rc), not blocked in open()" \
	[ $rc = 1 -a "$(cat "$T/e")" = "$P: $T/rfifo: file: not a regular file" ]
# A checksum-valid 2-vCPU snapshot with vCPU 0 marked halted too (vCPU 1 is).
python3 - "$T/port2.snap" "$T/halted.snap" <<'PY'
import struct, sys
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF
d = bytearray(open(sys.argv[1], 'rb').read())
n = struct.unpack_from('<I', d, 20)[0]
ent = 64 + 32 * (n - 2)			# DEVICES: second to last
typ, _, off, size = struct.unpack_from('<IIQQ', d, ent)
assert typ == 3 and d[off + 9] == 1	# vCPU 1 halted in the original
d[off + 8] = 1
struct.pack_into('<I', d, ent + 24, crc32c(d[off:off + size]))
struct.pack_into('<I', d, 40, crc32c(d[64:64 + 32 * n]))
struct.pack_into('<I', d, 44, 0)
struct.pack_into('<I', d, 44, crc32c(d[0:64]))
open(sys.argv[2], 'wb').write(d)
PY
timeout 20 "$LAUNCH" --resume "$T/halted.snap" >"$T/o" 2>"$T/e"; rc=$?
check "--resume of a snapshot whose every vCPU is halted: refused (status $rc), does not idle forever" \
	[ $rc = 1 -a ! -s "$T/o" -a "$(cat "$T/e")" = "$P: $T/halted.snap: section DEVICES: every vCPU is halted, so nothing would ever run (a live VM ends with status 0 there); nothing to resume" ]

# --- breakpoints never reach a snapshot (SIGUSR1, port 0xF5) ---
# gdb's int3 sits at tick() when the guest asks for a snapshot (port 0xF5,
# before the first tick): the file must hold the guest's own byte there,
# and resume without gdb must run to the original end.
TICK=$(nm "$GUEST" | awk '$3 == "tick" {print "0x" $1}')
snap_byte() {	# FILE GPA: the byte stored for guest-physical GPA, or "zero"
	python3 - "$1" "$2" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read(); gpa = int(sys.argv[2], 0)
n = struct.unpack_from('<I', d, 20)[0]
_, _, off, size = struct.unpack_from('<IIQQ', d, 64 + 32 * (n - 1))
nr = struct.unpack_from('<Q', d, off)[0]
for i in range(nr):
    g, pages, o = struct.unpack_from('<QQQ', d, off + 16 + 32 * i)
    if g <= gpa < g + pages * 4096:
        print('%#04x' % d[o + gpa - g]); break
else:
    print('zero')
PY
}
S=$T/bp-port.snap
printf 'break *tick\ncontinue\nkill\n' >"$T/bp.gdb"
"$LAUNCH" --snapshot "$S" --gdb-script "$T/bp.gdb" "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
check "breakpoint + port 0xF5: snapshot written with gdb's int3 at tick" \
	grep -qx "$P: snapshot written to $S (guest write to port 0xf5)" "$T/e"
check "breakpoint + port 0xF5: the file holds the guest's byte at tick ($(snap_byte "$S" "$TICK")), as a snapshot without gdb" \
	[ "$(snap_byte "$S" "$TICK")" = "$(snap_byte "$T/port1.snap" "$TICK")" -a "$(snap_byte "$S" "$TICK")" != 0xcc ]
"$LAUNCH" --resume "$S" >"$T/o" 2>"$T/e"; rc=$?
check "breakpoint + port 0xF5: resume runs to the original end (status $rc)" \
	[ $rc = 7 ] && cmp -s "$T/o" <(tail -n +2 "$T/orig1")
S=$T/bp-usr1.snap
printf 'break *guest_exit\ncontinue\nkill\n' >"$T/bp.gdb"
"$LAUNCH" --snapshot "$S" --gdb-script "$T/bp.gdb" "$GUEST" >"$T/bp.out" 2>"$T/bp.err" &
pid=$!
for _ in $(seq 1000); do grep -q '^tick 1$' "$T/bp.out" && break; sleep 0.01; done
kill -USR1 $pid
wait $pid
EXIT_AT=$(nm "$GUEST" | awk '$3 == "guest_exit" {print "0x" $1}')
check "breakpoint + SIGUSR1: snapshot written while gdb's int3 sits at guest_exit" \
	grep -qx "$P: snapshot written to $S (SIGUSR1)" "$T/bp.err"
check "breakpoint + SIGUSR1: the file holds the guest's byte at guest_exit ($(snap_byte "$S" "$EXIT_AT"))" \
	[ "$(snap_byte "$S" "$EXIT_AT")" = "$(snap_byte "$T/port1.snap" "$EXIT_AT")" -a "$(snap_byte "$S" "$EXIT_AT")" != 0xcc ]
"$LAUNCH" --resume "$S" >"$T/o" 2>"$T/e"; rc=$?
check "breakpoint + SIGUSR1: resume runs to the original end (status $rc)" \
	[ $rc = 7 ] && [ "$(tail -1 "$T/o")" = "done: 180000 spins" ]

# --- kill -9 during a write: nothing left behind, the previous snapshot intact ---
# A flat guest that touches 48K pages (192 MiB) and asks for a snapshot
# (port 0xF5): each write takes long enough to be caught with an open
# file in the directory and killed there.
K=$T/kill; mkdir -p "$K"
printf '\x48\xc7\xc7\x00\x00\x20\x00\x48\xc7\xc1\x00\xc0\x00\x00\x48\x89\x3f\x48\x81\xc7\x00\x10\x00\x00\x48\xff\xc9\x75\xf1\xb0\x01\xe6\xf5\x31\xc0\xe7\xf4' >"$T/touch.bin"
BIG=(--mem 256M --flat --load-addr 0x100000 --snapshot "$K/s.snap" "$T/touch.bin")
"$LAUNCH" "${BIG[@]}" >/dev/null 2>&1
cp "$K/s.snap" "$T/big-first.snap"
killed=0
for _ in $(seq 30); do
	"$LAUNCH" "${BIG[@]}" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 3000); do
		if find "/proc/$pid/fd" -lname "$K/*" 2>/dev/null | grep -q .; then
			kill -9 $pid && killed=$((killed + 1))
			break
		fi
		kill -0 $pid 2>/dev/null || break
	done
	wait $pid 2>/dev/null
	[ $killed -ge 5 ] && break
done
check "kill -9 during a 192 MiB snapshot write ($killed times): no temp file left in the directory" \
	[ $killed -ge 5 -a "$(ls -A "$K")" = s.snap ]
"$LAUNCH" --resume "$K/s.snap" >"$T/o" 2>"$T/e"; rc=$?
check "kill -9 during a write: the previous snapshot is whole and resumes (status $rc)" \
	[ $rc = 0 -a ! -s "$T/e" -a "$(stat -c %s "$K/s.snap")" = "$(stat -c %s "$T/big-first.snap")" ]

# --- in-place changes of a resumed VM's snapshot file ---
# The VM holds a read lease: cp's and truncate's open() for writing waits
# until the VM has moved its memory off the file, so the guest runs on
# exactly as an undisturbed resume does.
"$LAUNCH" --resume "$T/at.snap" >"$T/at.ref" 2>/dev/null
head -c "$(stat -c %s "$T/at.snap")" /dev/urandom >"$T/junk.snap"
inplace() {	# cp|truncate
	cp "$T/at.snap" "$T/live.snap"
	"$LAUNCH" --resume "$T/live.snap" >"$T/live.out" 2>"$T/live.err" &
	pid=$!
	for _ in $(seq 1000); do grep -q '^phase 2' "$T/live.out" && break; sleep 0.01; done
	if [ "$1" = cp ]; then
		cp "$T/junk.snap" "$T/live.snap"
	else	# truncate opens O_NONBLOCK: EAGAIN until the lease is gone
		for _ in $(seq 500); do truncate -s 0 "$T/live.snap" 2>/dev/null && break; sleep 0.01; done
	fi
	wait $pid; echo $? >"$T/rc"
}
for how in cp truncate; do
	inplace $how
	check "$how onto a running resumed VM's file: the guest runs on unchanged (status $(cat "$T/rc"))" \
		[ "$(cat "$T/rc")" = 7 ] && cmp -s "$T/live.out" "$T/at.ref"
	check "$how onto a running resumed VM's file: one line says so" \
		grep -qx "$P: $T/live.snap is being modified; the running VM now holds its own copy of its memory" "$T/live.err"
done
check "truncate went through once the VM let go" [ "$(stat -c %s "$T/live.snap")" = 0 ]
# A resumed VM writing its snapshot onto its own source (rename: a new
# inode) breaks no lease, and the new file holds the pages still mapped
# from the old one.
cp "$T/at.snap" "$T/self.snap"
"$LAUNCH" --resume "$T/self.snap" --snapshot "$T/self.snap" >"$T/o" 2>"$T/e"; rc=$?
check "resumed VM snapshots onto its own file: status 7, one message, no lease break" \
	[ $rc = 7 -a "$(cat "$T/e")" = "$P: snapshot written to $T/self.snap (guest write to port 0xf5)" ]
"$LAUNCH" --resume "$T/self.snap" >"$T/o" 2>/dev/null; rc=$?
check "its new snapshot resumes to the original end (status $rc)" \
	[ $rc = 7 ] && cmp -s "$T/o" <(tail -n +2 "$T/at.ref")

# --- option errors ---
expect_err "--snapshot-at needs --snapshot" 2 "$P: --snapshot-at needs --snapshot FILE" -- --snapshot-at snap_point "$GUEST"
# --snapshot-at under the gdb driver (it once was refused): written, gdb sees the end.
"$LAUNCH" --snapshot "$T/drv.snap" --snapshot-at snap_point --snapshot-exit --gdb-exec continue \
	"$GUEST" >"$T/o" 2>"$T/e"; rc=$?
check "--snapshot-at with --gdb-exec: status 0, written by the breakpoint, gdb saw the exit" \
	[ $rc = 0 ] && grep -qx "$P: snapshot written to $T/drv.snap (--snapshot-at breakpoint)" "$T/e" &&
	grep -qx '\[Inferior 1 (Remote target) exited normally\]' "$T/o"
check "--snapshot-at with --gdb-exec: the snapshot resumes to the end" \
	[ "$("$LAUNCH" --resume "$T/drv.snap" 2>/dev/null | tail -1)" = "done: 180000 spins" ]
expect_err "--snapshot-at unknown symbol" 2 "$P: --snapshot-at: symbol 'nosuch' not found in $GUEST" \
	-- --snapshot x --snapshot-at nosuch "$GUEST"
expect_err "--resume with --cpus refused" 2 \
	"$P: --resume: vCPUs, memory and image come from the snapshot; drop --cpus, --mem, --flat, --load-addr, --entry" \
	-- --resume "$S" --cpus 2

# --- --snapshot-at that never fires, --snapshot-exit whose write failed ---
# (A guest that ends first stands for a KVM that never delivers the
# breakpoint, as the nested test VM's.) hello.elf never calls memcpy.
HELLO=$PWD/build/examples/hello.elf
"$LAUNCH" --snapshot "$T/never.snap" --snapshot-at memcpy "$HELLO" >"$T/o" 2>"$T/e"; rc=$?
check "--snapshot-at never reached: status 1 (was 0)" [ $rc = 1 ]
check "--snapshot-at never reached: one exact line, no file" [ "$(cat "$T/e")" = \
	"$P: --snapshot-at memcpy: the guest ended before it was reached; no snapshot written" ] && [ ! -e "$T/never.snap" ]
check "--snapshot-at never reached: the guest's output as usual" [ "$(cat "$T/o")" = "Hello from kvmdbg guest" ]
# snapguest writes port 0xF5 itself: that snapshot is counted, not hidden.
"$LAUNCH" --snapshot "$T/never.snap" --snapshot-at 0x3000000 "$GUEST" >/dev/null 2>"$T/e"; rc=$?
check "--snapshot-at never reached, port 0xF5 wrote one: status 1, both said" [ $rc = 1 ] && [ "$(cat "$T/e")" = \
	"$P: snapshot written to $T/never.snap (guest write to port 0xf5)
$P: --snapshot-at 0x3000000: the guest ended before it was reached; 1 snapshot(s) written by other triggers" ]
"$LAUNCH" --snapshot "$T/never.snap" --snapshot-at 0x3000000 --snapshot-exit "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
check "--snapshot-exit after another trigger's snapshot: status 0, ends there" [ $rc = 0 ] &&
	[ "$(cat "$T/o")" = "phase 1: 1 vCPUs, checksum 0x673ce800" ]
MNT=$T/mnt16k; mkdir -p "$MNT"
if mount -t tmpfs -o size=16k tmpfs "$MNT" 2>/dev/null; then
	"$LAUNCH" --snapshot "$MNT/s.snap" --snapshot-at snap_point --snapshot-exit "$GUEST" >"$T/o" 2>"$T/e"; rc=$?
	check "--snapshot-exit, write failed (ENOSPC): status 1, not the guest's 7" [ $rc = 1 ]
	check "--snapshot-exit, write failed: the guest ends at once (no phase 2)" \
		[ "$(cat "$T/o")" = "phase 1: 1 vCPUs, checksum 0x673ce800" ]
	check "--snapshot-exit, write failed: one exact line" [ "$(cat "$T/e")" = \
		"$P: snapshot $MNT/s.snap: write failed: No space left on device; no snapshot written" ]
	umount "$MNT"; MNT=
else
	not_ok "--snapshot-exit, write failed: cannot mount a tmpfs (run as root)"
fi

echo "1..$n"
exit $((failed > 0))
