# SPDX-License-Identifier: GPL-2.0
#
# selftests/launch: host tests of the VMM library and kvmdbg-launch.
# Included from user/build.mk, i.e. before selftests/build.mk: the
# kselftest headers come through its `ksft` target (order-only) and
# $(KSFT_INC), which recipes expand late.
#
#   $(O)/asan/selftests/launch/vm_test   libkvmdbg-vmm.a (ASan/UBSan) on /dev/kvm
#   selftests/launch/launch.sh           the kvmdbg-launch command (no build)

LAUNCH_VM_TEST	:= $(O)/asan/selftests/launch/vm_test
ALL		+= $(LAUNCH_VM_TEST)

$(LAUNCH_VM_TEST): selftests/launch/vm_test.c selftests/launch/spin_guest.S \
		   $(USER_ASAN_LIB) | ksft
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -isystem $(KSFT_INC) \
		-MMD -MP -MF $@.d -o $@ $(filter %.c %.S %.a,$^) $(LDLIBS) $(USER_LDLIBS)

# The examples the tests run.
$(LAUNCH_VM_TEST): | $(GUESTS)

-include $(LAUNCH_VM_TEST).d

# Both stop-the-world paths give the same state (test VM, kvmdbg.ko):
# dynamic, as Debian ships no static libkmod; run.sh copies its libraries.
LAUNCH_PATHS_TEST := $(O)/selftests/vm/launch/stw_paths_test
ALL		+= $(LAUNCH_PATHS_TEST)
$(LAUNCH_PATHS_TEST): $(USER_LIB) | $(GUESTS)
$(LAUNCH_PATHS_TEST): KSFT_LDFLAGS :=
$(LAUNCH_PATHS_TEST): KSFT_LDLIBS += $(USER_LDLIBS)
