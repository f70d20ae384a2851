// SPDX-License-Identifier: GPL-2.0
/*
 * Not a kernel, but it carries what a Linux kernel keeps for crash and
 * drgn, so the core writer's Linux layout can be tested on a host whose
 * KVM emulates CPL0 code too slowly to boot Linux: a page-aligned
 * VMCOREINFO ELF note, the pointer vmcoreinfo_note to it and
 * page_offset_base (kernel/crash_core.c, arch/x86/mm/kaslr.c), and an
 * entry_SYSCALL_64 that LSTAR points to (slide 0). Booted as --kernel (an
 * ELF "vmlinux"), it asks for a snapshot (port 0xF5) and halts.
 */
#include "guest.h"

#define VMCOREINFO_TEXT	"OSRELEASE=6.1.0-kvmdbg-test\nPAGESIZE=4096\nKERNELOFFSET=0\n"
#define MSR_LSTAR	0xc0000082u

struct vmcoreinfo_buf {
	uint32_t namesz, descsz, type;
	char name[12];
	char desc[sizeof(VMCOREINFO_TEXT)];
};

const struct vmcoreinfo_buf vmcoreinfo __attribute__((aligned(4096))) = {
	.namesz = sizeof("VMCOREINFO"),
	.descsz = sizeof(VMCOREINFO_TEXT) - 1,
	.type = 0,
	.name = "VMCOREINFO",
	.desc = VMCOREINFO_TEXT,
};

/* As the kernel has them: a pointer to the note, the direct map's base. */
const struct vmcoreinfo_buf *const vmcoreinfo_note __attribute__((used)) = &vmcoreinfo;
const unsigned long page_offset_base __attribute__((used)) = 0xffff888000000000ul;

NOINLINE void entry_SYSCALL_64(void)
{
	__asm__ volatile("");
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	uint64_t lstar = (uint64_t)entry_SYSCALL_64;

	(void)nr_cpus;
	if (cpu != 0)
		return;
	__asm__ volatile("wrmsr" : : "c"(MSR_LSTAR), "a"((uint32_t)lstar),
			 "d"((uint32_t)(lstar >> 32)));
	outb(0xf5, 1);
}
