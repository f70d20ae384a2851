/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-virtual to guest-physical translation by walking the guest's page
 * tables in software, the way the MMU would, through a caller-supplied
 * guest-physical reader. Pure: no ioctls, testable with a fake memory.
 */
#ifndef KVMDBG_X86_PAGEWALK_H
#define KVMDBG_X86_PAGEWALK_H

#include <stdint.h>

/* The control registers that select the paging mode. */
struct x86_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* Reads one naturally aligned entry of @size (4 or 8) bytes at @gpa.
 * Returns 0, or -EFAULT when @gpa is outside guest memory.
 */
typedef int (*x86_read_phys_fn)(void *ctx, uint64_t gpa, void *buf,
				unsigned int size);

struct x86_walk {
	uint64_t gpa;		/* out: the translation of the address */
	uint64_t page_size;	/* out: 4K, 2M, 4M or 1G (0 when unpaged) */
	/*
	 * out, on failure: the level of the entry that was not present or
	 * could not be read (5 = PML5 ... 1 = PTE). On a non-canonical
	 * address it is the top level of the mode.
	 */
	int level;
	int levels;		/* out: 0 unpaged, 2, 3 (PAE), 4 or 5 */
};

/* Returns 0 with @w filled in, or -EFAULT (w->level says where). */
int x86_pagewalk(const struct x86_paging *p, uint64_t gva,
		 x86_read_phys_fn read, void *ctx, struct x86_walk *w);

#endif /* KVMDBG_X86_PAGEWALK_H */
