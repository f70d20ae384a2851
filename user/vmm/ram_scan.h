/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which pages of a VM's RAM can hold data, for the writers that read all
 * of it (snapshots, cores). /proc/self/pagemap marks the anonymous pages
 * never touched (neither present nor swapped): those are zero and need not
 * be read, so a 64 GiB guest that touched little is cheap to scan and the
 * scan does not fault in every untouched page. A file mapping (RAM resumed
 * from a snapshot) has no pagemap entry for a page not yet faulted in, so
 * every range /proc/self/maps shows backed by a file counts as touched.
 * Without either file every page counts as touched.
 */
#ifndef KVMDBG_USER_VMM_RAM_SCAN_H
#define KVMDBG_USER_VMM_RAM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

#define VM_SCAN_PAGES	512

struct vm_ram_scan {
	struct vm *vm;
	int pm;			/* /proc/self/pagemap, or -1: all touched */
	uintptr_t (*file)[2];	/* file-backed [lo, hi), ascending */
	size_t nr_file;
	uint64_t ent[VM_SCAN_PAGES];
	uintptr_t ent_hva;	/* hva of ent[0]; 0: ent[] holds nothing */
};

/* Never fails: without the files every page counts as touched. */
void vm__ram_scan_open(struct vm *vm, struct vm_ram_scan *s);
void vm__ram_scan_close(struct vm_ram_scan *s);

/*
 * For @n 4 KiB pages of guest-physical RAM from @gpa: maybe[i] = false
 * where page i was never touched (zero for sure); the others are left
 * as they are (callers pass them true).
 */
void vm__ram_touched(struct vm_ram_scan *s, uint64_t gpa, uint64_t n, bool *maybe);

#endif
