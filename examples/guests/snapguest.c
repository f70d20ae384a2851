// SPDX-License-Identifier: GPL-2.0
/*
 * A deterministic guest for snapshot tests. Every vCPU fills its slice of
 * a 3-page buffer; vCPU 0 waits for all of them, prints a checksum, calls
 * snap_point() (a --snapshot-at target), asks for a snapshot by writing
 * port 0xF5, then rewrites the buffer, prints a second checksum and a
 * few ticks (a window for SIGUSR1), and exits with status 7. The other
 * vCPUs halt after filling. Everything it prints after a snapshot point
 * depends only on memory and registers, so a resumed run prints exactly
 * what the original printed from there.
 */
#include "guest.h"

#define BUF_SIZE	(3 * 4096)
#define MAX_CPUS	8
#define TICKS		12
#define TICK_SPINS	15000	/* CPL0 code may be emulated: keep it short */

unsigned char data[BUF_SIZE] __attribute__((aligned(4096)));
volatile unsigned int ready;
volatile unsigned long spins;

static NOINLINE uint32_t fill(unsigned char *buf, unsigned int len, unsigned int seed)
{
	uint32_t sum = 0;

	for (unsigned int i = 0; i < len; i++) {
		buf[i] = (unsigned char)(i * seed + 1);
		sum = sum * 31 + buf[i];
	}
	return sum;
}

static uint32_t checksum(void)
{
	uint32_t sum = 0;

	for (unsigned int i = 0; i < BUF_SIZE; i++)
		sum = sum * 31 + data[i];
	return sum;
}

/* Where --snapshot-at snap_point stops the world. */
NOINLINE void snap_point(void)
{
	__asm__ volatile("" ::: "memory");
}

static NOINLINE void tick(unsigned int i)
{
	for (unsigned int k = 0; k < TICK_SPINS; k++)
		spins++;
	guest_printf("tick %u\n", i);
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	unsigned int slice;

	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	if (cpu >= nr_cpus)
		return;
	slice = BUF_SIZE / nr_cpus;
	fill(data + cpu * slice, slice, 7 + cpu);
	__atomic_fetch_add(&ready, 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		return;		/* halts: a halted vCPU in the snapshot */
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) != nr_cpus)
		cpu_relax();
	guest_printf("phase 1: %u vCPUs, checksum 0x%x\n", nr_cpus, checksum());
	snap_point();
	outb(0xF5, 1);
	guest_printf("phase 2: checksum 0x%x\n", fill(data, BUF_SIZE, 13));
	for (unsigned int i = 1; i <= TICKS; i++)
		tick(i);
	guest_printf("done: %lu spins\n", spins);
	guest_exit(7);
}
