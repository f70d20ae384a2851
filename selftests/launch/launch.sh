#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvmdbg-launch (the ASan/UBSan build) on the host's /dev/kvm: every
# example guest with its exact output and exit status, crashes, and every
# kind of bad input with its exact one-line message. Prints TAP.
#
# Usage: selftests/launch/launch.sh [LAUNCHER]   (from the top of the tree)
set -u

LAUNCH=${1:-build/asan/kvmdbg-launch}
EX=build/examples
TMP=$(mktemp -d /tmp/kvmdbg-launch-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

n=0 failed=0
RUN_ENV=()	# extra environment of the next run
RUN_WRAP=()	# a command the next run goes through (e.g. timeout)
have_kvm=false
[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && have_kvm=true

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP no /dev/kvm on this host"; }

# run DESC WANT_RC WANT_STDOUT WANT_STDERR -- ARGS...: exact comparison of
# the exit status, stdout and stderr of one launcher run.
run() {
	local desc=$1 want_rc=$2 want_out=$3 want_err=$4 rc out err
	shift 5
	"${RUN_WRAP[@]}" env "${RUN_ENV[@]}" "$LAUNCH" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out"; echo x); out=${out%x}
	err=$(cat "$TMP/err"; echo x); err=${err%x}
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ] && [ "$err" = "$want_err" ]; then
		ok "$desc"
		return
	fi
	not_ok "$desc"
	echo "#   exit status $rc (should be $want_rc)"
	[ "$out" = "$want_out" ] || { echo "#   stdout:"; sed 's/^/#     /' "$TMP/out"; \
		echo "#   should be:"; printf '%s\n' "$want_out" | sed 's/^/#     /'; }
	[ "$err" = "$want_err" ] || { echo "#   stderr:"; sed 's/^/#     /' "$TMP/err"; \
		echo "#   should be:"; printf '%s\n' "$want_err" | sed 's/^/#     /'; }
}

# Like run, but skipped without /dev/kvm.
krun() {
	if $have_kvm; then run "$@"; else skip "$1"; fi
}

# Little-endian bytes of $1, $2 bytes wide, as printf escapes.
le() {
	local v=$1 i s=
	for ((i = 0; i < $2; i++)); do
		s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 0xff)))
	done
	printf '%s' "$s"
}

# mkelf FILE [field=value...]: a minimal static x86-64 ELF with one
# PT_LOAD whose code prints "E" on port 0xE9 and exits with status 5.
mkelf() {
	local file=$1 type=2 machine=62 entry=0x100000 phoff=64 phnum=1 \
		phentsize=56 ptype=1 offset=120 paddr=0x100000 filesz=15 \
		memsz=0x100 class=2
	shift
	local kv
	for kv in "$@"; do local "$kv"; done
	{
		printf '\x7fELF'; printf "$(le $class 1)"; printf '\x01\x01\x00'
		printf '\x00\x00\x00\x00\x00\x00\x00\x00'
		printf "$(le $type 2)$(le $machine 2)$(le 1 4)$(le $entry 8)"
		printf "$(le $phoff 8)$(le 0 8)$(le 0 4)$(le 64 2)"
		printf "$(le $phentsize 2)$(le $phnum 2)$(le 0 2)$(le 0 2)$(le 0 2)"
		printf "$(le $ptype 4)$(le 7 4)$(le $offset 8)$(le $paddr 8)"
		printf "$(le $paddr 8)$(le $filesz 8)$(le $memsz 8)$(le 4096 8)"
		# mov $'E',%al; out %al,$0xe9; mov $'\n',%al; out %al,$0xe9;
		# mov $5,%eax; out %eax,$0xf4
		printf '\xb0\x45\xe6\xe9\xb0\x0a\xe6\xe9\xb8\x05\x00\x00\x00\xe7\xf4'
	} >"$file"
}

L=kvmdbg-launch
HELLO=$'Hello from kvmdbg guest\n'

echo "TAP version 13"

# --- The example guests ---------------------------------------------------
krun "hello, 1 vCPU" 0 "$HELLO" "" -- $EX/hello.elf
krun "hello, 4 vCPUs" 0 "$HELLO" "" -- --cpus 4 $EX/hello.elf
krun "counters, 1 vCPU" 0 $'cpu 0: 1000\ntotal: 1000\n' "" -- $EX/counters.elf
krun "counters, 4 vCPUs" 0 \
	$'cpu 0: 1000\ncpu 1: 1000\ncpu 2: 1000\ncpu 3: 1000\ntotal: 4000\n' "" \
	-- --cpus 4 $EX/counters.elf
krun "callchain" 0 $'callchain: a(10) = 79\n' "" -- $EX/callchain.elf
krun "mempattern" 0 $'mempattern: 16640 bytes, checksum 0xea1acf80\nwatched: 55\n' "" \
	-- $EX/mempattern.elf
krun "smp, 1 vCPU" 0 $'cpu 0 up\nall 1 vCPUs up\n' "" -- $EX/smp.elf
krun "smp, 4 vCPUs" 0 \
	$'cpu 0 up\ncpu 1 up\ncpu 2 up\ncpu 3 up\nall 4 vCPUs up\n' "" \
	-- --cpus 4 $EX/smp.elf
# Linked the plain way (gcc -nostdlib -static -Wl,-Ttext=0x100000): ld
# gives the headers a PT_LOAD of their own at 0xff000, in the reserved area.
if readelf -lW $EX/plain.elf | grep -Eq '^ +LOAD +0x000000 0x0+ff000 0x0+ff000 '; then
	ok "plain.elf has ld's headers-only PT_LOAD at 0xff000"
else
	not_ok "plain.elf has ld's headers-only PT_LOAD at 0xff000"
	readelf -lW $EX/plain.elf | sed 's/^/#   /'
fi
PLAIN=$'plain: linked with -Ttext=0x100000, step(5) = 16\n'
krun "plain -Ttext=0x100000 link: headers-only PT_LOAD below 1 MiB is not loaded, runs" 16 \
	"$PLAIN" "" -- $EX/plain.elf
krun "plain -Ttext=0x100000 link, 4 vCPUs" 16 "$PLAIN" "" -- --cpus 4 $EX/plain.elf
# Under gdb (the driver): symbols at the link addresses, a breakpoint, the
# guest's own exit status reported back (16 = 020).
if $have_kvm && command -v gdb >/dev/null; then
	"$LAUNCH" --gdb-exec 'break plain_step' --gdb-exec continue --gdb-exec 'print v' \
		--gdb-exec continue $EX/plain.elf >"$TMP/out" 2>"$TMP/err"
	rc=$?
	want="_start () at examples/guests/start.S:11
11		xor	%ebp, %ebp		/* end of the frame chain for gdb's backtrace */
Breakpoint 1 at 0x100040: file examples/guests/plain.c, line 16.

Breakpoint 1, plain_step (v=5) at examples/guests/plain.c:16
16		return v * 3 + 1;
\$1 = 5
${PLAIN}[Inferior 1 (Remote target) exited with code 020]"
	if [ $rc = 0 ] && [ "$(cat "$TMP/out")" = "$want" ]; then
		ok "plain -Ttext=0x100000 link under gdb: breakpoint, locals, exit code 020"
	else
		not_ok "plain -Ttext=0x100000 link under gdb: breakpoint, locals, exit code 020"
		echo "#   exit status $rc (should be 0)"
		sed 's/^/#   /' "$TMP/out" "$TMP/err"
	fi
else
	skip "plain -Ttext=0x100000 link under gdb (needs gdb and /dev/kvm)"
fi
krun "hello with --mem 2M" 0 "$HELLO" "" -- --mem 2M $EX/hello.elf
krun "hello with --mem 1G" 0 "$HELLO" "" -- --mem 1G $EX/hello.elf

# --- Hand-made images -----------------------------------------------------
mkelf "$TMP/good.elf"
krun "minimal ELF: loads, prints, exits 5" 5 $'E\n' "" -- "$TMP/good.elf"
printf '\xb0\x41\xe6\xe9\xb0\x0a\xe6\xe9\xb8\x2a\x00\x00\x00\xe7\xf4' >"$TMP/exit42.bin"
krun "flat binary: port 0xE9 output, exit status 42" 42 $'A\n' "" \
	-- --flat --load-addr 0x200000 "$TMP/exit42.bin"
printf '\x90\x90\xeb\xfc\xb0\x42\xe6\xe9\xf4' >"$TMP/entry.bin"
krun "flat binary: --entry past the start, all vCPUs halt: status 0" 0 "BB" "" \
	-- --flat --load-addr 0x100000 --entry 0x100004 --cpus 2 "$TMP/entry.bin"
printf '\x0f\x0b' >"$TMP/ud2.bin"
krun "guest triple fault: one line, status 136" 136 "" \
	"$L: $TMP/ud2.bin: vCPU 0: KVM_EXIT_SHUTDOWN (triple fault) at RIP 0x100000; the guest ends with status 136
" -- --flat --load-addr 0x100000 "$TMP/ud2.bin"
printf '\xe4\x81\xe6\xe9\xe6\x80\xe6\x80\xf4' >"$TMP/ports.bin"
# KVMDBG_PATH=userspace: no line about kvmdbg.ko (kvmdbg_path.sh tests it).
KVMDBG_PATH=userspace krun "unknown ports: reads 0xff, --verbose reports each port once" 0 $'\xff' \
	"$L: $TMP/ports.bin: unhandled port read from 0x81 (reads 0xff)
$L: $TMP/ports.bin: unhandled port write to 0x80 (ignored)
" -- --verbose --flat --load-addr 0x100000 "$TMP/ports.bin"
krun "unknown ports are quiet without --verbose" 0 $'\xff' "" \
	-- --flat --load-addr 0x100000 "$TMP/ports.bin"

# --- --info and --help ------------------------------------------------------
if $have_kvm; then
	"$LAUNCH" --info >"$TMP/info" 2>&1
	if [ $? = 0 ] && grep -qx 'KVM API version: 12' "$TMP/info" &&
	   grep -qx 'stop the world:  userspace (signals + per-vCPU ioctls)' "$TMP/info" &&
	   grep -q '^  KVM_CAP_IMMEDIATE_EXIT *yes *required' "$TMP/info"; then
		ok "--info: API version, capabilities, stop-the-world path"
	else
		not_ok "--info: API version, capabilities, stop-the-world path"
		sed 's/^/#   /' "$TMP/info"
	fi
	max=$(sed -n 's/^vCPU limit: *\([0-9]*\).*/\1/p' "$TMP/info")
else
	skip "--info: API version, capabilities, stop-the-world path"
	max=
fi
"$LAUNCH" --help >"$TMP/help" 2>&1
if [ $? = 0 ] && grep -q "^Usage: $L \[options\] IMAGE" "$TMP/help" &&
   grep -q -- '--cpus N' "$TMP/help" && grep -q -- '--gdb SPEC' "$TMP/help"; then
	ok "--help: usage with every option"
else
	not_ok "--help: usage with every option"
fi

# --- Bad input: one line, what is wrong and what to do ----------------------
run "no IMAGE" 2 "" \
	"$L: no IMAGE given; usage: $L [options] IMAGE (see --help)
" --
run "two IMAGEs" 2 "" \
	"$L: one IMAGE expected, got 2 (a.elf, b.elf...); options go before IMAGE
" -- a.elf b.elf
run "unknown option" 2 "" \
	"$L: unknown or ambiguous option --frobnicate (see --help)
" -- --frobnicate $EX/hello.elf
run "unknown option with a value" 2 "" \
	"$L: unknown or ambiguous option --frobnicate (see --help)
" -- --frobnicate=1 $EX/hello.elf
run "--flat=1: the option named, takes no argument" 2 "" \
	"$L: --flat takes no argument (got --flat=1); see --help
" -- --flat=1 $EX/hello.elf
run "--verbose=1: named as --verbose, not -v" 2 "" \
	"$L: --verbose takes no argument (got --verbose=1); see --help
" -- --verbose=1 $EX/hello.elf
run "--gdb without its argument" 2 "" \
	"$L: --gdb needs an argument: --gdb SPEC (see --help)
" -- --gdb
run "-c without its argument" 2 "" "$L: -c needs an argument (see --help)
" -- -c
for spec in 65536 abc : unix: 99999999 1234x '[]:1' host: -1; do
	run "malformed --gdb $spec: usage error, exit 2" 2 "" \
		"$L: --gdb $spec: not a PORT (0-65535), HOST:PORT or unix:PATH (e.g. --gdb 1234)
" -- --gdb "$spec" $EX/hello.elf
done
run "--gdb with an unknown host: usage error, exit 2" 2 "" \
	"$L: --gdb nosuch.invalid:1234: unknown host (give an address, e.g. --gdb 127.0.0.1:1234)
" -- --gdb nosuch.invalid:1234 $EX/hello.elf
run "--gdb-script missing: usage error before anything runs" 2 "" \
	"$L: --gdb-script /nonexistent/script.gdb: No such file or directory
" -- --gdb-script /nonexistent/script.gdb $EX/hello.elf
run "--gdb-script a directory" 2 "" \
	"$L: --gdb-script $TMP: not a regular file (give a gdb command file)
" -- --gdb-script "$TMP" $EX/hello.elf
run "--gdb-exec with a newline" 2 "" \
	"$L: --gdb-exec: one command per --gdb-exec, without newlines (or use --gdb-script FILE)
" -- --gdb-exec $'print 1\nprint 2' $EX/hello.elf
RUN_ENV=(KVMDBG_KVM_DEV=)
run "empty KVMDBG_KVM_DEV is bad usage, not /dev/kvm" 2 "" \
	"$L: KVMDBG_KVM_DEV is set but empty: name a KVM device node (e.g. KVMDBG_KVM_DEV=/dev/kvm) or unset it
" -- $EX/hello.elf
run "empty KVMDBG_KVM_DEV: --info" 2 "" \
	"$L: KVMDBG_KVM_DEV is set but empty: name a KVM device node (e.g. KVMDBG_KVM_DEV=/dev/kvm) or unset it
" -- --info
RUN_ENV=()
# --gdb-exec stops at the first failing command (docs/gdb-driver.md), and
# gdb's status (1) is the launcher's.
if $have_kvm && command -v gdb >/dev/null; then
	"$LAUNCH" --gdb-exec 'print 41 + 1' --gdb-exec 'no-such-command' --gdb-exec 'print 7' \
		$EX/hello.elf >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc = 1 ] && grep -qx '\$1 = 42' "$TMP/out" && ! grep -q '^\$2 = ' "$TMP/out" &&
	   grep -q '^Undefined command: "no-such-command"' "$TMP/err"; then
		ok "--gdb-exec: a failing command stops the rest, status 1"
	else
		not_ok "--gdb-exec: a failing command stops the rest, status 1"
		echo "#   exit status $rc (should be 1)"
		sed 's/^/#   /' "$TMP/out" "$TMP/err"
	fi
else
	skip "--gdb-exec: a failing command stops the rest (needs gdb and /dev/kvm)"
fi
run "--mem with a bad suffix" 2 "" \
	"$L: --mem 64X: not a size (use a number with suffix K, M or G, e.g. --mem 64M)
" -- --mem 64X $EX/hello.elf
run "--mem too small" 2 "" "$L: --mem 1M: must be between 2M and 64G
" -- --mem 1M $EX/hello.elf
run "--mem too large" 2 "" "$L: --mem 65G: must be between 2M and 64G
" -- --mem 65G $EX/hello.elf
run "--mem not a multiple of 4K" 2 "" "$L: --mem 2049K: must be a multiple of 4K
" -- --mem 2049K $EX/hello.elf
run "--cpus not a number" 2 "" "$L: --cpus two: not a number of vCPUs (e.g. --cpus 4)
" -- --cpus two $EX/hello.elf
run "--symbols without gdb" 2 "" \
	"$L: --symbols is for gdb (--gdb, --gdb-session, --gdb-exec, --gdb-script) and cores (--dump, --dump-on-crash, --dump-on-signal)
" -- --symbols $EX/hello.elf $EX/hello.elf
run "--symbols with --gdb: missing file" 2 "" \
	"$L: --symbols /nonexistent/vmlinux: No such file or directory
" -- --gdb 1 --symbols /nonexistent/vmlinux $EX/hello.elf
run "--flat without --load-addr" 2 "" \
	"$L: --flat needs --load-addr ADDR (and optionally --entry ADDR)
" -- --flat $EX/hello.elf
run "--entry without --flat" 2 "" \
	"$L: --load-addr and --entry are for flat binaries: add --flat (an ELF image carries its own)
" -- --entry 0x100000 $EX/hello.elf
run "--load-addr not a number" 2 "" "$L: --load-addr 1MB: not an address (e.g. 0x100000)
" -- --flat --load-addr 1MB $EX/hello.elf

if $have_kvm; then
	run "--cpus 0" 2 "" "$L: --cpus 0: must be between 1 and $max (KVM_CAP_MAX_VCPUS)
" -- --cpus 0 $EX/hello.elf
	run "--cpus above KVM's limit" 2 "" \
		"$L: --cpus $((max + 1)): must be between 1 and $max (KVM_CAP_MAX_VCPUS)
" -- --cpus $((max + 1)) $EX/hello.elf
else
	skip "--cpus 0"
	skip "--cpus above KVM's limit"
fi

RUN_ENV=(KVMDBG_KVM_DEV=/nonexistent/kvm)
run "missing /dev/kvm (KVMDBG_KVM_DEV=/nonexistent/kvm)" 1 "" \
	"$L: cannot open /nonexistent/kvm: No such file or directory (is KVM enabled? load kvm-intel/kvm-amd)
" -- $EX/hello.elf
run "missing /dev/kvm: --info" 1 "" \
	"$L: cannot open /nonexistent/kvm: No such file or directory (is KVM enabled? load kvm-intel/kvm-amd)
" -- --info
RUN_ENV=()

# Images are checked before KVM is opened: these run on any host.
bad_image() {
	local desc=$1 file=$2 msg=$3
	shift 3
	run "$desc" 1 "" "$L: $file: $msg
" -- "$@" "$file"
}

head -c 40 "$TMP/good.elf" >"$TMP/trunc-ehdr.elf"
head -c 100 "$TMP/good.elf" >"$TMP/trunc-phdr.elf"
{ printf 'XELF'; tail -c +5 $EX/hello.elf; } >"$TMP/magic.elf"
: >"$TMP/empty.elf"
mkelf "$TMP/class32.elf" class=1
mkelf "$TMP/arm.elf" machine=183
mkelf "$TMP/dyn.elf" type=3
mkelf "$TMP/phentsize.elf" phentsize=32
mkelf "$TMP/phoff.elf" phoff=0x10000
mkelf "$TMP/phnum.elf" phnum=3
mkelf "$TMP/offset.elf" offset=0x1000
mkelf "$TMP/filesz.elf" memsz=4
mkelf "$TMP/reserved.elf" paddr=0x1000 entry=0x1000
mkelf "$TMP/ram.elf" paddr=0x3ff0000 entry=0x3ff0000 memsz=0x20000
mkelf "$TMP/entry.elf" entry=0x200000
mkelf "$TMP/interp.elf" ptype=3

bad_image "missing image file" /nonexistent.elf "cannot open: No such file or directory"
bad_image "image is a directory" "$TMP" "not a regular file"
# A FIFO blocked open() until a writer came: now one line, no hang (the
# timeout only stops a regression from wedging the suite).
mkfifo "$TMP/fifo"
RUN_WRAP=(timeout -k 5 10)
bad_image "image is a FIFO: refused, no hang" "$TMP/fifo" "not a regular file"
run "--kernel FIFO: refused, no hang" 1 "" "$L: $TMP/fifo: not a regular, non-empty file
" -- --kernel "$TMP/fifo"
run "--initrd FIFO: refused, no hang" 1 "" "$L: $TMP/fifo: not a regular, non-empty file
" -- --kernel $EX/hello.elf --initrd "$TMP/fifo"
RUN_WRAP=()
bad_image "empty image" "$TMP/empty.elf" "empty file"
bad_image "corrupt ELF: truncated header" "$TMP/trunc-ehdr.elf" \
	"truncated ELF header (40 bytes, need 64)"
bad_image "corrupt ELF: bad magic" "$TMP/magic.elf" \
	"not an ELF file (bad magic); for a raw binary use --flat --load-addr ADDR"
bad_image "ELF: 32-bit class" "$TMP/class32.elf" "not a 64-bit little-endian ELF file"
bad_image "ELF: not x86-64" "$TMP/arm.elf" "not an x86-64 ELF file (e_machine 183)"
bad_image "ELF: shared object / PIE" "$TMP/dyn.elf" \
	"not a static executable (e_type 3); link with -static -no-pie"
bad_image "corrupt ELF: bad e_phentsize" "$TMP/phentsize.elf" \
	"bad program header table (e_phentsize 32, e_phnum 1)"
bad_image "corrupt ELF: program headers out of bounds" "$TMP/phoff.elf" \
	"program header table at offset 0x10000 (1 x 56 bytes) extends past the end of the file (135 bytes)"
bad_image "corrupt ELF: file truncated inside the program headers" "$TMP/trunc-phdr.elf" \
	"program header table at offset 0x40 (1 x 56 bytes) extends past the end of the file (100 bytes)"
bad_image "corrupt ELF: e_phnum past the end" "$TMP/phnum.elf" \
	"program header table at offset 0x40 (3 x 56 bytes) extends past the end of the file (135 bytes)"
bad_image "corrupt ELF: segment data past the end" "$TMP/offset.elf" \
	"segment 0: data at offset 0x1000 (0xf bytes) extends past the end of the file (135 bytes)"
bad_image "corrupt ELF: p_filesz > p_memsz" "$TMP/filesz.elf" \
	"segment 0: file size 0xf exceeds memory size 0x4"
bad_image "PT_LOAD overlapping the reserved area" "$TMP/reserved.elf" \
	"segment 0 at 0x1000-0x1100 overlaps the VMM's reserved area [0, 0x100000); link the image at or above 0x100000"
bad_image "PT_LOAD beyond guest RAM" "$TMP/ram.elf" \
	"segment 0 at 0x3ff0000-0x4010000 does not fit in guest RAM (0x4000000 bytes); raise --mem"
bad_image "entry point outside every segment" "$TMP/entry.elf" \
	"entry point 0x200000 is not inside a loadable segment"
bad_image "dynamically linked ELF" "$TMP/interp.elf" \
	"dynamically linked; guests must be static executables"
# --cpus other than 1 asks KVM for its limit first.
krun "200 vCPUs: their stacks grow the reserved area over a 1 MiB image" 1 "" \
	"$L: $TMP/good.elf: segment 0 at 0x100000-0x100100 overlaps the VMM's reserved area [0, 0x148000); link the image at or above 0x148000
" -- --cpus 200 "$TMP/good.elf"
bad_image "flat binary in the reserved area" "$TMP/exit42.bin" \
	"image at 0x1000-0x100f overlaps the VMM's reserved area [0, 0x100000); link the image at or above 0x100000" \
	--flat --load-addr 0x1000
bad_image "flat binary: entry outside the image" "$TMP/exit42.bin" \
	"entry point 0x300000 is outside the image loaded at 0x200000-0x20000f" \
	--flat --load-addr 0x200000 --entry 0x300000

# --- --attach PID: finding another process's VM, and why it cannot be had ---
# (the module part runs in the test VM: selftests/vm/tests.d/75-attach)
run "--attach: not a process id" 2 "" \
	"$L: --attach 12x: not a process id (PID, or PID:FD to pick one of its VM fds)
" -- --attach 12x --info
run "--attach: nothing to do" 2 "" \
	"$L: --attach 1: say what to do: --info, --snapshot FILE, --dump FILE, --gdb SPEC or the gdb driver (--gdb-session, --gdb-exec, --gdb-script)
" -- --attach 1
run "--attach: --snapshot with --gdb: pick one" 2 "" \
	"$L: --attach 1: --snapshot FILE writes one snapshot and detaches; --info, --gdb and the gdb driver are separate runs: pick one
" -- --attach 1 --snapshot "$TMP/f.snap" --gdb 1234
run "--attach: --snapshot FILE checked before attaching (a directory)" 2 "" \
	"$L: --snapshot $TMP: it exists and is a directory, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --attach 1 --snapshot "$TMP"
run "--attach: --snapshot FILE checked before attaching (no such directory)" 2 "" \
	"$L: --snapshot $TMP/no/f.snap: directory $TMP/no: No such file or directory; create it first
" -- --attach 1 --snapshot "$TMP/no/f.snap"
run "--attach: --snapshot-at needs the VM's own VMM" 2 "" \
	"$L: --attach PID: --snapshot-at and --snapshot-exit need the VM's own VMM; --snapshot FILE writes one snapshot and detaches
" -- --attach 1 --snapshot "$TMP/f.snap" --snapshot-exit
run "--attach: no IMAGE" 2 "" \
	"$L: --attach PID takes no IMAGE (got $EX/hello.elf): the VM is the one PID runs
" -- --attach 1 --info "$EX/hello.elf"
run "--attach: no options that make a VM" 2 "" \
	"$L: --attach PID: the VM exists already; drop --cpus, --mem, --kernel, --initrd, --append, --flat, --load-addr, --entry and --resume
" -- --cpus 2 --attach 1 --info
run "--info with run options needs --attach" 2 "" \
	"$L: --info is for --attach PID (kvmdbg-launch --info alone describes this host's KVM)
" -- --cpus 2 --info "$EX/hello.elf"
run "--attach: bad --kick-signal" 2 "" \
	"$L: --kick-signal SIGFOO: not a signal (e.g. SIGUSR1, USR1, SIGRTMIN+1 or 10)
" -- --attach 1 --kick-signal SIGFOO --info
true & gone=$!; wait "$gone"
run "--attach: a process that is gone" 1 "" "$L: --attach $gone: no such process
" -- --attach "$gone" --info
sleep 60 & sl=$!
run "--attach: a process without a VM" 1 "" \
	"$L: --attach $sl: process $sl (sleep) has no KVM VM open (no anon_inode:kvm-vm among its fds)
" -- --attach "$sl" --info
kill "$sl"; wait "$sl" 2>/dev/null

# A launcher held under --gdb (its VM exists, waiting for a client), and
# a copy under another name (a VMM kvmdbg does not know).
held_vm() {
	local pid i
	"$@" >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'anon_inode:kvm-vm' && break
		sleep 0.1
	done
	echo "$pid"
}
if $have_kvm; then
	cp "$LAUNCH" "$TMP/xvmm"
	vmm=$(held_vm "$LAUNCH" --gdb 0 "$EX/hello.elf")
	xvmm=$(held_vm "$TMP/xvmm" --gdb 0 "$EX/hello.elf")
	run "--attach: a kick signal the VMM does not catch" 1 "" \
		"$L: --attach $vmm: process $vmm (kvmdbg-launch) has no handler for SIGUSR2 (--kick-signal): kicking its vCPUs with it would kill or miss them; name the one it catches with --kick-signal SIG
" -- --attach "$vmm" --kick-signal USR2 --info
	run "--attach: a VMM kvmdbg does not know needs --kick-signal" 1 "" \
		"$L: --attach $xvmm: process $xvmm (xvmm) is not a VMM kvmdbg knows: name the signal that kicks its vCPU threads with --kick-signal SIG (e.g. QEMU's SIGUSR1)
" -- --attach "$xvmm" --info
	run "--attach PID:FD: an fd that is not its VM" 1 "" \
		"$L: --attach $vmm:0: fd 0 of process $vmm (kvmdbg-launch) is not a KVM VM (its VM fds: $(ls -l "/proc/$vmm/fd" | sed -n 's/.* \([0-9]*\) -> anon_inode:kvm-vm$/\1/p'))
" -- --attach "$vmm:0" --info
	if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		RUN_WRAP=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
		run "--attach as another user: ptrace permission needed" 1 "" \
			"$L: --attach $vmm: cannot read the fds of process $vmm (kvmdbg-launch): ptrace permission on it is needed (run as root or as its user; see /proc/sys/kernel/yama/ptrace_scope)
" -- --attach "$vmm" --info
		RUN_WRAP=()
	else
		ok "--attach as another user: ptrace permission needed # SKIP not root (cannot become nobody)"
	fi
	# This host's kernel cannot load kvmdbg.ko (the module runs in the test VM).
	"$LAUNCH" --attach "$vmm" --info >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		grep -qE "^$L: --attach $vmm: kvmdbg.ko is not usable \(.+\); KVM refuses vCPU access from any process but the VM's creator, so only the module can stop and read another VMM's VM$" "$TMP/err"; then
		ok "--attach without kvmdbg.ko: one line, status 1"
	else
		not_ok "--attach without kvmdbg.ko: one line, status 1"
		echo "#   status $rc; stderr:"; sed 's/^/#     /' "$TMP/err"
	fi
	"$LAUNCH" --attach "$vmm" --snapshot "$TMP/fs.snap" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		grep -q "^$L: --attach $vmm: kvmdbg.ko is not usable" "$TMP/err" &&
		[ -z "$(ls -A "$TMP" | grep 'fs\.snap')" ]; then
		ok "--attach --snapshot without kvmdbg.ko: one line, status 1, no file (nor temp file)"
	else
		not_ok "--attach --snapshot without kvmdbg.ko: one line, status 1, no file (nor temp file)"
		echo "#   status $rc; stderr:"; sed 's/^/#     /' "$TMP/err"
	fi
	kill "$vmm" "$xvmm"; wait "$vmm" "$xvmm" 2>/dev/null
else
	for d in "--attach: a kick signal the VMM does not catch" \
		"--attach: a VMM kvmdbg does not know needs --kick-signal" \
		"--attach PID:FD: an fd that is not its VM" \
		"--attach as another user: ptrace permission needed" \
		"--attach without kvmdbg.ko: one line, status 1" \
		"--attach --snapshot without kvmdbg.ko: one line, status 1, no file (nor temp file)"; do
		skip "$d"
	done
fi

# ---- guest cores (--dump, --dump-on-crash, --dump-on-signal; issue 12) ----
run "--dump without --resume" 2 "" \
	"$L: --dump FILE converts a snapshot: add --resume SNAP (from gdb: monitor dump FILE; on a crash: --dump-on-crash FILE; live: --dump-on-signal FILE)
" -- --dump "$TMP/x.core" $EX/hello.elf
run "--dump with --gdb runs no guest" 2 "" \
	"$L: --resume SNAP --dump FILE runs no guest: drop --gdb, --gdb-session/-exec/-script, --snapshot, --dump-on-crash and --dump-on-signal
" -- --resume "$TMP/none.snap" --dump "$TMP/x.core" --gdb 1
run "--attach --dump to a directory: refused before attaching" 2 "" \
	"$L: --dump: core $TMP: it exists and is a directory, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --attach 1 --dump "$TMP"
run "--attach --dump with --gdb: pick one" 2 "" \
	"$L: --attach 1: --dump FILE writes one core and detaches; --info, --gdb and the gdb driver are separate runs: pick one
" -- --attach 1 --dump "$TMP/x.core" --gdb 1
run "--attach --dump and --snapshot: separate runs" 2 "" \
	"$L: --attach 1: --snapshot FILE and --dump FILE are separate runs (or convert the snapshot: --resume FILE --dump CORE)
" -- --attach 1 --dump "$TMP/x.core" --snapshot "$TMP/x.snap"
run "--attach --dump-on-signal: the VM's own VMM only" 2 "" \
	"$L: --dump-on-signal needs the VM's own VMM; with --attach PID take --dump FILE (one core now)
" -- --attach 1 --dump-on-signal "$TMP/x.core"
run "--dump-on-signal to a device" 2 "" \
	"$L: --dump-on-signal: core /dev/full: it exists and is a character device, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --dump-on-signal /dev/full $EX/hello.elf
run "--dump to a device" 2 "" \
	"$L: --dump: core /dev/full: it exists and is a character device, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --resume "$TMP/none.snap" --dump /dev/full
run "--dump to a directory" 2 "" \
	"$L: --dump: core $TMP: it exists and is a directory, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --resume "$TMP/none.snap" --dump "$TMP"
run "--dump-on-crash to a device" 2 "" \
	"$L: --dump-on-crash: core /dev/full: it exists and is a character device, not a regular file; refusing to replace it (give a new path or a regular file's)
" -- --dump-on-crash /dev/full $EX/hello.elf
run "--dump-on-crash --symbols: a missing file" 2 "" \
	"$L: --symbols /nonexistent/vmlinux: No such file or directory
" -- --dump-on-crash "$TMP/c.core" --symbols /nonexistent/vmlinux $EX/hello.elf
run "--dump-on-crash into a missing directory" 2 "" \
	"$L: --dump-on-crash: core $TMP/no/c.core: directory $TMP/no: No such file or directory; create it first
" -- --dump-on-crash "$TMP/no/c.core" $EX/hello.elf
# A guest that does not crash leaves no core.
krun "--dump-on-crash: no crash, no core" 0 "$HELLO" "" -- --dump-on-crash "$TMP/none.core" $EX/hello.elf
[ -e "$TMP/none.core" ] && not_ok "--dump-on-crash: no core file without a crash" ||
	ok "--dump-on-crash: no core file without a crash"

# no_leftovers DIR DESC: nothing but what DIR held before (no temp file).
no_leftovers() {
	local left
	left=$(ls -A "$1" | grep -v -x -e s.snap -e bad.snap -e flip.snap)
	if [ -z "$left" ]; then ok "$2"; else not_ok "$2"; echo "#   left: $left"; fi
}
if $have_kvm; then
	mkdir -p "$TMP/cores"
	"$LAUNCH" --snapshot "$TMP/cores/s.snap" --snapshot-at snap_point --snapshot-exit \
		$EX/snapguest.elf >/dev/null 2>&1
	head -c 8192 "$TMP/cores/s.snap" >"$TMP/cores/bad.snap"
	size=$(stat -c %s "$TMP/cores/s.snap")
	run "--resume of a damaged (truncated) snapshot --dump: one line" 1 "" \
		"$L: $TMP/cores/bad.snap: header: file is 8192 bytes but was written as $size (truncated)
" -- --resume "$TMP/cores/bad.snap" --dump "$TMP/cores/bad.core"
	cp "$TMP/cores/s.snap" "$TMP/cores/flip.snap"
	# One byte of vCPU 0's section (after header and table) flipped.
	printf '\xff' | dd of="$TMP/cores/flip.snap" bs=1 seek=300 conv=notrunc 2>/dev/null
	"$LAUNCH" --resume "$TMP/cores/flip.snap" --dump "$TMP/cores/flip.core" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		grep -q "^$L: $TMP/cores/flip.snap: .*checksum" "$TMP/err"; then
		ok "--resume of a damaged (flipped byte) snapshot --dump: one line naming the checksum"
	else
		not_ok "--resume of a damaged (flipped byte) snapshot --dump: one line naming the checksum"
		echo "#   status $rc; stderr:"; sed 's/^/#     /' "$TMP/err"
	fi
	no_leftovers "$TMP/cores" "damaged snapshots: no core or temp file left"
	"$LAUNCH" --resume "$TMP/cores/s.snap" --dump "$TMP/cores/s.core" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	st=$(stat -c '%s %b' "$TMP/cores/s.core" 2>/dev/null)
	if [ "$rc" = 0 ] && [ ! -s "$TMP/out" ] && [ "${st% *}" = $((4096 + (64 << 20))) ] &&
		[ $((${st#* } * 512)) -lt "${st% *}" ] &&
		grep -qx "$L: core written to $TMP/cores/s.core: 1 vCPU, $((4096 + (64 << 20))) bytes ([0-9]* sparse), VMCOREINFO none (not a Linux guest)" "$TMP/err"; then
		ok "--resume --dump: status 0, one line, a sparse core (st_blocks * 512 < st_size)"
	else
		not_ok "--resume --dump: status 0, one line, a sparse core (st_blocks * 512 < st_size)"
		echo "#   status $rc, size and blocks: $st; stderr:"; sed 's/^/#     /' "$TMP/err"
	fi
	# A core file there already is replaced only by a complete one.
	readelf -n -l -W "$TMP/cores/s.core" >"$TMP/readelf" 2>&1
	if [ "$(grep -c NT_PRSTATUS "$TMP/readelf")" = 1 ] &&
		[ "$(grep -c '^  LOAD ' "$TMP/readelf")" = 1 ] &&
		grep -q '^  LOAD  *0x0*1000 0x0* 0x0* 0x0*4000000 0x0*4000000 RWE 0$' "$TMP/readelf"; then
		ok "readelf: one NT_PRSTATUS, one PT_LOAD of all RAM at p_paddr 0"
	else
		not_ok "readelf: one NT_PRSTATUS, one PT_LOAD of all RAM at p_paddr 0"
		sed 's/^/#   /' "$TMP/readelf"
	fi
	if [ "$(id -u)" = 0 ] && mkdir -p "$TMP/full" &&
		mount -t tmpfs -o size=16k kvmdbg-core-test "$TMP/full" 2>/dev/null; then
		echo old >"$TMP/full/s.core"
		run "--dump on a full disk (16k tmpfs): one line" 1 "" \
			"$L: --dump: core $TMP/full/s.core: write failed: No space left on device; the file there is untouched
" -- --resume "$TMP/cores/s.snap" --dump "$TMP/full/s.core"
		if [ "$(ls -A "$TMP/full")" = s.core ] && [ "$(cat "$TMP/full/s.core")" = old ]; then
			ok "full disk: the old file untouched, no temp file left"
		else
			not_ok "full disk: the old file untouched, no temp file left"
			ls -la "$TMP/full" | sed 's/^/#   /'
		fi
		umount "$TMP/full"
	else
		ok "--dump on a full disk (16k tmpfs): one line # SKIP not root (cannot mount a tmpfs)"
		ok "full disk: the old file untouched, no temp file left # SKIP not root"
	fi
else
	for d in "--resume of a damaged (truncated) snapshot --dump: one line" \
		"--resume of a damaged (flipped byte) snapshot --dump: one line naming the checksum" \
		"damaged snapshots: no core or temp file left" \
		"--resume --dump: status 0, one line, a sparse core (st_blocks * 512 < st_size)" \
		"readelf: one NT_PRSTATUS, one PT_LOAD of all RAM at p_paddr 0" \
		"--dump on a full disk (16k tmpfs): one line" \
		"full disk: the old file untouched, no temp file left"; do
		skip "$d"
	done
fi

# The Linux kind's core layout, from a stand-in "vmlinux" (it cannot
# boot Linux here) that keeps a VMCOREINFO note as the kernel does.
# core_linux DESC WANT-VADDR WANT-HOW -- ARGS: one summary line, the
# note copied, the PT_LOAD's p_vaddr.
core_linux() {
	local desc=$1 vaddr=$2 how=$3 core=$TMP/cores/linux.core rc
	shift 4
	rm -f "$core"
	"$LAUNCH" --resume "$TMP/cores/linux.snap" --dump "$core" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	readelf -n -l -W "$core" >"$TMP/readelf" 2>&1
	if [ "$rc" = 0 ] && [ ! -s "$TMP/out" ] &&
		grep -qx "$L: core written to $core: 1 vCPU, $((4096 + (256 << 20))) bytes ([0-9]* sparse), VMCOREINFO found at $note_gpa (by $how)" "$TMP/err" &&
		grep -q "^  VMCOREINFO  *0x00000039	" "$TMP/readelf" &&
		grep -q "^  LOAD  *0x0*1000 $vaddr 0x0* 0x0*10000000 0x0*10000000 RWE 0$" "$TMP/readelf"; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "#   status $rc; stderr:"; sed 's/^/#     /' "$TMP/err"
		grep -E "LOAD|VMCOREINFO" "$TMP/readelf" | sed 's/^/#   /'
	fi
}
if $have_kvm; then
	"$LAUNCH" --kernel $EX/vmcoreinfo.elf --snapshot "$TMP/cores/linux.snap" --snapshot-exit \
		</dev/null >/dev/null 2>&1
	note_gpa=0x$(nm $EX/vmcoreinfo.elf | sed -n 's/^0*\([0-9a-f]*\) R vmcoreinfo$/\1/p')
	core_linux "Linux kind, no symbols: VMCOREINFO by a scan of RAM, p_vaddr 0 (no direct map mapped)" \
		0x0000000000000000 "a scan of guest RAM" --
	core_linux "Linux kind, --symbols: VMCOREINFO by vmcoreinfo_note, p_vaddr page_offset_base" \
		0xffff888000000000 vmcoreinfo_note -- --symbols $EX/vmcoreinfo.elf
else
	skip "Linux kind, no symbols: VMCOREINFO by a scan of RAM, p_vaddr 0 (no direct map mapped)"
	skip "Linux kind, --symbols: VMCOREINFO by vmcoreinfo_note, p_vaddr page_offset_base"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
