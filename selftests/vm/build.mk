# SPDX-License-Identifier: GPL-2.0
#
# Helper programs for the VM tests that are not tests themselves. They go
# under $(O)/selftests/vm-bin/, which run.sh copies into the VM (as
# /kvmdbg/build/selftests/vm-bin/) but does not run: everything under
# $(O)/selftests/vm/ is run as a test.
#
#   $(O)/selftests/vm-bin/qmp        static QMP client (selftests/vm/qmp.c)
#   $(O)/asan/selftests/vm-bin/qmp   the same with the sanitizers, for the host
#   $(O)/selftests/vm-bin/foreign_bench  freeze + capture + thaw of another
#                                    VMM's VM through kvmdbg.ko, timed
#                                    (selftests/vm/foreign_bench.c; linked
#                                    with the user library, dynamically:
#                                    libkmod has no static archive here, and
#                                    run.sh copies the libraries ldd lists)

VM_BIN		:= $(O)/selftests/vm-bin
ALL		+= $(VM_BIN)/qmp $(O)/asan/selftests/vm-bin/qmp $(VM_BIN)/foreign_bench

$(VM_BIN)/qmp: selftests/vm/qmp.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -o $@ $< -static

$(O)/asan/selftests/vm-bin/qmp: selftests/vm/qmp.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -o $@ $<

$(VM_BIN)/foreign_bench: selftests/vm/foreign_bench.c $(USER_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.a,$^) $(LDLIBS) $(USER_LDLIBS)
