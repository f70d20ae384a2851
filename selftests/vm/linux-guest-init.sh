#!/bin/sh
# /init of the nested Linux guest (selftests/vm/linux-guest.sh builds it).
# Prints a marker line with the CPU count the guest sees, a few
# deterministic lines, then runs a shell on the console (ttyS0). The test
# drives that shell (a read-eval loop) through kvmdbg-launch's stdin; `poweroff -f` ends it.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ PS1='guest# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo
echo "KVMDBG-LINUX-UP cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
echo "KVMDBG-SUM $((6 * 7))"
# A plain read-eval loop, not `sh -i`: busybox's interactive line editing
# stalls after the first line on this console (seen in the nested VM);
# the tty's canonical mode echoes what is typed.
echo "KVMDBG-SHELL"
while IFS= read -r line; do
	eval "$line"
done
