#!/bin/sh
# Print the kernel build tree kvmdbg.ko is built against: the running
# kernel's when its headers are installed, else the newest Debian
# linux-headers-*-amd64 package. Prints nothing when there is none.
running=/lib/modules/$(uname -r)/build
if [ -f "$running/Makefile" ]; then
	echo "$running"
	exit 0
fi
ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1
