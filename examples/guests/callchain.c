// SPDX-License-Identifier: GPL-2.0
/*
 * main -> a -> b -> c, each a real call (noinline, noipa: no clones, so
 * the symbols a, b and c exist for breakpoints). a(10) = 79.
 */
#include "guest.h"

volatile unsigned long input = 10;

NOINLINE unsigned long c(unsigned long x)
{
	return x * 3 + 1;
}

NOINLINE unsigned long b(unsigned long x)
{
	return c(x + 2) * 2;
}

NOINLINE unsigned long a(unsigned long x)
{
	return b(x) + 5;
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	unsigned long x = input;

	(void)nr_cpus;
	if (cpu != 0)
		return;
	guest_printf("callchain: a(%lu) = %lu\n", x, a(x));
	guest_exit(0);
}
