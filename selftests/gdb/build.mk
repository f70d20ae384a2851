# SPDX-License-Identifier: GPL-2.0
#
# selftests/gdb: unit tests of the debug backend's pure helpers (host, no
# VM needed) and the end-to-end tests with real gdb and lldb (run_e2e.py,
# no build step). Included from selftests/build.mk.

GDB_HELPERS_TEST := $(O)/selftests/gdb/helpers_test
ALL		+= $(GDB_HELPERS_TEST)

$(GDB_HELPERS_TEST): user/debug/x86_regs.c user/debug/x86_pagewalk.c user/lib/x86_debugreg.c \
	user/debug/debug_swbp.c user/linux/linux_core.c user/core/core_vmcoreinfo.c user/lib/elf.c

# Test guests of our own, built like examples/guests (same flags, start.S
# and lib.c): $(O)/selftests/gdb/<name>.elf from selftests/gdb/guests/.
# General registers only: the CPL0 emulation of our test hosts' KVM fails
# on SSE instructions (an internal error), which -O2 emits for struct stores.
GDB_TEST_GUESTS	:= $(O)/selftests/gdb/int3.elf $(O)/selftests/gdb/crash.elf \
		   $(O)/selftests/gdb/badfetch.elf
ALL		+= $(GDB_TEST_GUESTS)

$(O)/selftests/gdb/%.elf: selftests/gdb/guests/%.c examples/guests/guest.h \
		$(GUEST_COMMON) examples/guests/guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -mgeneral-regs-only -Iexamples/guests $(GUEST_LDFLAGS) -o $@ $< \
		$(GUEST_COMMON)

# Several VMs with their own debug backends in one process (ASan/UBSan,
# dynamic: the sanitizers do not link statically).
GDB_MULTI_VM_TEST := $(O)/asan/selftests/gdb/multi_vm_test
ALL		+= $(GDB_MULTI_VM_TEST)

$(GDB_MULTI_VM_TEST): selftests/gdb/multi_vm_test.c $(O)/asan/libkvmdbg-vmm.a \
		$(O)/asan/libgdbstub.a | $(KSFT_STAMP) $(GUESTS)
	@mkdir -p $(@D)
	$(CC) $(KSFT_CFLAGS) $(SAN_CFLAGS) -MMD -MP -MF $@.d -o $@ \
		$(filter %.c %.a,$^) $(LDLIBS) $(USER_LDLIBS)

-include $(GDB_MULTI_VM_TEST).d
