// SPDX-License-Identifier: GPL-2.0
/*
 * Every vCPU increments its own counter ITERATIONS times; vCPU 0 waits
 * for all of them, prints each counter and the total, and exits 0.
 * Loops stay short: guest kernel code may be emulated
 * (docs/debugging.md, "On this project's test hosts").
 */
#include "guest.h"

#define ITERATIONS	1000
#define MAX_CPUS	64

/* One cache line per vCPU, so the counters do not share lines. */
struct slot {
	volatile unsigned long count;
	volatile unsigned int done;
} __attribute__((aligned(64)));

struct slot counters[MAX_CPUS];

static NOINLINE void count(struct slot *s)
{
	for (int i = 0; i < ITERATIONS; i++)
		s->count++;
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	unsigned long total = 0;

	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	if (cpu >= nr_cpus)
		return;
	count(&counters[cpu]);
	if (cpu != 0)
		return;
	for (unsigned int i = 0; i < nr_cpus; i++)
		while (!__atomic_load_n(&counters[i].done, __ATOMIC_ACQUIRE))
			cpu_relax();
	for (unsigned int i = 0; i < nr_cpus; i++) {
		guest_printf("cpu %u: %lu\n", i, counters[i].count);
		total += counters[i].count;
	}
	guest_printf("total: %lu\n", total);
	guest_exit(0);
}
