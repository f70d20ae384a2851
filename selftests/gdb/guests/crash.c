// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that crashes on purpose: it has no IDT, so the #UD of its ud2
 * cannot be delivered and becomes a triple fault (KVM_EXIT_SHUTDOWN).
 * Without a debugger the launcher ends with status 136; under gdb the
 * crash is a SIGSEGV stop, with marker readable and RIP on the ud2.
 */
#include "guest.h"

volatile unsigned long marker;

NOINLINE void crash_here(void)
{
	__asm__ volatile("ud2");
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	(void)nr_cpus;
	if (cpu != 0)
		return;
	marker = 0x1122334455667788ul;
	guest_printf("crash: about to execute ud2\n");
	crash_here();
	guest_printf("crash: still alive\n");
	guest_exit(1);
}
