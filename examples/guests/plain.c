// SPDX-License-Identifier: GPL-2.0
/*
 * A guest linked the plain way, without guest.ld:
 *   gcc -nostdlib -static -Wl,-Ttext=0x100000 ...
 * ld then puts the ELF and program headers in a read-only PT_LOAD of their
 * own just below .text, at 0xff000, inside the VMM's reserved area. No
 * section lives there, so kvmdbg-launch loads the image without it.
 */
#include "guest.h"

static unsigned int counter = 5;	/* .data */
static unsigned int zeroed;		/* .bss */

NOINLINE unsigned int plain_step(unsigned int v)
{
	return v * 3 + 1;
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	(void)nr_cpus;
	if (cpu != 0)
		return;		/* other vCPUs halt */
	zeroed += plain_step(counter);
	counter = zeroed;
	guest_printf("plain: linked with -Ttext=0x100000, step(5) = %u\n", counter);
	guest_exit(counter);
}
