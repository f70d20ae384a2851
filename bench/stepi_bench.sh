#!/bin/bash
# stepi rate, one gdb against several stubs, interleaved in one run:
#   new      this tree's build/kvmdbg-launch
#   nospin   the same, KVMDBG_STEP_SPIN_US=0 (the step's resume sleeps in
#            poll() for the stop instead of spinning for it)
#   nosync   the same, KVMDBG_NO_SYNC_REGS=1 (registers by KVM_GET_REGS/
#            SREGS instead of kvm_run's sync area)
#   norx     the same, KVMDBG_RX_SPIN_US=0 (the server sleeps in poll()
#            for gdb's next packet at once instead of looking for it first)
#   before   BEFORE=path/to/kvmdbg-launch (e.g. main built in a scratch
#            dir), if given
#   qemu     qemu-system-x86_64 -accel kvm (falls back to tcg, and says so)
# Each round runs every stub once, in an order rotated round by round;
# the figure is the median over ROUNDS of STEPS / wall time of gdb's
# `stepi STEPS` (bench/gdb_measure.py's timing: perf_counter around the
# command). Both step the bench loop (examples/flat/benchloop.S: 14 NOPs
# and a short jmp, the same bytes at 0x100000): kvmdbg-launch --flat in
# long mode, QEMU from its reset vector under -S through bench-bios.S (19
# instructions) into the loop in 32-bit protected mode; gdb 13 sends the
# same packets per step to both (vCont;s, the stop reply, two m). For the
# full comparison with every byte and pc checked see gdb_bench.sh; this
# one is for what each part of the step path saves. Not a test: nothing
# is asserted. Prints a table with the ratios to qemu and to before.
STEPS=${STEPS:-2000}
ROUNDS=${ROUNDS:-7}
BEFORE=${BEFORE:-}
loop=build/examples/benchloop.bin
bios=build/examples/bench-bios.bin
[ -x build/kvmdbg-launch ] && [ -f "$loop" ] && [ -f "$bios" ] || { echo "stepi_bench: run 'make' first" >&2; exit 1; }
[ -z "$BEFORE" ] || [ -x "$BEFORE" ] || { echo "stepi_bench: BEFORE=$BEFORE is not an executable" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "stepi_bench: qemu-system-x86_64 missing: run scripts/deps.sh" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
results=$(mktemp)
script=$(mktemp --suffix=.py)
trap 'rm -f "$results" "$script"' EXIT
cat >"$script" <<'EOF'
import os, time, gdb
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote " + os.environ["BENCH_TARGET"])
if os.environ.get("BENCH_BREAK"):
    gdb.execute("break " + os.environ["BENCH_BREAK"])
    gdb.execute("continue")
    gdb.execute("delete")
steps = int(os.environ["BENCH_STEPS"])
pc0 = int(gdb.parse_and_eval("$pc"))
t0 = time.perf_counter()
gdb.execute("stepi %d" % steps, to_string=True)
dt = time.perf_counter() - t0
# A stub that did not step would be fast and wrong: say so instead.
pc = int(gdb.parse_and_eval("$pc"))
if pc == pc0 or not 0x100000 <= pc < 0x10000f:
    print("BENCH error pc %#x after stepi: not a step into the bench loop" % pc)
else:
    print("BENCH steps_s %.0f" % (steps / dt))
gdb.execute("kill")
EOF

accel=kvm
if ! echo quit | timeout 10 qemu-system-x86_64 -accel kvm -m 16M -nodefaults \
	-display none -S -monitor stdio >/dev/null 2>&1; then
	accel=tcg
	echo "stepi_bench: qemu -accel kvm does not start here: qemu uses tcg" >&2
fi

# measure NAME PORT [BREAK [FILE]]
measure() {
	BENCH_TARGET=127.0.0.1:$2 BENCH_STEPS=$STEPS BENCH_BREAK=${3:-} \
		timeout 300 gdb -batch -nx -x "$script" ${4:-} 2>/dev/null |
		sed -n "s/^BENCH steps_s /$1 /p; s/^BENCH error/$1 error/p" >>"$results"
}
run_launcher() {	# NAME BINARY [ENV...]
	local name=$1 bin=$2 port pid
	shift 2
	port=$(free_port)
	env "$@" "$bin" --mem 64M --gdb "127.0.0.1:$port" --flat --load-addr 0x100000 \
		"$loop" >/dev/null 2>&1 &
	pid=$!
	scripts/wait-listen.sh "$port" "$pid"
	measure "$name" "$port"
	wait "$pid" 2>/dev/null || true
}
run_one() {
	case $1 in
	new) run_launcher new build/kvmdbg-launch ;;
	nospin) run_launcher nospin build/kvmdbg-launch KVMDBG_STEP_SPIN_US=0 ;;
	nosync) run_launcher nosync build/kvmdbg-launch KVMDBG_NO_SYNC_REGS=1 ;;
	norx) run_launcher norx build/kvmdbg-launch KVMDBG_RX_SPIN_US=0 ;;
	before) run_launcher before "$BEFORE" ;;
	qemu)
		local port pid
		port=$(free_port)
		qemu-system-x86_64 -accel $accel -m 64M -nodefaults -nographic -display none \
			-bios "$bios" -device "loader,file=$loop,addr=0x100000,force-raw=on" \
			-S -gdb "tcp:127.0.0.1:$port" >/dev/null 2>&1 &
		pid=$!
		scripts/wait-listen.sh "$port" "$pid"
		measure qemu "$port"
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		;;
	esac
}

names="new nospin nosync norx qemu"
[ -n "$BEFORE" ] && names="new nospin nosync norx before qemu"
set -- $names
n=$#
for r in $(seq "$ROUNDS"); do
	# Rotate the order: round r starts with the (r mod n)th stub.
	k=$(( (r - 1) % n ))
	order="${*:k+1} ${*:1:k}"
	for name in $order; do
		run_one "$name"
	done
	echo "stepi_bench: round $r of $ROUNDS done ($order)" >&2
done

median() { sort -n | awk '{v[NR]=$1} END {if (!NR) print 0; else print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
fig() { awk -v n="$1" '$1==n && $2!="error" {print $2}' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0) ? "%.2fx" : "-", a / b}'; }

echo "gdb $(gdb --version | head -1 | awk '{print $NF}'), $(qemu-system-x86_64 --version | head -1) -accel $accel, $(nproc) CPUs, $(uname -r), $(date -u +%F)"
echo "median of $ROUNDS interleaved rounds; stepi $STEPS; steps/s"
if grep -q ' error' "$results"; then
	echo "stubs whose pc did not move (their rounds left out): $(awk '$2=="error" {print $1}' "$results" | sort -u | tr '\n' ' ')"
fi
q=$(fig qemu)
b=$(fig before)
printf '%-8s %10s %10s %10s\n' stub steps/s "vs qemu" "vs before"
for name in $names; do
	a=$(fig "$name")
	printf '%-8s %10s %10s %10s\n' "$name" "$a" "$(ratio "$a" "$q")" \
		"$( [ -n "$BEFORE" ] && ratio "$a" "$b" || echo -)"
done
