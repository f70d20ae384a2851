# SPDX-License-Identifier: GPL-2.0
# kvmdbg.ko selftests: static binaries run in the test VM by selftests/vm/run.sh.
KVMDBG_VM_TESTS	:= $(addprefix $(O)/selftests/vm/kvmdbg/,session_test snapshot_test ranges_test)
ALL		+= $(KVMDBG_VM_TESTS)
$(KVMDBG_VM_TESTS): selftests/kvmdbg/kvmdbg_util.h include/uapi/linux/kvmdbg.h
