#!/bin/sh
# /init of the nested Linux guest (selftests/vm/linux-guest.sh builds it).
# Prints a marker line with the CPU count the guest sees, a few
# deterministic lines, the kernel's _text address (KVMDBG-TEXT: the link
# address 0xffffffff81000000 unless KASLR moved the kernel), then runs a
# shell on the console (ttyS0). The test
# drives that shell (a read-eval loop) through kvmdbg-launch's stdin; `poweroff -f` ends it.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ PS1='guest# '
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo
echo "KVMDBG-LINUX-UP cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
echo "KVMDBG-SUM $((6 * 7))"
# /proc/kallsyms shows addresses only to readers kptr_restrict allows.
echo 0 >/proc/sys/kernel/kptr_restrict
echo "KVMDBG-TEXT $(grep ' _text$' /proc/kallsyms | cut -d' ' -f1)"
# A plain read-eval loop, not `sh -i`: busybox's interactive line editing
# stalls after the first line on this console (seen in the nested VM);
# the tty's canonical mode echoes what is typed.
echo "KVMDBG-SHELL"
while IFS= read -r line; do
	eval "$line"
done
