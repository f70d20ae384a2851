# SPDX-License-Identifier: GPL-2.0
#
# user/: the VMM core library and the kvmdbg-launch command.
#
#   $(O)/libkvmdbg-vmm.a        every user/*/*.c except the command layer
#                               (user/cli/): the VMM core, the machines, the
#                               debug back end, snapshots and guest cores
#                               (user/core/), so tests can link the VMM alone
#   $(O)/kvmdbg-launch          the command: user/cli/*.c + the libraries
#   $(O)/asan/...               the same, built with $(SAN_CFLAGS)

USER_SRCS	:= $(wildcard user/*/*.c)
USER_CLI_SRCS	:= $(wildcard user/cli/*.c)
USER_LIB_SRCS	:= $(filter-out $(USER_CLI_SRCS),$(USER_SRCS))

USER_LIB	:= $(O)/libkvmdbg-vmm.a
USER_ASAN_LIB	:= $(O)/asan/libkvmdbg-vmm.a
LAUNCH		:= $(O)/kvmdbg-launch
ASAN_LAUNCH	:= $(O)/asan/kvmdbg-launch

# The RSP library (gdbstub/build.mk) serves --gdb.
GDBSTUB_LIB	:= $(O)/libgdbstub.a
GDBSTUB_ASAN_LIB := $(O)/asan/libgdbstub.a

# Loading kvmdbg.ko and dropping capabilities (user/vmm/kvmdbg_mod.c,
# user/lib/caps.c): every program linking the library needs these too.
USER_LDLIBS	:= -lkmod -lcap

user_objs	= $(patsubst user/%.c,$(1)/user/%.o,$(2))

ALL		+= $(USER_LIB) $(USER_ASAN_LIB) $(LAUNCH) $(ASAN_LAUNCH)

$(O)/user/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(O)/asan/user/%.o: user/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<

$(USER_LIB): $(call user_objs,$(O),$(USER_LIB_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(USER_ASAN_LIB): $(call user_objs,$(O)/asan,$(USER_LIB_SRCS))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LAUNCH): $(call user_objs,$(O),$(USER_CLI_SRCS)) $(USER_LIB) $(GDBSTUB_LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(USER_LDLIBS)

$(ASAN_LAUNCH): $(call user_objs,$(O)/asan,$(USER_CLI_SRCS)) $(USER_ASAN_LIB) \
		$(GDBSTUB_ASAN_LIB)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) -o $@ $^ $(LDLIBS) $(USER_LDLIBS)

-include $(wildcard $(O)/user/*/*.d $(O)/asan/user/*/*.d)

include selftests/launch/build.mk
