// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that jumps into guest-physical memory with no RAM behind it:
 * it points the (otherwise not present) page at virtual 0 to physical
 * 0xc0000000, far above its RAM, and jumps there. KVM cannot fetch the
 * instruction (emulation failure): KVM_EXIT_INTERNAL_ERROR, status 145
 * without a debugger, a SIGILL stop under gdb.
 */
#include "guest.h"

#define PT_FIRST_2M	0x4000ul	/* the VMM's page table of 0-2 MiB */
#define NO_RAM		0xc0000000ul
#define PTE_P_RW	3ul

void main(unsigned int cpu, unsigned int nr_cpus)
{
	(void)nr_cpus;
	if (cpu != 0)
		return;
	guest_printf("badfetch: jumping to no RAM\n");
	*(volatile unsigned long *)PT_FIRST_2M = NO_RAM | PTE_P_RW;
	__asm__ volatile("invlpg (%0)\n\t"
			 "jmp *%0" : : "r"(0ul) : "memory");
}
