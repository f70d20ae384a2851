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
 * From the note's _stext and phys_base: the kernel image's PT_LOAD.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/core/core.h"
#include "user/debug/x86_pagewalk.h"
#include "user/lib/elf.h"
#include "user/linux/linux-priv.h"

#define KERNEL_HALF	0xffff800000000000ULL
#define KERNEL_HALF_LA57	0xff00000000000000ULL
#define CR4_LA57	(1ULL << 12)
#define PML5_SPAN	(1ULL << 48)
#define GIB		(1ULL << 30)
#define PML4_SPAN	(1ULL << 39)
#define START_KERNEL_MAP	0xffffffff80000000ULL
#define KERNEL_IMAGE_MAX	GIB	/* x86-64's KERNEL_IMAGE_SIZE with KASLR */

static int read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	const struct vm_core_mem *m = ctx;

	return core_mem__avail(m, gpa) >= size ? m->read(m->ctx, gpa, buf, size) : -EFAULT;
}

static int walk(const struct vm_core_mem *m, const struct kvm_sregs *s, uint64_t gva,
		struct x86_walk *w)
{
	struct x86_paging p = { s->cr0, s->cr3, s->cr4, s->efer };

	memset(w, 0, sizeof(*w));
	return x86_pagewalk(&p, gva, read_phys, (void *)m, w);
}

static int gva_to_gpa(const struct vm_core_mem *m, const struct kvm_sregs *s, uint64_t gva,
		      uint64_t *gpa)
{
	struct x86_walk w;
	int r = walk(m, s, gva, &w);

	*gpa = w.gpa;
	return r;
}

/* The u64 at kernel address @sym + slide. */
static int read_sym(const struct vm_core_mem *m, const struct kvm_sregs *s,
		    const struct vm_core_layout *l, const char *sym, uint64_t *val)
{
	uint64_t link, gpa;
	int r = elf__symbol(l->symbols, sym, &link, NULL, 0);

	r = r ? r : gva_to_gpa(m, s, link + l->slide, &gpa);
	return r ? r : read_phys((void *)m, gpa, val, sizeof(*val));
}

/* With symbols: the note vmcoreinfo_note points to. -1 if none. */
static int64_t note_by_symbol(const struct vm_core_mem *m, const struct kvm_sregs *s,
			      struct vm_core_layout *l)
{
	uint64_t ptr, gpa;

	if (!l->symbols || !l->have_slide || read_sym(m, s, l, "vmcoreinfo_note", &ptr) ||
	    gva_to_gpa(m, s, ptr, &gpa))
		return -1;
	return (int64_t)gpa;
}

/*
 * The lowest 1 GiB-aligned kernel address that maps gpa 0; a PML5 or PML4
 * entry that is not present skips its 256 TiB or 512 GiB (a guest without
 * a direct map, e.g. a foreign VM's bare-metal guest, costs 256 walks,
 * not 2^17). With 5-level paging (CR4.LA57, as QEMU's -cpu max and host
 * guests on newer CPUs boot) the kernel half starts at 0xff00...: the
 * direct map is at 0xff11... before KASLR.
 */
static bool direct_map(const struct vm_core_mem *m, const struct kvm_sregs *s,
		       struct vm_core_layout *l)
{
	uint64_t lo = s->cr4 & CR4_LA57 ? KERNEL_HALF_LA57 : KERNEL_HALF;
	struct x86_walk w;

	if (l->symbols && l->have_slide &&
	    !read_sym(m, s, l, "page_offset_base", &l->vaddr_base))
		return true;
	for (uint64_t va = lo; va >= lo;) {
		if (!walk(m, s, va, &w) && w.gpa == 0) {
			l->vaddr_base = va;
			return true;
		}
		if (w.levels == 5 && w.level == 5)
			va = (va | (PML5_SPAN - 1)) + 1;
		else if (w.levels >= 4 && w.level == 4)
			va = (va | (PML4_SPAN - 1)) + 1;
		else
			va += GIB;
	}
	return false;
}

/*
 * The number after KEY= in the note's text (VMCOREINFO's lines are
 * "KEY=VALUE\n": SYMBOL()s in hex, NUMBER()s in signed decimal).
 */
static bool note_value(const struct vm_core_layout *l, const char *key, int base,
		       int64_t *val)
{
	static const size_t text_off = sizeof(Elf64_Nhdr) + 12;	/* "VMCOREINFO" */
	size_t klen = strlen(key), len = l->note_len - text_off;
	const char *t = (const char *)l->note + text_off, *end = t + len;
	char num[32];

	for (const char *p = t; p + klen < end; p++) {
		if ((p != t && p[-1] != '\n') || memcmp(p, key, klen))
			continue;
		len = 0;
		for (p += klen; p < end && *p != '\n' && len < sizeof(num) - 1; p++)
			num[len++] = *p;
		num[len] = 0;
		*val = base == 16 ? (int64_t)strtoull(num, NULL, 16) : strtoll(num, NULL, 10);
		return len != 0;
	}
	return false;
}

/*
 * The kernel image's mapping (__START_KERNEL_map + phys_base), from _stext
 * on as far as vCPU 0's page tables map it so: drgn reads the kernel's
 * variables (init_task, swapper_pg_dir) through such a PT_LOAD, as a kdump
 * vmcore has; without one it has no way to its page tables. A core
 * without _stext or phys_base in VMCOREINFO gets none.
 */
static void kernel_text(const struct vm_core_mem *m, const struct kvm_sregs *s,
			struct vm_core_layout *l)
{
	int64_t stext, phys_base;
	uint64_t gpa, va;

	if (!note_value(l, "SYMBOL(_stext)=", 16, &stext) ||
	    !note_value(l, "NUMBER(phys_base)=", 10, &phys_base) ||
	    (uint64_t)stext < START_KERNEL_MAP || (stext & 4095))
		return;
	l->text_vaddr = (uint64_t)stext;
	l->text_paddr = (uint64_t)stext - START_KERNEL_MAP + (uint64_t)phys_base;
	for (va = l->text_vaddr; va - l->text_vaddr < KERNEL_IMAGE_MAX; va += 4096)
		if (gva_to_gpa(m, s, va, &gpa) || gpa != l->text_paddr + (va - l->text_vaddr) ||
		    core_mem__avail(m, gpa) < 4096)
			break;
	l->text_size = va - l->text_vaddr;
}

void linux__core_layout(const struct vm_core_mem *m, const struct kvm_sregs *sregs,
			struct vm_core_layout *l)
{
	int64_t gpa = note_by_symbol(m, sregs, l);
	const char *how = "vmcoreinfo_note";

	if (gpa < 0 || !core__read_vmcoreinfo(m, (uint64_t)gpa, l->note)) {
		gpa = core__find_vmcoreinfo(m);
		how = "a scan of guest RAM";
	}
	l->vaddr_valid = sregs->cr0 & (1u << 31) ? direct_map(m, sregs, l) : false;
	if (gpa < 0) {
		snprintf(l->what, sizeof(l->what), "not found (no note in guest RAM: the kernel has not booted that far, or lacks CONFIG_CRASH_CORE)");
		return;
	}
	l->note_len = core__read_vmcoreinfo(m, (uint64_t)gpa, l->note);
	l->note_gpa = (uint64_t)gpa;
	snprintf(l->what, sizeof(l->what), "found at %#" PRIx64 " (by %s)", l->note_gpa, how);
	if (l->vaddr_valid)
		kernel_text(m, sregs, l);
}
