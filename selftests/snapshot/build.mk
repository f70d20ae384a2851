# SPDX-License-Identifier: GPL-2.0
#
# selftests/snapshot: the snapshot reader without KVM. Included from
# selftests/build.mk (after user/build.mk, whose variables it uses).
#
#   $(O)/asan/selftests/snapshot/reader_test   crafted files against
#                      snapshot__open() (kselftest harness, ASan/UBSan)
#   $(O)/fuzz/fuzz_snapshot                     libFuzzer target over
#                      snapshot__open() (selftests/snapshot/fuzz_snapshot.c)
#   selftests/snapshot/snapshot.sh, fuzz.sh     the suites (no build)

SNAP_READER_TEST := $(O)/asan/selftests/snapshot/reader_test
ALL		+= $(SNAP_READER_TEST)

$(SNAP_READER_TEST): selftests/snapshot/reader_test.c selftests/snapshot/snapfix.h \
		     $(USER_ASAN_LIB) | ksft
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -isystem $(KSFT_INC) \
		-MMD -MP -MF $@.d -o $@ $(filter %.c %.a,$^) $(LDLIBS) $(USER_LDLIBS)

-include $(SNAP_READER_TEST).d

# A foreign VM's snapshot made from an own one by the real writer, for
# snapshot.sh's resume-under-gdb tests (no kvmdbg.ko on the host).
SNAP_FOREIGN_FIXTURE := $(O)/asan/selftests/snapshot/foreign_fixture
ALL		+= $(SNAP_FOREIGN_FIXTURE)

$(SNAP_FOREIGN_FIXTURE): selftests/snapshot/foreign_fixture.c $(USER_ASAN_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -MF $@.d -o $@ \
		$(filter %.c %.a,$^) $(LDLIBS) $(USER_LDLIBS)

-include $(SNAP_FOREIGN_FIXTURE).d

# The fuzz target: clang compiles the VMM library itself (coverage for
# libFuzzer, its own ASan/UBSan), as gdbstub/build.mk does for the stub.
# The reader pulls in the rest of the library it links against (restore
# code), which never runs here: no KVM object is created. clang warns
# about a GNU extension the VMM uses on purpose (struct kvm_msrs with its
# flexible array inside a struct, as KVM's own selftests do); gcc does not.
# Built only where clang and its fuzzer runtime are installed, like the
# packet fuzzer (GDBSTUB_FUZZ_RT, scripts/deps.sh).
SNAP_FUZZ	:= $(O)/fuzz/fuzz_snapshot
SNAP_FUZZ_LIB	:= $(O)/fuzz/libkvmdbg-vmm.a
SNAP_FUZZ_CFLAGS := $(BASE_CFLAGS) -Wno-gnu-variable-sized-type-not-at-end -O1 -g \
		    -fsanitize=address,undefined -fno-sanitize-recover=all
ifneq ($(GDBSTUB_FUZZ_RT),)
ALL		+= $(SNAP_FUZZ)
endif

$(O)/fuzz/user/%.o: user/%.c
	@mkdir -p $(@D)
	$(CLANG) $(SNAP_FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(SNAP_FUZZ_LIB): $(call user_objs,$(O)/fuzz,$(USER_LIB_SRCS))
	rm -f $@ && $(AR) rcs $@ $^

$(SNAP_FUZZ): selftests/snapshot/fuzz_snapshot.c selftests/snapshot/snapfix.h \
	      $(SNAP_FUZZ_LIB)
	@mkdir -p $(@D)
	$(CLANG) $(SNAP_FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(SNAP_FUZZ_LIB) \
		$(LDLIBS) $(USER_LDLIBS)

-include $(wildcard $(O)/fuzz/user/*/*.d)
