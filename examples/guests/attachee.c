// SPDX-License-Identifier: GPL-2.0
/*
 * A guest to attach to (kvmdbg-launch --attach PID): every vCPU counts
 * its own heartbeat until a debugger writes a non-zero value into
 * `mailbox`; vCPU 0 then prints that value and every vCPU's count, and
 * the guest exits 0. The loop polls with PAUSE, so it costs little even
 * where guest kernel code is emulated (docs/debugging.md). RBX stays
 * untouched through the loop: a vCPU whose RBX a debugger wrote while it
 * was frozen there prints that value at the end ("vCPU N: rbx 0x...").
 */
#include "guest.h"

#define MAX_CPUS	64

volatile unsigned long heartbeat[MAX_CPUS];
volatile unsigned long mailbox;
static volatile unsigned long rbx[MAX_CPUS];
static volatile unsigned int nr_done;

/* Counts until mailbox is set; returns RBX, 0 unless a debugger wrote it. */
static NOINLINE unsigned long beat(unsigned int cpu)
{
	unsigned long tag = 0;

	/*
	 * In asm so that RBX is live and unchanged across the whole loop;
	 * beat_loop, its first instruction, is a safe place to set RIP to.
	 */
	__asm__ volatile(".globl beat_loop\n"
			 "beat_loop:\n\t"
			 "cmpq $0, %[mb]\n\t"
			 "jne 2f\n\t"
			 "incq %[hb]\n\t"
			 "pause\n\t"
			 "jmp beat_loop\n"
			 "2:"
			 : [hb] "+m"(heartbeat[cpu]), "+b"(tag)
			 : [mb] "m"(mailbox)
			 : "memory", "cc");
	return tag;
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	if (nr_cpus > MAX_CPUS)
		nr_cpus = MAX_CPUS;
	if (cpu >= nr_cpus)
		return;
	rbx[cpu] = beat(cpu);
	__atomic_fetch_add(&nr_done, 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		return;
	while (__atomic_load_n(&nr_done, __ATOMIC_ACQUIRE) != nr_cpus)
		cpu_relax();
	guest_printf("mailbox: 0x%lx\n", mailbox);
	for (unsigned int i = 0; i < nr_cpus; i++)
		guest_printf("vCPU %u: %s\n", i, heartbeat[i] ? "beat" : "never beat");
	for (unsigned int i = 0; i < nr_cpus; i++)
		if (rbx[i])
			guest_printf("vCPU %u: rbx 0x%lx\n", i, rbx[i]);
	guest_exit(0);
}
