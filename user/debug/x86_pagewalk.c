// SPDX-License-Identifier: GPL-2.0
/*
 * Software page-table walk for every x86 paging mode a guest can be in:
 * none (identity), 32-bit (with 4M pages), PAE, 4-level and 5-level
 * (CR4.LA57) long mode, with large pages (PS) wherever the mode has them.
 * Protection bits are ignored: a debugger may look at supervisor pages.
 */
#include <errno.h>
#include <stdbool.h>

#include "user/lib/x86.h"
#include "user/debug/x86_pagewalk.h"


static int levels_of(const struct x86_paging *p)
{
	if (!(p->cr0 & X86_CR0_PG))
		return 0;
	if (p->efer & X86_EFER_LMA)
		return (p->cr4 & X86_CR4_LA57) ? 5 : 4;
	return (p->cr4 & X86_CR4_PAE) ? 3 : 2;
}

static bool canonical(uint64_t gva, int levels)
{
	int bits = levels == 5 ? 57 : 48;
	int64_t sext = (int64_t)(gva << (64 - bits)) >> (64 - bits);

	return levels < 4 || (uint64_t)sext == gva;
}

/* Index bits of @level: 9 per level above the 12-bit offset (10 in
 * 32-bit mode, 2 for PAE's top level).
 */
static uint64_t entry_index(uint64_t gva, int level, int levels)
{
	if (levels == 2)
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	if (levels == 3 && level == 3)
		return (gva >> 30) & 3;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

static uint64_t table_base(const struct x86_paging *p, int levels)
{
	if (levels == 2)
		return p->cr3 & 0xfffff000ull;
	if (levels == 3)
		return p->cr3 & 0xffffffe0ull;	/* PDPT is 32-byte aligned */
	return p->cr3 & X86_PTE_ADDR;
}

static int read_entry(x86_read_phys_fn read, void *ctx, uint64_t gpa,
		      int levels, uint64_t *entry)
{
	uint32_t e32;

	if (levels != 2)
		return read(ctx, gpa, entry, 8);
	if (read(ctx, gpa, &e32, 4))
		return -EFAULT;
	*entry = e32;
	return 0;
}

/* A large page at @level? PAE's PDPTEs and the top of long mode have none;
 * 32-bit mode has 4M pages only with CR4.PSE.
 */
static bool large_page(const struct x86_paging *p, uint64_t e, int level,
		       int levels)
{
	if (!(e & X86_PTE_PS) || level == 1)
		return false;
	if (levels == 2)
		return level == 2 && (p->cr4 & X86_CR4_PSE);
	if (levels == 3)
		return level == 2;
	return level <= 3;
}

static uint64_t large_gpa(uint64_t e, uint64_t gva, int level, int levels,
			  uint64_t *size)
{
	if (levels == 2) {
		/* PSE-36: bits 13..20 of the PDE are physical bits 32..39. */
		uint64_t base = (e & 0xffc00000ull) | ((e & 0x1fe000ull) << 19);

		*size = 4ull << 20;
		return base | (gva & (*size - 1));
	}
	*size = 1ull << (12 + 9 * (level - 1));
	return (e & X86_PTE_ADDR & ~(*size - 1)) | (gva & (*size - 1));
}

int x86_pagewalk(const struct x86_paging *p, uint64_t gva,
		 x86_read_phys_fn read, void *ctx, struct x86_walk *w)
{
	int levels = levels_of(p);
	uint64_t table = table_base(p, levels), e = 0;

	w->levels = levels;
	w->level = levels;
	if (!levels) {
		w->gpa = gva;
		w->page_size = 0;
		return 0;
	}
	if (levels < 4)
		gva &= 0xffffffffull;
	if (!canonical(gva, levels))
		return -EFAULT;
	for (int level = levels; level >= 1; level--) {
		uint64_t addr = table + entry_index(gva, level, levels) *
				(levels == 2 ? 4 : 8);

		w->level = level;
		if (read_entry(read, ctx, addr, levels, &e) || !(e & X86_PTE_P))
			return -EFAULT;
		if (large_page(p, e, level, levels)) {
			w->gpa = large_gpa(e, gva, level, levels, &w->page_size);
			return 0;
		}
		table = levels == 2 ? (e & 0xfffff000ull) : (e & X86_PTE_ADDR);
	}
	w->page_size = 4096;
	w->gpa = table | (gva & 0xfff);
	return 0;
}
