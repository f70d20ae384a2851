// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages of the VM's RAM were never touched (ram_scan.h): one answer
 * for the snapshot writer and the core writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/vmm/ram_scan.h"
#include "user/vmm/vm.h"

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
#define SCAN_PAGE	4096ULL

/* Every file-backed mapping of the process, ascending (maps is sorted). */
static int scan__files(struct vm_ram_scan *s)
{
	uintptr_t lo, hi;
	unsigned long inode;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	size_t cap = 0;
	int r = 0;

	if (!f)
		return -errno;
	while (!r && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %lu", &lo, &hi,
			   &inode) != 3 || !inode)
			continue;
		if (s->nr_file == cap) {
			void *p = realloc(s->file, (cap ? 2 * cap : 16) * sizeof(*s->file));

			if (!p) {
				r = -ENOMEM;
				break;
			}
			s->file = p;
			cap = cap ? 2 * cap : 16;
		}
		s->file[s->nr_file][0] = lo;
		s->file[s->nr_file++][1] = hi;
	}
	fclose(f);
	return r;
}

void vm__ram_scan_open(struct vm *vm, struct vm_ram_scan *s)
{
	*s = (struct vm_ram_scan){ .vm = vm,
				   .pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC) };
	if (s->pm >= 0 && scan__files(s)) {
		close(s->pm);
		s->pm = -1;
	}
}

void vm__ram_scan_close(struct vm_ram_scan *s)
{
	if (s->pm >= 0)
		close(s->pm);
	free(s->file);
	s->file = NULL;
	s->pm = -1;
}

static bool in_file(const struct vm_ram_scan *s, uintptr_t hva)
{
	size_t lo = 0, hi = s->nr_file;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->file[mid][1] <= hva)
			lo = mid + 1;
		else if (s->file[mid][0] > hva)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The pagemap entry of @hva; all ones (touched) where it cannot be read. */
static uint64_t entry(struct vm_ram_scan *s, uintptr_t hva)
{
	uintptr_t first = hva / SCAN_PAGE / VM_SCAN_PAGES * VM_SCAN_PAGES * SCAN_PAGE;

	if (s->ent_hva != first) {
		s->ent_hva = first;
		/* What a short read leaves out counts as present. */
		memset(s->ent, 0xff, sizeof(s->ent));
		if (pread(s->pm, s->ent, sizeof(s->ent), first / SCAN_PAGE * 8) < 0) {
			close(s->pm);
			s->pm = -1;
			return ~0ULL;
		}
	}
	return s->ent[(hva - first) / SCAN_PAGE];
}

void vm__ram_touched(struct vm_ram_scan *s, uint64_t gpa, uint64_t n, bool *maybe)
{
	for (uint64_t i = 0; i < n && s->pm >= 0; i++) {
		uintptr_t hva = (uintptr_t)vm__gpa_to_hva(s->vm, gpa + i * SCAN_PAGE, SCAN_PAGE);

		if (!hva || in_file(s, hva))
			continue;
		if (!(entry(s, hva) & (PM_PRESENT | PM_SWAPPED)))
			maybe[i] = false;
	}
}
