#!/bin/sh
# /init of the Linux guest the Linux-macro tests debug (selftests/linux/).
# Prints what the kernel itself says about the values the gdb macros
# compute, between "@linux@ " control lines, then keeps pid 1 busy on one
# CPU (so one vCPU's current task is this shell, the others idle, and no
# page faults) until the debugger ends the guest. Once the debugger sets
# the hostname to "fault" (writing init_uts_ns), the loop forks, and the
# children fault.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo 0 >/proc/sys/kernel/kptr_restrict
echo
echo "@linux@ begin $(uname -r) cpus $(grep -c ^processor /proc/cpuinfo)"
echo "@linux@ comm 1 $(cat /proc/1/comm)"
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
while :; do
	read -r h </proc/sys/kernel/hostname
	[ "$h" != fault ] || /bin/sh -c :
done
