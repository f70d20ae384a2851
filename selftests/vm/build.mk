# SPDX-License-Identifier: GPL-2.0
#
# Helper programs for the VM tests that are not tests themselves. They go
# under $(O)/selftests/vm-bin/, which run.sh copies into the VM (as
# /kvmdbg/build/selftests/vm-bin/) but does not run: everything under
# $(O)/selftests/vm/ is run as a test.
#
#   $(O)/selftests/vm-bin/qmp        static QMP client (selftests/vm/qmp.c)
#   $(O)/asan/selftests/vm-bin/qmp   the same with the sanitizers, for the host

VM_BIN		:= $(O)/selftests/vm-bin
ALL		+= $(VM_BIN)/qmp $(O)/asan/selftests/vm-bin/qmp

$(VM_BIN)/qmp: selftests/vm/qmp.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -o $@ $< -static

$(O)/asan/selftests/vm-bin/qmp: selftests/vm/qmp.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -o $@ $<
