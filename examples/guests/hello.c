// SPDX-License-Identifier: GPL-2.0
/* The smallest guest: one line on COM1, then exit status 0. */
#include "guest.h"

void main(unsigned int cpu, unsigned int nr_cpus)
{
	(void)nr_cpus;
	if (cpu != 0)
		return;		/* other vCPUs halt */
	guest_printf("Hello from kvmdbg guest\n");
	guest_exit(0);
}
