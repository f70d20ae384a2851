# SPDX-License-Identifier: GPL-2.0
#
# examples/guests: freestanding 64-bit guests for kvmdbg-launch, one ELF per
# guest (<name>.c + the shared start.S and lib.c), linked at 1 MiB by
# guest.ld, with symbols (-g) for gdb. Outputs: $(O)/examples/<name>.elf

GUEST_NAMES	:= hello counters callchain mempattern smp snapguest attachee vmcoreinfo
GUESTS		:= $(patsubst %,$(O)/examples/%.elf,$(GUEST_NAMES))
GUEST_COMMON	:= $(O)/examples/start.o $(O)/examples/lib.o

# No libc, no PIC, no red zone (no IDT yet, but interrupt-safe code is the
# habit), no stack protector or CET notes the VMM does not set up, and no
# memset/memcpy synthesised from the loops that implement them. No SSE
# either (-mgeneral-regs-only): a KVM that emulates CPL0 guest code, as the
# development hosts' does, may fail on vector instructions (pxor did).
GUEST_CFLAGS	:= -std=c11 -Wall -Wextra -Werror -O2 -g -ffreestanding -mgeneral-regs-only \
		   -fno-pic -fno-pie -mno-red-zone -mcmodel=small \
		   -fno-stack-protector -fcf-protection=none \
		   -fno-tree-loop-distribute-patterns -fno-builtin
GUEST_LDFLAGS	:= -nostdlib -static -no-pie -Wl,-T,examples/guests/guest.ld \
		   -Wl,--build-id=sha1 -Wl,-z,max-page-size=0x1000 \
		   -Wl,-z,noexecstack

# plain.elf: linked the way a user would without our script (ld's default
# layout at -Ttext=0x100000: the ELF and program headers get a PT_LOAD of
# their own at 0xff000, below 1 MiB). The loader must take it as it is.
PLAIN_GUEST	:= $(O)/examples/plain.elf

ALL		+= $(GUESTS) $(PLAIN_GUEST)

# Keep the objects: make would otherwise delete them as intermediates.
.SECONDARY: $(GUEST_COMMON) $(patsubst %,$(O)/examples/%.o,$(GUEST_NAMES) plain)

$(O)/examples/%.o: examples/guests/%.c examples/guests/guest.h
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(O)/examples/%.o: examples/guests/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(O)/examples/%.elf: $(O)/examples/%.o $(GUEST_COMMON) examples/guests/guest.ld
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(PLAIN_GUEST): $(O)/examples/plain.o $(GUEST_COMMON)
	$(CC) $(GUEST_CFLAGS) -nostdlib -static -Wl,-Ttext=0x100000 -o $@ $^

# examples/flat: raw images, no ELF (bench/gdb_bench.sh loads them with
# kvmdbg-launch --flat and QEMU -device loader / -bios). Outputs:
# $(O)/examples/benchloop.bin (linked at 0x100000), bench-bios.bin (64 KiB,
# the reset vector in its last 16 bytes).
FLAT_IMAGES	:= $(O)/examples/benchloop.bin $(O)/examples/bench-bios.bin
ALL		+= $(FLAT_IMAGES)

$(O)/examples/flat-%.o: examples/flat/%.S
	@mkdir -p $(@D)
	$(CC) -c -o $@ $<

$(O)/examples/benchloop.bin: $(O)/examples/flat-benchloop.o
	$(LD) -Ttext=0x100000 --oformat binary -o $@ $<

$(O)/examples/bench-bios.bin: $(O)/examples/flat-bench-bios.o
	$(LD) -Ttext=0 --oformat binary -o $@ $<
