#!/bin/sh
# /init of the test VM; selftests/vm/run.sh builds the initramfs around it.
#
# Talks to the host through console lines that start with "@kvmdbg@ ".
# Everything a test prints between its "test-begin" and "test-end" lines
# is that test's own output (TAP). Nothing here may stop early: the host
# wants every result, then the kernel log, then "end".

export PATH=/kvmdbg/build:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TERM=dumb
# The tree's top inside the VM (run.sh copies build/ and kmod/ under it).
TOP=/kvmdbg

say() {
	echo "@kvmdbg@ $*"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Console: only EMERG and ALERT (panics, oopses), so the module's log
# lines do not split TAP lines; dmesg at the end still has every message.
echo 2 >/proc/sys/kernel/printk

echo	# ends the firmware's last line
say begin "$(uname -r)"

# KVM_MODULES: paths under /lib/modules/<ver>/, dependencies first;
# TEST_TIMEOUT: seconds one test executable may take.
# shellcheck source=/dev/null
. /etc/kvmdbg/vm.conf
: "${TEST_TIMEOUT:=120}" "${ONLY:=}"
moddir=/lib/modules/$(uname -r)
for m in $KVM_MODULES; do
	insmod "$moddir/$m"
	say insmod "$(basename "$m" .ko)" $?
done
if [ -c /dev/kvm ]; then say devkvm yes; else say devkvm no; fi

# The NIC on QEMU's user network stays down (no driver) until a test that
# serves the host's gdb brings it up (tests.d/70-linux-gdb): the other
# tests run on an idle machine.
export KVMDBG_NET_MODULES="$NET_MODULES" KVMDBG_MODDIR=$moddir

insmod "$TOP/kmod/kvmdbg.ko"
rc=$?
[ $rc -eq 0 ] && [ ! -c /dev/kvmdbg ] && rc=no-dev
say kvmdbg $rc

# The kernel log for the host to scan, then off.
finish() {
	say dmesg-begin
	dmesg
	say dmesg-end
	say "$1"
	sync
	poweroff -f
}

# A test stuck in the kernel (D state) can be neither killed nor waited
# for: show the blocked tasks' stacks and end the run from here.
watchdog() {
	sleep "$2"
	say test-timeout "$1" "$2"
	echo w >/proc/sysrq-trigger
	finish stuck
}

run_test() {
	say test-begin "$1"
	# A test may ask for more time: a line "# vm-timeout: SECONDS".
	secs=$(grep -a -m 1 '^# vm-timeout: [0-9][0-9]*$' "$1" | sed 's/.*: //')
	watchdog "$1" "${secs:-$TEST_TIMEOUT}" &
	wd=$!
	t0=$(cut -d. -f1 /proc/uptime)
	"./$1" </dev/null 2>&1
	rc=$?
	kill "$wd"
	say test-end "$1" $rc $(($(cut -d. -f1 /proc/uptime) - t0))
}

cd "$TOP" || say fatal "no $TOP"
export KVMDBG_KO=$TOP/kmod/kvmdbg.ko KVMDBG_IN_VM=1
# ONLY (run.sh's VM_TESTS): words; then only the tests with one in their path.
selected() {
	[ -z "$ONLY" ] && return 0
	for w in $ONLY; do
		case $1 in *"$w"*) return 0 ;; esac
	done
	return 1
}

# run.sh's second boot after qemu got stuck: go on from this test.
resume_at=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kvmdbg_resume_at=//p')

for t in $(find build/selftests/vm selftests/vm/tests.d -type f 2>/dev/null | sort); do
	if [ -n "$resume_at" ]; then
		[ "$t" = "$resume_at" ] || continue
		resume_at=
	fi
	[ -x "$t" ] && selected "$t" && run_test "$t"
done
finish end
