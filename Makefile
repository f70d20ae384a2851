# SPDX-License-Identifier: GPL-2.0
#
# kvmdbg: `make` builds everything, `make check` runs every test (host and
# test VM), `make demo` runs the example guest under gdb. Each part adds its
# own rules in <part>/build.mk; this file holds what they share.

O		:= build
CC		?= gcc
CLANG		?= clang
CFLAGS		?= -O2 -g
BASE_CFLAGS	:= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -I.
SAN_CFLAGS	:= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
LDLIBS		:= -lpthread

KDIR		?= $(shell scripts/find-kdir.sh)

# Files each part's rules append to.
ALL		:=
CLEAN		:=

.PHONY: all kmod check demo clean deps
all: kmod

include gdbstub/build.mk
include user/build.mk
include examples/build.mk
include bench/build.mk
include selftests/build.mk
include selftests/kvmdbg/build.mk

# After every build.mk: the prerequisites of a rule are expanded when make
# reads it, so whatever a part adds to ALL later would be left out.

all: $(ALL)

kmod: kmod/kvmdbg.ko

kmod/kvmdbg.ko: $(wildcard kmod/*.c kmod/*.h) include/uapi/linux/kvmdbg.h kmod/Kbuild Kbuild
	@if [ -z "$(KDIR)" ]; then \
		echo "make: no kernel headers found: run 'scripts/deps.sh' as root (installs linux-headers-amd64) or pass KDIR=/path/to/kernel/build" >&2; \
		exit 1; \
	elif [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "make: KDIR=$(KDIR) is not a kernel build tree (no Makefile there): pass KDIR=/lib/modules/<version>/build or install linux-headers-amd64" >&2; \
		exit 1; \
	fi
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

# Installs missing packages (needs root when something is missing).
deps:
	scripts/deps.sh

check: deps
	$(MAKE) all
	scripts/check.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

clean:
	rm -rf $(O) $(CLEAN)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order .*.cmd Module.symvers modules.order
