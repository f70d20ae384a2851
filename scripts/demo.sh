#!/bin/bash
# The main job on a bundled example guest: run examples/guests/callchain
# under kvmdbg-launch with its gdb stub, and drive a real gdb session in
# batch mode: stop at the entry point, set a breakpoint on c(), continue to
# it, show the call chain and the registers, then let the guest finish and
# show its output.
set -eu
cd "$(dirname "$0")/.."

guest=build/examples/callchain.elf
launch=build/kvmdbg-launch
for f in "$guest" "$launch"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "demo: $f is missing: run 'make' first" >&2; exit 1; }
done
[ -e /dev/kvm ] || { echo "demo: /dev/kvm is missing: this needs a host with KVM enabled" >&2; exit 1; }

# A free TCP port: bind to port 0 and ask what the kernel picked.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(mktemp)
trap 'rm -f "$out"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; true' EXIT

echo "demo: $launch --gdb 127.0.0.1:$port $guest"
"$launch" --gdb "127.0.0.1:$port" "$guest" >"$out" &
pid=$!

# Connect only once the stub listens: poll with a deadline.
scripts/wait-listen.sh "$port" "$pid" 20

echo "demo: gdb session"
timeout 120 gdb -batch -nx \
	-ex 'set pagination off' \
	-ex "file $guest" \
	-ex "target remote 127.0.0.1:$port" \
	-ex 'echo --- stopped at the entry point:\n' \
	-ex 'info registers rip' \
	-ex 'info threads' \
	-ex 'break c' \
	-ex 'continue' \
	-ex 'echo --- at the breakpoint:\n' \
	-ex 'backtrace' \
	-ex 'info registers rip rsp rdi' \
	-ex 'delete' \
	-ex 'continue'

status=0
wait "$pid" || status=$?
pid=
echo "demo: guest output:"
cat "$out"
echo "demo: guest exit status $status"
