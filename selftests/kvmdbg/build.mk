# SPDX-License-Identifier: GPL-2.0
# kvmdbg.ko selftests: static binaries run in the test VM by selftests/vm/run.sh.
KVMDBG_VM_TESTS	:= $(addprefix $(O)/selftests/vm/kvmdbg/,session_test snapshot_test ranges_test foreign_test)
ALL		+= $(KVMDBG_VM_TESTS)
$(KVMDBG_VM_TESTS): selftests/kvmdbg/kvmdbg_util.h include/uapi/linux/kvmdbg.h

# Kernel style of kmod/ and the uapi header: the kernel's checkpatch.pl
# --strict must stay silent.
.PHONY: checkpatch-kmod
checkpatch-kmod: $(KSFT_STAMP)
	$(CHECKPATCH) --strict --no-tree --quiet -f \
		$(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) \
		include/uapi/linux/kvmdbg.h
