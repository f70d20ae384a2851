# SPDX-License-Identifier: GPL-2.0
#
# Rules for selftests/: kselftest binaries and the test VM.
#
# For other parts' build.mk (this file is included after them, so use the
# variables in recipes, where make expands them late; the pattern rules
# below already depend on the headers):
#
#   KSFT_INC      folder holding kselftest_harness.h and kselftest.h,
#                 extracted at build time from Debian's linux-source-6.1
#                 tarball, or copied from a kernel tree: make KSRC=/path/to/linux
#   KSFT_STAMP    target that puts the headers there
#   CHECKPATCH    the kernel's checkpatch.pl (spelling.txt and
#                 const_structs.checkpatch next to it); run it with --no-tree
#   KSFT_CFLAGS   compile flags of test binaries: the project's flags plus
#                 -isystem $(KSFT_INC) -Iselftests/lib
#   KSFT_LDFLAGS  -static; set it empty per target for a dynamic binary
#   KSFT_LDLIBS   libraries; add per target: `$(O)/x_test: KSFT_LDLIBS += -lcap`
#
# Pattern rules, both building a static binary from selftests/<area>/<x>_test.c:
#
#   $(O)/selftests/<area>/<x>_test      a host test
#   $(O)/selftests/vm/<area>/<x>_test   a test for the test VM: run.sh copies
#                                       every file under $(O)/selftests/vm/
#                                       into the VM and runs every executable
#                                       there, sorted by path, from the VM's
#                                       copy of the tree top
#
# Extra sources, objects or archives are extra prerequisites; every .c, .o
# and .a prerequisite is compiled and linked in:
#
#   ALL += $(O)/selftests/user/run_test
#   $(O)/selftests/user/run_test: user/vmm/kvm.c
#
# Then add a line to selftests/suites to run a host test under make check.
# Test scripts for the VM go in selftests/vm/tests.d/ (see selftests/vm/run.sh).
#
# Targets: `make ksft` fetches the headers and checkpatch alone; `make
# check-vm` builds everything and runs the VM suite alone (~10 s).

KSFT_TARBALL	?= /usr/src/linux-source-6.1.tar.xz
KSFT_INC	:= $(O)/ksft
KSFT_STAMP	:= $(KSFT_INC)/.source
CHECKPATCH	:= $(KSFT_INC)/checkpatch.pl
KSFT_CFLAGS	= $(BASE_CFLAGS) $(CFLAGS) -isystem $(KSFT_INC) -Iselftests/lib
KSFT_LDFLAGS	= -static
KSFT_LDLIBS	= $(LDLIBS)

# Fetch the headers again when their source changes (KSRC given or not).
KSFT_FROM	:= $(if $(KSRC),ksrc $(abspath $(KSRC)),tarball $(KSFT_TARBALL))
ifneq ($(KSFT_FROM),$(shell cat $(KSFT_STAMP) 2>/dev/null))
$(KSFT_STAMP): ksft-refetch
endif
.PHONY: ksft ksft-refetch
ksft: $(KSFT_STAMP)

$(KSFT_STAMP): selftests/lib/get-ksft.sh $(if $(KSRC),,$(wildcard $(KSFT_TARBALL)))
	@echo "  KSFT    $(KSFT_INC) (from $(KSFT_FROM))"
	@selftests/lib/get-ksft.sh $(KSFT_INC) $(KSRC)
	@echo '$(KSFT_FROM)' >$@

define ksft_link
	@mkdir -p $(@D)
	$(CC) $(KSFT_CFLAGS) -MMD -MP -MF $@.d -o $@ \
		$(filter %.c %.o %.a,$^) $(KSFT_LDFLAGS) $(KSFT_LDLIBS)
endef

# make prefers the rule with the shorter stem, so VM tests take the first.
$(O)/selftests/vm/%_test: selftests/%_test.c $(KSFT_STAMP)
	$(ksft_link)

$(O)/selftests/%_test: selftests/%_test.c $(KSFT_STAMP)
	$(ksft_link)

-include $(shell find $(O)/selftests -type f -name '*.d' 2>/dev/null)

# kvmdbg.ko in the test VM.
KMOD_VM_TESTS	:= $(O)/selftests/vm/kmod/dev_test $(O)/selftests/vm/kmod/load_test
ALL		+= $(KMOD_VM_TESTS)

# Boot the test VM and run every VM test (make check does this too).
.PHONY: check-vm
check-vm: all
	selftests/vm/run.sh

# The debug backend's unit tests (selftests/gdb/).
include selftests/gdb/build.mk
# The snapshot reader without KVM: unit test and fuzz target (selftests/snapshot/).
include selftests/snapshot/build.mk
# Helper programs for the VM tests (selftests/vm/): the QMP client.
include selftests/vm/build.mk
