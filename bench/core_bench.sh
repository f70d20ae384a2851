#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Core dump of a 256 MiB guest that touched 32 MiB (issue 12): gdb's
# `monitor dump FILE` on kvmdbg-launch --gdb, against QEMU's
# dump-guest-memory (QMP) of a same-size QEMU guest that touched the same
# 32 MiB, against cp --sparse=always + fsync of the kvmdbg core (the
# floor), all in one run, in one directory, interleaved round by round.
# Not a test: prints a table, asserts no timing. Usage (top of the tree,
# after make):
#
#   [IDLE=S] bench/core_bench.sh [ROUNDS] [DIR]
#          (default 10 rounds, 10 s idle; every file goes to a new
#          directory in DIR, default $TMPDIR or /var/tmp, removed at the end)
#
# The guests are generated here (binutils): each stores 0x5a over the
# 32 MiB at 2 MiB (rep stos), then idles.
#   kvmdbg: a flat 64-bit binary, stopped by gdb on a hardware breakpoint
#           at its idle loop (`jmp .`); the figure is gdb's monitor command
#           round trip, timed inside gdb (bench/core_measure.py), so gdb's
#           own start is not in it. The core is fsynced (and its directory)
#           before the reply: kvmdbg writes atomically.
#   QEMU:   a multiboot kernel (-kernel, 32-bit protected mode, `hlt`
#           loop), -accel kvm when this host's QEMU can use /dev/kvm, else
#           tcg (the header line says which); the figure is the QMP round
#           trip of dump-guest-memory (paging off, ELF, synchronous). QEMU
#           does not fsync its core: a second row adds the fsync. (Its
#           core is ELF64 with EM_386, as QEMU writes for a guest outside
#           long mode: all 256 MiB of RAM, the same amount either way.)
#   cp:     cp --sparse=always of that round's kvmdbg core to a new file,
#           then fsync of the copy (same bytes, same file system).
# Every output is removed before its writer runs again, and each one is
# checked after its timing: readelf -n lists exactly one NT_PRSTATUS, and
# its PT_LOAD holds 0x5a at the first and last touched byte and 0 just
# past them. Round 1 is shown apart: each writer runs it after IDLE
# seconds of idle (on the development host, before user/core wrote in
# 128 KiB pieces, kvmdbg's first dump after idle was 4x its later ones).
set -eu -o pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-10}
IDLE=${IDLE:-10}
BASE=${2:-${TMPDIR:-/var/tmp}}
LAUNCH=build/kvmdbg-launch
case $ROUNDS in
'' | *[!0-9]* | 0 | 1) echo "bench: ROUNDS must be a number >= 2, got '$ROUNDS'" >&2; exit 1 ;;
esac
case $IDLE in
'' | *[!0-9]*) echo "bench: IDLE must be whole seconds, got '$IDLE'" >&2; exit 1 ;;
esac
[ -d "$BASE" ] || { echo "bench: $BASE is not a directory: give an existing one" >&2; exit 1; }
[ -x "$LAUNCH" ] || { echo "bench: run make first" >&2; exit 1; }
for t in qemu-system-x86_64 gdb as objcopy nm readelf; do
	command -v "$t" >/dev/null || { echo "bench: $t missing: run scripts/deps.sh" >&2; exit 1; }
done
DIR=$(mktemp -d "$(cd "$BASE" && pwd)/kvmdbg-corebench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

cat >"$DIR/k.S" <<'EOF'
	.code64			# kvmdbg-launch: long mode, RAM identity-mapped
	mov	$0x200000, %rdi
	mov	$(32 << 20) / 8, %rcx
	movabs	$0x5a5a5a5a5a5a5a5a, %rax
	cld
	rep stosq
	.globl	idle
idle:	jmp	idle
EOF
cat >"$DIR/q.S" <<'EOF'
	.code32			# multiboot: protected mode, paging off
	.set	MAGIC, 0x1badb002
	.set	FLAGS, 1 << 16	# load addresses in the header (flat image)
	.set	BASE, 0x100000
start:	.long	MAGIC, FLAGS, -(MAGIC + FLAGS)
	.long	BASE, BASE, 0, 0, BASE + entry - start
entry:	mov	$0x200000, %edi
	mov	$(32 << 20) / 4, %ecx
	mov	$0x5a5a5a5a, %eax
	cld
	rep stosl
	mov	$'D', %al	# done: one byte on the debugcon port
	out	%al, $0xe9
1:	hlt
	jmp	1b
EOF
for g in k q; do
	as $([ $g = q ] && echo --32) -o "$DIR/$g.o" "$DIR/$g.S"
	objcopy -O binary "$DIR/$g.o" "$DIR/$g.bin"
done
idle=$(printf '%#x' $((0x100000 + 0x$(nm "$DIR/k.o" | awk '$3 == "idle" {print $1}'))))

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# QEMU first: its firmware boots slowly where guest kernel code is emulated.
qemu_start() {
	: >"$DIR/debugcon"
	qemu-system-x86_64 -accel "$1" -m 256M -smp 1 -nodefaults -nographic -display none \
		-kernel "$DIR/q.bin" -chardev file,id=dc,path="$DIR/debugcon" \
		-device isa-debugcon,iobase=0xe9,chardev=dc \
		-qmp unix:"$DIR/qmp.sock",server=on,wait=off >"$DIR/qemu.log" 2>&1 &
	qpid=$!
}
accel=kvm
qemu_start kvm
sleep 1
if ! kill -0 "$qpid" 2>/dev/null; then
	echo "bench: QEMU cannot use /dev/kvm here ($(head -1 "$DIR/qemu.log")); using tcg" >&2
	accel=tcg
	qemu_start tcg
fi
pids+=("$qpid")
for _ in $(seq 1800); do
	[ -s "$DIR/debugcon" ] && break
	kill -0 "$qpid" 2>/dev/null || { echo "bench: QEMU ended: $(cat "$DIR/qemu.log")" >&2; exit 1; }
	sleep 0.1
done
[ "$(cat "$DIR/debugcon")" = D ] || { echo "bench: the QEMU guest did not finish its stores in 180 s" >&2; exit 1; }

port=$(free_port)
"$LAUNCH" --mem 256M --flat --load-addr 0x100000 --gdb "127.0.0.1:$port" "$DIR/k.bin" \
	>"$DIR/launch.log" 2>&1 &
lpid=$!
pids+=("$lpid")
scripts/wait-listen.sh "$port" "$lpid"

sync
sleep 1
echo "# core bench: 256 MiB guests, 32 MiB touched; $(df -T "$DIR" | awk 'NR == 2 {print $2}') ($DIR)"
echo "# $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //');" \
	"$(gdb --version | head -1 | awk '{print "gdb " $NF}'), $(qemu-system-x86_64 --version | head -1 | awk '{print "QEMU " $4}') -accel $accel"
BENCH_TARGET=127.0.0.1:$port BENCH_IDLE=$idle BENCH_DIR=$DIR BENCH_QMP=$DIR/qmp.sock \
	BENCH_ROUNDS=$ROUNDS BENCH_IDLE_S=$IDLE timeout 900 gdb -batch -nx -x bench/core_measure.py 2>&1 |
	sed -n 's/^BENCH //p'
