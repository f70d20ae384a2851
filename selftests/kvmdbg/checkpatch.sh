#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel style of kmod/ and the uapi header: `make checkpatch-kmod` (the
# kernel's checkpatch.pl --strict --no-tree on every kmod/ source and on
# include/uapi/linux/kvmdbg.h) must print nothing. One TAP
# result; on failure checkpatch's output follows as comments.
set -u
cd "$(dirname "$0")/../.." || exit 1

out=$(make -s checkpatch-kmod 2>&1)
rc=$?
echo "1..1"
if [ "$rc" = 0 ] && [ -z "$out" ]; then
	echo "ok 1 - checkpatch --strict: kmod/ and uapi header clean"
	exit 0
fi
echo "not ok 1 - checkpatch --strict: kmod/ and uapi header clean"
printf '%s\n' "$out" | sed 's/^/# /'
exit 1
