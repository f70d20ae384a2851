// SPDX-License-Identifier: GPL-2.0
/*
 * Every vCPU prints "cpu N up" in index order (each waits for its turn),
 * then vCPU 0 reports the count and exits 0.
 */
#include "guest.h"

volatile unsigned int turn;

void main(unsigned int cpu, unsigned int nr_cpus)
{
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != cpu)
		cpu_relax();
	guest_printf("cpu %u up\n", cpu);
	__atomic_store_n(&turn, cpu + 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		return;
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != nr_cpus)
		cpu_relax();
	guest_printf("all %u vCPUs up\n", nr_cpus);
	guest_exit(0);
}
