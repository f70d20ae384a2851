#!/bin/bash
# Run the VM tests: boot Debian's kernel, the one kmod/kvmdbg.ko was built
# against, in a QEMU TCG VM with nested SVM, load kvm.ko, kvm-amd.ko and
# kvmdbg.ko there, run every VM test and print their TAP output, then our
# own results ("ok - vm: ..."). Exits non-zero on any failed test, a test
# that exits non-zero, a timeout, a kernel panic or a splat in the guest's
# kernel log.
#
# What goes into the VM, under /kvmdbg (its copy of the tree's top, the
# tests' working directory):
#   build/selftests/vm/**     every file; every executable is run, sorted
#                             by path (static kselftest binaries: see
#                             selftests/build.mk)
#   selftests/vm/tests.d/*    every executable is run too (busybox sh
#                             scripts, or anything that runs in the VM)
#   kmod/kvmdbg.ko            loaded before the tests; $KVMDBG_KO names it
#   build/kvmdbg-launch       when built, on $PATH
#   build/examples/           when built
#   build/vm/linux/           the nested Linux guest (selftests/vm/linux-guest.sh)
#   build/selftests/vm-bin/   helper programs for the tests, copied but not
#                             run (selftests/vm/build.mk): qmp, a QMP client
#   gdb                       when installed, on $PATH (add_gdb)
#   qemu-system-x86_64        when installed, on $PATH, with its libraries
#                             and the firmware of -M microvm (bios-microvm.bin,
#                             linuxboot_dma.bin): the foreign VMM of
#                             tests.d/80-qemu-peer (add_qemu)
#
# The VM has a virtio NIC on QEMU's user network (restricted: no way out),
# and a free host port on 127.0.0.1 forwarded to 10.0.2.15:1234; a test
# that brings eth0 up as 10.0.2.15 (init.sh leaves it without a driver)
# can serve a gdb on the host from a stub on port 1234. A test asks
# for that with the control line "host NAME ARGS...": run.sh then runs
# selftests/vm/host.d/NAME ARGS on the host, beside the VM, with
# VM_GDB_PORT (that host port) and VM_CONSOLE (the console log so far,
# growing) in its environment, and prints its TAP after the VM's.
# Dynamically linked executables get the libraries ldd lists, and the
# loader. Tests see KVMDBG_IN_VM=1. /lib/modules/<ver>/ holds the kvm
# modules and extra/kvmdbg.ko with a modules.dep, for libkmod users.
#
# Environment: VM_TIMEOUT (seconds for the whole boot, default 900; also
# the limit of each host-side script),
# VM_TEST_TIMEOUT (seconds for one test executable, default 120, or what
# a "# vm-timeout: SECONDS" line in it asks for; on expiry the guest dumps
# its blocked tasks into the log and powers off),
# VM_SILENCE (default 300: seconds without a console line after which qemu
# counts as stuck; it is stopped and the VM boots again, going on from
# the test that was running, whose partial output becomes comments),
# VM_BOOTS (default 5: boots in all when qemu gets stuck that way or the
# guest's lockup detector fires),
# QEMU (default qemu-system-x86_64), VM_CPU (QEMU's -cpu, default max),
# VM_ACCEL (QEMU's -accel, default tcg: one host thread per vCPU; under
# heavy host load QEMU 7.2 was seen to livelock there in nested SVM, both
# vCPU threads looping in interrupt delivery; tcg,thread=single avoids
# that but boots the nested Linux guests too slowly for the tests),
# VM_TESTS (for development: only the tests whose path has one of these
# words, e.g. VM_TESTS="70-linux-gdb snapshot"; make check runs them all).
# Offline use: put the linux-image .deb into build/vm/cache/ beforehand.
set -eu
cd "$(dirname "$0")/../.."

VM=build/vm
CACHE=$VM/cache
ROOT=$VM/initramfs
KO=kmod/kvmdbg.ko
TIMEOUT=${VM_TIMEOUT:-900}
TEST_TIMEOUT=${VM_TEST_TIMEOUT:-120}
BOOTS=${VM_BOOTS:-5}
QEMU=${QEMU:-qemu-system-x86_64}
CPU=${VM_CPU:-max}
ACCEL=${VM_ACCEL:-tcg}
SILENCE=${VM_SILENCE:-300}
VM_NAME=kvmdbg-test-vm-$$
qrc=0
# The guest's control lines; see selftests/vm/init.sh.
TAG='@kvmdbg@ '

die() {
	echo "not ok - vm: $*"
	exit 1
}

need_tools() {
	local t
	for t in "$QEMU" busybox cpio gzip modinfo depmod dpkg-deb apt-get ldd python3 objcopy; do
		command -v "$t" >/dev/null ||
			die "$t is missing: run scripts/deps.sh as root"
	done
	# A dynamic busybox cannot run in the initramfs.
	! ldd "$(command -v busybox)" >/dev/null 2>&1 ||
		die "$(command -v busybox) is not static: run 'apt-get install busybox-static' as root"
}

# Sets KVER: the kernel release kvmdbg.ko was built for, from its vermagic.
module_kver() {
	local vm
	[ -f "$KO" ] || die "no $KO: run 'make' first"
	vm=$(modinfo -F vermagic "$KO") || die "modinfo cannot read $KO: run 'make kmod' again"
	KVER=${vm%% *}
}

# The linux-image .deb for a kernel release in the cache, signed or not.
cached_deb() {
	local f
	for f in "$CACHE/linux-image-$1"{,-unsigned}_*.deb; do
		[ -f "$f" ] && echo "$f" && return
	done
	return 0
}

# Sets TREE: linux-image-<kver> downloaded (once) and unpacked (once).
fetch_kernel() {
	local kver=$1 tree=$CACHE/linux-image-$1 deb pkg
	if [ ! -f "$tree/.unpacked" ]; then
		mkdir -p "$CACHE"
		deb=$(cached_deb "$kver")
		if [ -z "$deb" ]; then
			: >"$CACHE/apt.log"
			for pkg in "linux-image-$kver" "linux-image-$kver-unsigned"; do
				echo "# vm: apt-get download $pkg"
				(cd "$CACHE" && apt-get download -q "$pkg") >>"$CACHE/apt.log" 2>&1 && break
			done
			deb=$(cached_deb "$kver")
			[ -n "$deb" ] ||
				die "apt-get download found neither linux-image-$kver nor linux-image-$kver-unsigned (see $CACHE/apt.log): run 'apt-get update' as root, or build kvmdbg.ko against headers of a kernel Debian still ships (make KDIR=...)"
		fi
		rm -rf "$tree" "$tree.tmp"
		dpkg-deb -x "$deb" "$tree.tmp" || die "cannot unpack $deb: delete it and run again"
		basename "$deb" >"$tree.tmp/.unpacked"
		mv "$tree.tmp" "$tree"
	fi
	[ -f "$tree/boot/vmlinuz-$kver" ] || die "$tree has no boot/vmlinuz-$kver: delete $CACHE and run again"
	TREE=$tree
}

# Copies module NAME (and, first, what it depends on) from the unpacked
# image into the initramfs, uncompressed, and appends it to MODS.
MODS=()
declare -A SEEN=()
add_module() {
	local name=${1//-/_} tree=$2 kver=$3 src rel dst dep
	[ -z "${SEEN[$name]:-}" ] || return 0
	SEEN[$name]=1
	src=$(find "$tree/lib/modules/$kver/kernel" -name "$name.ko*" -o -name "${name//_/-}.ko*" |
		head -n 1)
	[ -n "$src" ] || die "module $1 is not in linux-image-$kver: delete $CACHE and run again"
	rel=${src#"$tree/lib/modules/$kver/"}
	dst=$ROOT/lib/modules/$kver/${rel%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "cannot read $src: unknown compression" ;;
	esac
	for dep in $(modinfo -F depends "$dst" | tr , ' '); do
		add_module "$dep" "$tree" "$kver"
	done
	MODS+=("${rel%.ko*}.ko")
}

# Copies the libraries and loader a dynamic executable needs. Only ELF
# files with an interpreter reach ldd (guest images must not).
add_libs() {
	local lib
	readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter' || return 0
	for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

add_busybox() {
	local bb applet
	bb=$(command -v busybox)
	mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc/kvmdbg}
	cp "$bb" "$ROOT/bin/busybox"
	for applet in $(busybox --list-full); do
		[ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
	done
}

# Copies SRC (a file or folder of the tree) to the VM's /kvmdbg/SRC.
add_tree() {
	local src=$1 f
	[ -e "$src" ] || return 0
	mkdir -p "$ROOT/kvmdbg/$(dirname "$src")"
	cp -a "$src" "$ROOT/kvmdbg/$src"
	find "$ROOT/kvmdbg/$src" -type f \( -name '*.d' -o -name '*.o' \) -delete
	while IFS= read -r f; do
		add_libs "$f"
	done < <(find "$ROOT/kvmdbg/$src" -type f -perm -u+x)
}

# gdb for the launcher's gdb tests (tests.d), with the few Python modules
# its embedded interpreter needs to start (-batch -ex use needs no more).
add_gdb() {
	local gdb py f
	gdb=$(command -v gdb) || return 0
	install -D "$gdb" "$ROOT/usr/bin/gdb"
	add_libs "$gdb"
	py=$(ldd "$gdb" | sed -n 's/.*libpython\([0-9.]*[0-9]\).*/\1/p' | head -n 1)
	[ -n "$py" ] || return 0
	for f in encodings/__init__ encodings/aliases encodings/utf_8 encodings/latin_1 \
		encodings/ascii codecs io abc os stat posixpath genericpath \
		_collections_abc _sitebuiltins site; do
		install -D -m 0644 "/usr/lib/python$py/$f.py" "$ROOT/usr/lib/python$py/$f.py"
	done
}

# Debian's QEMU as a foreign VMM for the tests (tests.d/80-qemu-peer), with
# only the firmware -M microvm -kernel opens (strace on the host: qboot as
# bios-microvm.bin, and linuxboot_dma.bin); no modules: -accel kvm and
# -display none load none. Adds ~32 MB to the unpacked initramfs (~10 MB
# gzipped): the binary and the libraries gdb does not already bring.
add_qemu() {
	local qemu f
	qemu=$(command -v qemu-system-x86_64) || return 0
	install -D "$qemu" "$ROOT/usr/bin/qemu-system-x86_64"
	add_libs "$qemu"
	for f in bios-microvm.bin linuxboot_dma.bin; do
		# QEMU finds them at <its bin>/../share/qemu; bios-microvm.bin
		# is a symlink to qboot.rom there.
		[ -e "/usr/share/qemu/$f" ] ||
			die "/usr/share/qemu/$f is missing: run 'apt-get install --reinstall qemu-system-x86 qemu-system-data' as root"
		install -D -m 0644 "$(readlink -f "/usr/share/qemu/$f")" "$ROOT/usr/share/qemu/$f"
	done
}

build_initramfs() {
	local tree=$1 kver=$2 m
	rm -rf "$ROOT"
	add_busybox
	for m in kvm kvm_amd; do
		add_module "$m" "$tree" "$kver"
	done
	KVM_MODS=("${MODS[@]}")
	MODS=()
	for m in virtio_pci virtio_net; do
		add_module "$m" "$tree" "$kver"
	done
	printf "KVM_MODULES='%s'\nNET_MODULES='%s'\nTEST_TIMEOUT=%s\nONLY='%s'\n" "${KVM_MODS[*]}" \
		"${MODS[*]}" "$TEST_TIMEOUT" "${VM_TESTS:-}" >"$ROOT/etc/kvmdbg/vm.conf"
	MODS=("${KVM_MODS[@]}")
	mkdir -p "$ROOT/kvmdbg/kmod" "$ROOT/lib/modules/$kver/extra"
	cp "$KO" "$ROOT/lib/modules/$kver/extra/kvmdbg.ko"
	ln -s "/lib/modules/$kver/extra/kvmdbg.ko" "$ROOT/kvmdbg/$KO"
	cp "$tree/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$kver/"
	depmod -b "$ROOT" "$kver" || die "depmod failed on the initramfs in $ROOT"
	add_tree build/selftests/vm
	add_tree build/selftests/vm-bin
	add_tree selftests/vm/tests.d
	add_tree build/kvmdbg-launch
	add_tree build/examples
	add_tree build/vm/linux
	add_gdb
	add_qemu
	[ -z "${BENCH:-}" ] || add_tree build/bench	# bench/stw_bench.sh
	install -m 0755 selftests/vm/init.sh "$ROOT/init"
	(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 >"$VM/initramfs.cpio.gz"
}

# A TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prints a result line and keeps it in results (for the exit status).
result() {
	printf '%s\n' "$*" | tee -a "$VM/results"
}

# Reads the console (qemu's stdout): keeps it in console.log, prints each
# test's output when it ends and our results as they come, records the
# guest's control lines in events. After SILENCE seconds without a line
# the VM is stuck (see main): "silent" goes to events, the test's output
# so far is printed as comments, and qemu is stopped.
stream() {
	local line in_test='' in_dmesg='' w t_begin= rc buf=()
	while :; do
		IFS= read -r -t "$SILENCE" line
		rc=$?
		if [ "$rc" -gt 128 ]; then
			silent
			continue	# qemu is gone: EOF next
		fi
		[ "$rc" -eq 0 ] || [ -n "$line" ] || break
		printf '%s\n' "$line" >>"$VM/console.log"
		# Firmware escapes can precede a control line: match it anywhere.
		case $line in
		*"$TAG"*) ;;
		*)
			[ -n "$in_test" ] && buf+=("$line")
			[ -n "$in_dmesg" ] && printf '%s\n' "$line" >>"$VM/dmesg.log"
			continue ;;
		esac
		read -r -a w <<<"${line#*"$TAG"}"
		printf '%s\n' "${w[*]}" >>"$VM/events"
		case ${w[0]} in
		begin) echo "# vm: guest kernel ${w[1]} up, /init running" ;;
		test-begin)
			in_test=${w[1]}
			t_begin=$SECONDS
			echo "# vm: running ${w[1]}" ;;
		test-end)
			in_test=
			flush_test
			echo "# vm: ${w[1]} took $((SECONDS - ${t_begin:-SECONDS})) s (${w[3]:-?} s of guest time)"
			if [ "${w[2]}" = 0 ]; then
				result "ok - vm: ${w[1]} exited with status 0"
			else
				result "not ok - vm: ${w[1]} exited with status ${w[2]}"
			fi ;;
		test-timeout)
			in_test=
			flush_test
			echo "# vm: ${w[1]} still running after ${w[2]} s: guest dumps blocked tasks, powers off" ;;
		dmesg-begin)
			in_test=
			in_dmesg=1 ;;
		dmesg-end) in_dmesg= ;;
		host) host_start "$in_test" "${w[@]:1}" ;;
		esac
	done
	# A test cut short (a panic): its output so far, as comments.
	for line in "${buf[@]}"; do
		printf '# (lost with the stuck VM) %s\n' "$line"
	done
	host_finish "$in_test"
}

# The ended test's TAP (stream's buf); its failures go to results.
flush_test() {
	local l
	for l in "${buf[@]}"; do
		case $l in
		"not ok "*) result "$l" ;;
		*) printf '%s\n' "$l" ;;
		esac
	done
	buf=()
}

# No console line for SILENCE s (stream): the running test's output so far
# becomes comments (main runs that test again), and qemu is stopped.
silent() {
	local l
	printf 'silent %s\n' "$SILENCE" >>"$VM/events"
	echo "# vm: no console line for $SILENCE s: qemu stopped making progress"
	for l in "${buf[@]}"; do
		printf '# (lost with the stuck VM) %s\n' "$l"
	done
	buf=()
	pkill -f -- "-name $VM_NAME" || true
}

# "host NAME ARGS...": selftests/vm/host.d/NAME ARGS runs on the host in
# the background (the console must keep flowing), its output in
# $VM/host-K-NAME.log.
HOSTS=()
host_start() {
	local test=$1 name=$2 log
	shift 2
	log=$VM/host-${#HOSTS[@]}-$name.log
	case $name in
	*/* | .* | "") echo "# vm: ignoring host script '$name'"; return ;;
	esac
	echo "# vm: starting selftests/vm/host.d/$name on the host"
	VM_GDB_PORT=$GDB_PORT VM_CONSOLE=$VM/console.log \
		timeout -k 5 "$TIMEOUT" "selftests/vm/host.d/$name" "$@" </dev/null >"$log" 2>&1 &
	HOSTS+=("$!:$name:$log:$test")
}

# Waits for every host-side script; prints its output, keeps its results.
# One that belongs to $1, the VM test the stuck VM cut short (main runs it
# again, and its host side with it), is stopped and its output becomes
# comments, as the VM test's own.
host_finish() {
	local cut=$1 h pid name log test rc line
	for h in "${HOSTS[@]}"; do
		IFS=: read -r pid name log test <<<"$h"
		if [ -n "$cut" ] && [ "$test" = "$cut" ]; then
			kill "$pid" 2>/dev/null
			wait "$pid"
			echo "# vm: host side selftests/vm/host.d/$name, cut short with $cut:"
			sed 's/^/# (lost with the stuck VM) /' "$log"
			continue
		fi
		wait "$pid"
		rc=$?
		echo "# vm: host side selftests/vm/host.d/$name:"
		while IFS= read -r line || [ -n "$line" ]; do
			case $line in
			"not ok "*) result "$line" ;;
			*) printf '%s\n' "$line" ;;
			esac
		done <"$log"
		if [ "$rc" = 0 ]; then
			result "ok - vm: host side selftests/vm/host.d/$name exited with status 0"
		else
			result "not ok - vm: host side selftests/vm/host.d/$name exited with status $rc (log: $log)"
		fi
	done
}

# Splats, and the expected exceptions (an unsigned out-of-tree module).
SPLAT='WARNING:|BUG:|Oops|Call Trace|general protection fault|possible circular locking|INFO: |KASAN|UBSAN|Kernel panic|soft lockup|hard LOCKUP|kernel BUG'
BENIGN='loading out-of-tree module taints kernel|module verification failed'

# The first control line starting with the given words.
event() {
	grep -m 1 "^$1\\b" "$VM/events" 2>/dev/null || true
}

report_boot() {
	local ev
	ev=$(event begin)
	if [ -z "$ev" ]; then
		result "not ok - vm: guest kernel never ran /init; console ends with:"
		tail -n 5 "$VM/console.log" | sed 's/^/#   /'
	elif [ "${ev#begin }" = "$KVER" ]; then
		result "ok - vm: booted Debian kernel $KVER ($(cat "$TREE/.unpacked"))"
	else
		result "not ok - vm: booted kernel ${ev#begin } (should be $KVER)"
	fi
}

# kvm-amd alone may fail, and only for want of (nested) SVM.
report_kvm() {
	local m ev bad=
	[ -n "$(event devkvm)" ] || {
		result "not ok - vm: guest stopped before loading the kvm modules"
		return
	}
	for m in "${MODS[@]}"; do
		m=$(basename "$m" .ko)
		ev=$(event "insmod $m")
		[ "$ev" = "insmod $m 0" ] || [ "$m" = kvm-amd ] || bad="$bad $m"
	done
	if [ -n "$bad" ]; then
		result "not ok - vm: insmod failed for:$bad (see $VM/console.log)"
	elif [ "$(event devkvm)" = "devkvm yes" ]; then
		result "ok - vm: kvm.ko and kvm-amd.ko loaded, /dev/kvm present"
	elif [ "$(event devkvm)" = "devkvm no" ] &&
		grep -qE "no hardware support|has_svm:" "$VM/dmesg.log"; then
		result "ok - vm: kvm.ko and kvm-amd.ko loaded, /dev/kvm present # SKIP no /dev/kvm in test VM (nested SVM hardware missing)"
	else
		result "not ok - vm: kvm-amd.ko did not load, and not for want of SVM (see $VM/dmesg.log)"
	fi
}

report_kvmdbg() {
	local ev
	ev=$(event kvmdbg)
	case ${ev#kvmdbg } in
	0) result "ok - vm: kvmdbg.ko loaded, /dev/kvmdbg present" ;;
	no-dev) result "not ok - vm: kvmdbg.ko loaded but /dev/kvmdbg did not appear" ;;
	"") result "not ok - vm: guest stopped before loading kvmdbg.ko" ;;
	*) result "not ok - vm: insmod kvmdbg.ko failed with status ${ev#kvmdbg } (see $VM/console.log)" ;;
	esac
}

# Scans the guest's dmesg, or the whole console when it never came.
report_splats() {
	local log=$VM/console.log splats
	[ -z "$(event dmesg-end)" ] || log=$VM/dmesg.log
	splats=$(grep -E "$SPLAT" "$log" | grep -vE "$BENIGN" || true)
	if [ -z "$splats" ]; then
		result "ok - vm: no kernel splat in guest log"
	else
		result "not ok - vm: kernel splat in guest log ($log):"
		head -n 20 <<<"$splats" | sed 's/^/#   /'
	fi
}

# ", while TEST ran" when the guest stopped inside a test.
running_test() {
	local last
	last=$(grep '^test-' "$VM/events" | tail -n 1)
	case $last in
	test-begin*) echo ", while ${last#test-begin } ran" ;;
	esac
}

report_end() {
	local qrc=$1 panic stuck t secs
	panic=$(grep -m 1 -o 'Kernel panic.*' "$VM/console.log" || true)
	stuck=$(event test-timeout)
	if [ -n "$(event silent)" ] && [ -z "$stuck" ]; then
		result "not ok - vm: qemu stopped making progress (no console line for $SILENCE s)$(running_test), on both boots"
	elif [ -n "$stuck" ]; then
		read -r _ t secs <<<"$stuck"
		result "not ok - vm: $t did not finish within $secs s in the guest (blocked tasks' stacks in $VM/dmesg.log; raise VM_TEST_TIMEOUT if it was only slow)"
	elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		result "not ok - vm: guest did not finish within $TIMEOUT s$(running_test) (timeout; raise VM_TIMEOUT if it was only slow)"
	elif [ -n "$panic" ]; then
		result "not ok - vm: kernel panic$(running_test): $panic"
	elif [ -z "$(event end)" ]; then
		result "not ok - vm: guest stopped before the end of its tests$(running_test) (qemu status $qrc; see $VM/console.log)"
	else
		result "ok - vm: guest ran every test and powered off"
	fi
}

# --foreground keeps qemu in our process group, so whoever stops us (make
# check's timeout, ^C) stops it too; and qemu must not hold our lock.
# watchdog_thresh=60: TCG on a busy 2-core host can starve a vCPU for over
# the default 20 s, which the kernel would report as a soft lockup; a real
# lockup (a CPU stuck for 120 s) is still caught, and softlockup_panic=1
# panic_print=0x20 end the run there with the whole kernel log, the stuck
# CPU's stack included (the console only shows EMERG and ALERT lines),
# instead of waiting for VM_TIMEOUT. For the same reason
# rcupdate.rcu_cpu_stall_timeout=300 (its maximum): a starved vCPU thread
# made a CI run report an RCU stall 21 s in, with nothing of ours running in
# the kernel; a CPU that really never passes a quiescent state still hangs a
# test past VM_TEST_TIMEOUT, which fails the run.
boot() {
	timeout --foreground -k 5 "$TIMEOUT" "$QEMU" -name "$VM_NAME" \
		-accel "$ACCEL" -cpu "$CPU" -m 1G -smp 2 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$GDB_PORT-10.0.2.15:1234" \
		-device virtio-net-pci,netdev=n0 \
		-kernel "$TREE/boot/vmlinuz-$KVER" -initrd "$VM/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet loglevel=3 panic=-1 watchdog_thresh=60 softlockup_panic=1 panic_print=0x20 rcupdate.rcu_cpu_stall_timeout=300 $1 rdinit=/init" \
		</dev/null 9>&- 2>&1
}

# One boot; sets qrc. $1: extra kernel command-line words.
run_vm() {
	# Without the firmware's terminal escapes and the serial line's CRs.
	boot "$1" | sed -u 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r//g' | stream
	qrc=${PIPESTATUS[0]}
}

main() {
	local start stuck lockup boot_nr
	need_tools
	module_kver
	mkdir -p "$VM"
	exec 9>"$VM/lock"
	if ! flock -n 9; then
		echo "# vm: waiting for another run.sh using $VM"
		flock -w "$TIMEOUT" 9 || die "another run.sh holds $VM/lock for over $TIMEOUT s"
	fi
	fetch_kernel "$KVER"
	GDB_PORT=$(free_port) || die "no free TCP port on 127.0.0.1 for the VM's gdb forward"
	selftests/vm/linux-guest.sh "$KVER" || die "cannot prepare the Linux guest (see above)"
	build_initramfs "$TREE" "$KVER"
	rm -f "$VM"/{console.log,dmesg.log,events,results} "$VM"/host-*.log \
		"$VM"/console-stuck*.log
	touch "$VM"/{console.log,dmesg.log,events,results}
	echo "# vm: booting Debian kernel $KVER ($(cat "$TREE/.unpacked")) under QEMU TCG, timeout $TIMEOUT s"
	start=$SECONDS
	set +e
	run_vm ""
	# qemu itself got stuck, not the guest: QEMU 7.2's TCG with nested
	# SVM was seen to stop running a vCPU for minutes. Either the guest
	# printed nothing at all (both vCPU threads spinning in interrupt
	# delivery), or the kernel's lockup detector found a CPU "stuck" that
	# had simply not run (RIP just after an sti, in the idle loop) or one
	# waiting for an IPI the other never took. Boot again and go on from
	# the test that was running; the tests that ended keep their results.
	# CI runs met it twice in one suite (55-snapshot-module, then again
	# after the reboot; snapshot_test, then 50-kvmdbg-launch), so up to
	# VM_BOOTS boots in all; a lockup in the last one fails.
	for ((boot_nr = 2; boot_nr <= BOOTS; boot_nr++)); do
		stuck=$(running_test)
		lockup=$(grep -m 1 'watchdog: BUG: soft lockup' "$VM/console.log" || true)
		{ [ -n "$(event silent)" ] || [ -n "$lockup" ]; } || break
		# A test timeout after qemu went silent is that stall seen from
		# the guest's clock (a CI run: silent 300 s, then the guest woke
		# and its watchdog fired); only one in a live guest is a hang.
		[ -n "$(event silent)" ] || [ -z "$(event test-timeout)" ] || break
		[ -z "$lockup" ] || echo "# vm: the guest's lockup detector: ${lockup#*] }"
		stuck=${stuck#, while }
		stuck=${stuck% ran}
		echo "# vm: booting the VM again ($boot_nr of at most $BOOTS boots), from ${stuck:-the first test}"
		mv "$VM/console.log" "$VM/console-stuck-$((boot_nr - 1)).log"
		rm -f "$VM"/{dmesg.log,events}
		touch "$VM"/{console.log,dmesg.log,events}
		run_vm "${stuck:+kvmdbg_resume_at=$stuck}"
	done
	set -e
	echo "# vm: guest ran for $((SECONDS - start)) s; console log in $VM/console.log"
	report_boot
	if [ -n "$(event begin)" ]; then
		report_kvm
		report_kvmdbg
	fi
	report_splats
	report_end "$qrc"
	! grep -q '^not ok' "$VM/results"
}

main "$@"
