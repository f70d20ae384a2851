// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that handles its own int3: an IDT whose #BP gate counts hits
 * and returns. Under a debugger that has software breakpoints of its own
 * (so KVM traps every int3), these int3s must still reach the guest: the
 * output must be the same with and without gdb.
 */
#include "guest.h"

#define SEL_CODE	0x08	/* the VMM's 64-bit code segment */
#define BP_VECTOR	3
#define HITS		3

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;	/* type 0x8e: present, DPL 0, interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));
volatile unsigned long bp_hits;

void bp_entry(void);
/* Trap frame: RIP already past the int3; just count and return. */
__asm__(".text\n"
	".globl bp_entry\n"
	"bp_entry:\n"
	"	lock incq bp_hits(%rip)\n"
	"	iretq\n");

static void set_gate(int vec, void (*fn)(void))
{
	uint64_t a = (uint64_t)fn;

	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)a, .sel = SEL_CODE, .type = 0x8e,
		.off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32),
	};
}

static void load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* One int3 of the guest's own, at a symbol gdb can find. */
NOINLINE void guest_int3(void)
{
	__asm__ volatile("int3");
}

void main(unsigned int cpu, unsigned int nr_cpus)
{
	(void)nr_cpus;
	if (cpu != 0)
		return;
	set_gate(BP_VECTOR, bp_entry);
	load_idt();
	for (int i = 0; i < HITS; i++)
		guest_int3();
	guest_printf("int3: %lu of %d handled by the guest\n", bp_hits, HITS);
	guest_exit(bp_hits == HITS ? 0 : 1);
}
