// SPDX-License-Identifier: GPL-2.0
/*
 * A guest to attach to (kvmdbg-launch --attach PID): every vCPU counts
 * its own heartbeat until a debugger writes a non-zero value into
 * `mailbox`; vCPU 0 then prints that value and every vCPU's count, and
 * the guest exits 0. The loop polls with PAUSE, so it costs little even
 * where guest kernel code is emulated (docs/debugging.md).
 */
#include "guest.h"

#define MAX_CPUS	64

volatile unsigned long heartbeat[MAX_CPUS];
volatile unsigned long mailbox;
static volatile unsigned int nr_done;

static NOINLINE void beat(unsigned int cpu)
{
	while (!mailbox) {
		heartbeat[cpu]++;
		cpu_relax();
	}
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	if (cpu >= nr_cpus)
		return;
	beat(cpu);
	__atomic_fetch_add(&nr_done, 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		return;
	while (__atomic_load_n(&nr_done, __ATOMIC_ACQUIRE) != nr_cpus)
		cpu_relax();
	guest_printf("mailbox: 0x%lx\n", mailbox);
	for (unsigned int i = 0; i < nr_cpus; i++)
		guest_printf("vCPU %u: %s\n", i, heartbeat[i] ? "beat" : "never beat");
	guest_exit(0);
}
