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

# ---- selftests/gdbstub ----------------------------------------------------
# Self-contained TAP programs (no kselftest harness needed): the unit test
# and the socket test against the fake backend, each built plain and with
# ASan/UBSan (the suites run the sanitized ones), and fake_target, which
# real gdb and lldb drive in clients_test.sh.

GDBSTUB_TEST_DEPS := selftests/gdbstub/fake_backend.c \
		     $(wildcard selftests/gdbstub/*.h) $(GDBSTUB_HDRS)
GDBSTUB_TESTS	:= gdbstub_test server_test fake_target

ALL		+= $(GDBSTUB_TESTS:%=$(O)/selftests/gdbstub/%) \
		   $(GDBSTUB_TESTS:%=$(O)/asan/selftests/gdbstub/%)

# Static pattern rules: explicit targets, so selftests/build.mk's generic
# $(O)/selftests/%_test rule (kselftest, -static) never applies to these.
$(GDBSTUB_TESTS:%=$(O)/selftests/gdbstub/%): $(O)/selftests/gdbstub/%: \
		selftests/gdbstub/%.c $(GDBSTUB_TEST_DEPS) $(O)/libgdbstub.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< \
		selftests/gdbstub/fake_backend.c $(O)/libgdbstub.a $(LDLIBS)

$(GDBSTUB_TESTS:%=$(O)/asan/selftests/gdbstub/%): $(O)/asan/selftests/gdbstub/%: \
		selftests/gdbstub/%.c $(GDBSTUB_TEST_DEPS) $(O)/asan/libgdbstub.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -o $@ $< \
		selftests/gdbstub/fake_backend.c $(O)/asan/libgdbstub.a $(LDLIBS)

# libFuzzer target over gdb_stub_input() (see selftests/gdbstub/fuzz_packet.c).
# clang compiles the stub's sources itself so libFuzzer sees their coverage.
# Built only where clang and its fuzzer runtime are installed
# (scripts/deps.sh installs clang and libclang-rt-14-dev).
GDBSTUB_FUZZ_RT	:= $(wildcard $(shell $(CLANG) -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a)
GDBSTUB_FUZZ_SRCS := $(filter-out gdbstub/server.c,$(GDBSTUB_SRCS)) \
		     selftests/gdbstub/fake_backend.c \
		     selftests/gdbstub/fuzz_packet.c
ifneq ($(GDBSTUB_FUZZ_RT),)
ALL		+= $(O)/fuzz/fuzz_packet
endif

$(O)/fuzz/fuzz_packet: $(GDBSTUB_FUZZ_SRCS) $(GDBSTUB_TEST_DEPS)
	@mkdir -p $(@D)
	$(CLANG) $(BASE_CFLAGS) -O1 -g -DFAKE_MEM_SIZE=0x2000 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $(GDBSTUB_FUZZ_SRCS)
