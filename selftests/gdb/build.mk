# SPDX-License-Identifier: GPL-2.0
#
# selftests/gdb: unit tests of the debug backend's pure helpers (host, no
# VM needed) and the end-to-end tests with real gdb and lldb (run_e2e.py,
# no build step). Included from selftests/build.mk.

GDB_HELPERS_TEST := $(O)/selftests/gdb/helpers_test
ALL		+= $(GDB_HELPERS_TEST)

$(GDB_HELPERS_TEST): user/x86_regs.c user/x86_pagewalk.c user/x86_debugreg.c \
	user/debug_swbp.c
