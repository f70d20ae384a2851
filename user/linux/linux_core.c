// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux machine's core layout (struct vm_machine.core_layout, see
 * docs/core-format.md): the guest's VMCOREINFO note, which crash and drgn
 * need for a KASLR kernel, and the direct map as the PT_LOAD's p_vaddr.
 *
 * With --symbols (a vmlinux) and the slide: vmcoreinfo_note is a pointer
 * (kernel/crash_core.c) to the page-aligned note, page_offset_base the
 * direct map's start; both are read through vCPU 0's page tables.
 * Without: the note is found by scanning RAM for its page-aligned header,
 * and the direct map is the lowest 1 GiB-aligned kernel address vCPU 0's
 * page tables map to guest-physical 0 (KASLR aligns page_offset_base so).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "user/core/core.h"
#include "user/debug/x86_pagewalk.h"
#include "user/lib/elf.h"
#include "user/linux/linux-priv.h"

#define KERNEL_HALF	0xffff800000000000ULL
#define GIB		(1ULL << 30)

static int read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	void *p = vm__gpa_to_hva(ctx, gpa, size);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, size);
	return 0;
}

static int gva_to_gpa(struct vm *vm, const struct kvm_sregs *s, uint64_t gva,
		      uint64_t *gpa)
{
	struct x86_paging p = { s->cr0, s->cr3, s->cr4, s->efer };
	struct x86_walk w = { 0 };
	int r = x86_pagewalk(&p, gva, read_phys, vm, &w);

	*gpa = w.gpa;
	return r;
}

/* The u64 at kernel address @sym + slide. */
static int read_sym(struct vm *vm, const struct kvm_sregs *s,
		    const struct vm_core_layout *l, const char *sym, uint64_t *val)
{
	uint64_t link, gpa;
	int r = elf__symbol(l->symbols, sym, &link, NULL, 0);

	r = r ? r : gva_to_gpa(vm, s, link + l->slide, &gpa);
	return r ? r : read_phys(vm, gpa, val, sizeof(*val));
}

/* With symbols: the note vmcoreinfo_note points to. -1 if none. */
static int64_t note_by_symbol(struct vm *vm, const struct kvm_sregs *s,
			      struct vm_core_layout *l)
{
	uint64_t ptr, gpa;

	if (!l->symbols || !l->have_slide || read_sym(vm, s, l, "vmcoreinfo_note", &ptr) ||
	    gva_to_gpa(vm, s, ptr, &gpa))
		return -1;
	return (int64_t)gpa;
}

static bool direct_map(struct vm *vm, const struct kvm_sregs *s,
		       struct vm_core_layout *l)
{
	uint64_t gpa;

	if (l->symbols && l->have_slide &&
	    !read_sym(vm, s, l, "page_offset_base", &l->vaddr_base))
		return true;
	for (uint64_t va = KERNEL_HALF; va >= KERNEL_HALF; va += GIB)
		if (!gva_to_gpa(vm, s, va, &gpa) && gpa == 0) {
			l->vaddr_base = va;
			return true;
		}
	return false;
}

void linux__core_layout(struct vm *vm, const struct kvm_sregs *sregs,
			struct vm_core_layout *l)
{
	uint64_t size = vm__mem_size(vm);
	const uint8_t *mem = vm__gpa_to_hva(vm, 0, size);
	int64_t gpa = note_by_symbol(vm, sregs, l);
	const char *how = "vmcoreinfo_note";

	if (gpa < 0 || (uint64_t)gpa >= size ||
	    !core__vmcoreinfo_len(mem + gpa, size - gpa)) {
		gpa = core__find_vmcoreinfo(mem, size);
		how = "a scan of guest RAM";
	}
	l->vaddr_valid = sregs->cr0 & (1u << 31) ? direct_map(vm, sregs, l) : false;
	if (gpa < 0) {
		snprintf(l->what, sizeof(l->what), "not found (no note in guest RAM: the kernel has not booted that far, or lacks CONFIG_CRASH_CORE)");
		return;
	}
	l->note_len = core__vmcoreinfo_len(mem + gpa, size - gpa);
	l->note_gpa = (uint64_t)gpa;
	memcpy(l->note, mem + gpa, l->note_len);
	snprintf(l->what, sizeof(l->what), "found at %#" PRIx64 " (by %s)", l->note_gpa, how);
}
