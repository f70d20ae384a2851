// SPDX-License-Identifier: GPL-2.0
/*
 * Long-mode boot state every kind starts from: identity-mapped page
 * tables over all RAM, a GDT with a 64-bit code segment, a TSS, each
 * vCPU's CPUID; the kind (struct vm_machine) then sets the registers at
 * its entry point. Layout: the table in user/vmm/vm.h and the GPA_*
 * constants. No IDT: any exception of an ELF guest triple-faults and
 * ends the guest as a crash, which is what a test guest should do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/boot.h"

#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL
#define PTE_PS		0x80ULL

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_AM		(1ULL << 18)
#define CR0_PG		(1ULL << 31)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define GDT_CODE64	0x00af9b000000ffffULL	/* P, DPL0, exec/read, L, G */
#define GDT_DATA	0x00cf93000000ffffULL	/* P, DPL0, read/write, D/B, G */
#define TSS_LIMIT	0x67
#define TSS_TYPE_BUSY	0xb

static uint64_t *boot__table(struct vm *vm, uint64_t gpa)
{
	return (uint64_t *)((uint8_t *)vm->mem + gpa);
}

static void boot__build_gdt(struct vm *vm)
{
	uint64_t *gdt = boot__table(vm, GPA_GDT);
	uint64_t base = GPA_TSS;

	gdt[0] = 0;
	gdt[SEL_CODE / 8] = GDT_CODE64;
	gdt[SEL_DATA / 8] = GDT_DATA;
	/* 16-byte system descriptor: a busy 64-bit TSS, as VMX entry wants TR. */
	gdt[SEL_TSS / 8] = TSS_LIMIT | (base & 0xffffff) << 16 |
			   (uint64_t)TSS_TYPE_BUSY << 40 | 1ULL << 47 |
			   ((base >> 24) & 0xff) << 56;
	gdt[SEL_TSS / 8 + 1] = base >> 32;
}

void boot__build_tables(struct vm *vm)
{
	uint64_t *pml4 = boot__table(vm, GPA_PML4);
	uint64_t *pdpt = boot__table(vm, GPA_PDPT);
	uint64_t *pt0 = boot__table(vm, GPA_PT0);
	/* The PD pages are contiguous: index them as one array of 2 MiB entries. */
	uint64_t *pd = boot__table(vm, GPA_PD);
	uint64_t nr_huge = (vm->mem_size + HUGE_SIZE - 1) / HUGE_SIZE;
	uint64_t nr_gib = (nr_huge + 511) / 512;

	pml4[0] = GPA_PDPT | PTE_P | PTE_RW;
	for (uint64_t g = 0; g < nr_gib; g++)
		pdpt[g] = (GPA_PD + g * PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint64_t j = 0; j < nr_huge; j++)
		pd[j] = j * HUGE_SIZE | PTE_P | PTE_RW | PTE_PS;
	/* First 2 MiB in 4 KiB pages so that page 0 can stay unmapped. */
	pd[0] = GPA_PT0 | PTE_P | PTE_RW;
	pt0[0] = 0;
	for (uint64_t k = 1; k < 512; k++)
		pt0[k] = k * PAGE_SIZE | PTE_P | PTE_RW;
	boot__build_gdt(vm);
}

static int boot__get_cpuid(struct vm *vm)
{
	for (int nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -errno;
	}
	return -E2BIG;
}

/* Supported CPUID, with this vCPU's APIC ID, as the kind wants it. */
static int boot__set_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	int r = vm->cpuid ? 0 : boot__get_cpuid(vm);

	if (r < 0)
		return r;
	for (uint32_t i = 0; i < vm->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)vcpu->idx << 24;
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->idx;
		if (vm->machine->cpuid)
			vm->machine->cpuid(vm, e);
	}
	return ioctl(vcpu->fd, KVM_SET_CPUID2, vm->cpuid) ? -errno : 0;
}

static void boot__segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
			  bool code)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int boot__set_long_mode_sregs(struct vcpu *vcpu, uint16_t cs, uint16_t ds,
			      uint16_t tss, uint64_t cr4_extra)
{
	struct kvm_sregs sr;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sr))
		return -errno;
	boot__segment(&sr.cs, cs, 0xb, true);
	boot__segment(&sr.ds, ds, 0x3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.base = GPA_TSS;
	sr.tr.limit = TSS_LIMIT;
	sr.tr.selector = tss;
	sr.tr.type = TSS_TYPE_BUSY;
	sr.tr.present = 1;
	sr.gdt.base = GPA_GDT;
	sr.gdt.limit = (tss + 16) - 1;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sr.cr3 = GPA_PML4;
	sr.cr4 = CR4_PAE | cr4_extra;
	sr.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu->fd, KVM_SET_SREGS, &sr) ? -errno : 0;
}

int boot__setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	int r = boot__set_cpuid(vm, vcpu);

	return r ? r : vm->machine->setup_vcpu(vm, vcpu);
}
