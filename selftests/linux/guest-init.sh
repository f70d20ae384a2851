#!/bin/sh
# /init of the Linux guest the Linux-macro tests debug (selftests/linux/
# with QEMU's gdbstub on the host, selftests/vm/tests.d/70-linux-gdb with
# kvmdbg-launch in the test VM). Prints what the kernel itself says about
# the values the gdb macros compute, between "@linux@ " control lines.
#
# A child of pid 1 keeps one CPU busy (so one vCPU's current task is that
# child, "busy", the others idle) without faulting, until the debugger sets
# the hostname to "fault" (writing init_uts_ns): then it forks, and the
# children fault. pid 1 itself reads commands from the console and runs
# them (a read-eval loop), so a test can check that the shell answers, e.g.
# after a snapshot was resumed; it stays blocked in read() otherwise, so
# its VMAs stay as printed.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# /dev/null: sh opens it as a background job's stdin (the job dies without).
mount -t devtmpfs devtmpfs /dev
echo 0 >/proc/sys/kernel/kptr_restrict
while :; do
	read -r h </proc/sys/kernel/hostname
	[ "$h" != fault ] || /bin/sh -c :
done &
busy=$!
echo
echo "@linux@ begin $(uname -r) cpus $(grep -c ^processor /proc/cpuinfo)"
echo "@linux@ comm 1 $(cat /proc/1/comm)"
echo "@linux@ busy $busy $(cat /proc/$busy/comm)"
# The kernel's own view of its memory layout: /proc/kcore's ELF program
# headers (p_vaddr - p_paddr of a RAM segment is page_offset_base, the
# vmalloc and vmemmap segments start at vmalloc_base / vmemmap_base).
echo "@linux@ kcore-begin"
head -c 4096 /proc/kcore | base64
echo "@linux@ kcore-end"
for s in _text init_task page_offset_base vmalloc_base vmemmap_base phys_base; do
	echo "@linux@ kallsyms $(grep " $s\$" /proc/kallsyms | head -n 1)"
done
echo "@linux@ maps-begin"
cat /proc/1/maps
echo "@linux@ maps-end"
echo "@linux@ ready"
while IFS= read -r line; do
	eval "$line"
done
echo "@linux@ console closed"
wait
