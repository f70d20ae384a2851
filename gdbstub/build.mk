# SPDX-License-Identifier: GPL-2.0
#
# Rules for gdbstub/: build/libgdbstub.a and its ASan/UBSan twin
# build/asan/libgdbstub.a (the VMM links one or the other), plus the
# gdbstub selftests (selftests/gdbstub/), whose rules live here so this
# part builds on its own.

GDBSTUB_SRCS	:= $(wildcard gdbstub/*.c)
GDBSTUB_HDRS	:= $(wildcard gdbstub/*.h)
GDBSTUB_OBJS	:= $(GDBSTUB_SRCS:%.c=$(O)/obj/%.o)
GDBSTUB_SAN_OBJS := $(GDBSTUB_SRCS:%.c=$(O)/asan/obj/%.o)

ALL		+= $(O)/libgdbstub.a $(O)/asan/libgdbstub.a

$(O)/obj/gdbstub/%.o: gdbstub/%.c $(GDBSTUB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/asan/obj/gdbstub/%.o: gdbstub/%.c $(GDBSTUB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -c -o $@ $<

$(O)/libgdbstub.a: $(GDBSTUB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/asan/libgdbstub.a: $(GDBSTUB_SAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
