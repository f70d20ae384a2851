// SPDX-License-Identifier: GPL-2.0
/*
 * A Linux guest's VMCOREINFO note as the kernel keeps it in its memory
 * (kernel/crash_core.c: vmcoreinfo_note, a page-aligned buffer holding one
 * ELF note named "VMCOREINFO", type 0, whose text starts "OSRELEASE=" and,
 * with KASLR, carries "KERNELOFFSET="). Guest memory only through the
 * caller's reader (struct vm_core_mem): the Linux kind's core_layout hook
 * calls these for its own VMs and for a foreign VM's core alike.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "user/core/core.h"

#define VMCOREINFO_NAME		"VMCOREINFO"
#define VMCOREINFO_MAX_TEXT	4096	/* the kernel's VMCOREINFO_BYTES */
#define NOTE_HDR		(sizeof(Elf64_Nhdr) + 12)	/* header + name */
#define SCAN_CHUNK		(1ULL << 20)

uint32_t core__vmcoreinfo_len(const uint8_t *note, uint64_t max)
{
	Elf64_Nhdr h;
	uint32_t len;

	if (max < NOTE_HDR + 10)
		return 0;
	memcpy(&h, note, sizeof(h));
	if (h.n_namesz != sizeof(VMCOREINFO_NAME) || h.n_type != 0 ||
	    h.n_descsz < 10 || h.n_descsz > VMCOREINFO_MAX_TEXT ||
	    memcmp(note + sizeof(h), VMCOREINFO_NAME, sizeof(VMCOREINFO_NAME)) ||
	    memcmp(note + NOTE_HDR, "OSRELEASE=", 10))
		return 0;
	len = NOTE_HDR + ((h.n_descsz + 3) & ~3u);
	return len <= max && len <= VM_CORE_NOTE_MAX ? len : 0;
}

uint64_t core_mem__avail(const struct vm_core_mem *m, uint64_t gpa)
{
	for (int i = 0; i < m->nr_ranges; i++) {
		const struct vm_core_range *r = &m->ranges[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r->gpa + r->size - gpa;
	}
	return 0;
}

uint32_t core__read_vmcoreinfo(const struct vm_core_mem *m, uint64_t gpa,
			       uint8_t note[VM_CORE_NOTE_MAX])
{
	uint64_t n = core_mem__avail(m, gpa);

	n = n < VM_CORE_NOTE_MAX ? n : VM_CORE_NOTE_MAX;
	if (!n || m->read(m->ctx, gpa, note, n))
		return 0;
	return core__vmcoreinfo_len(note, n);
}

/* One range, SCAN_CHUNK at a time, each read with a note's room beyond. */
static int64_t scan_range(const struct vm_core_mem *m, const struct vm_core_range *r,
			  uint8_t *buf)
{
	for (uint64_t off = 0; off < r->size; off += SCAN_CHUNK) {
		uint64_t n = r->size - off < SCAN_CHUNK + VM_CORE_NOTE_MAX ?
			     r->size - off : SCAN_CHUNK + VM_CORE_NOTE_MAX;

		if (m->read(m->ctx, r->gpa + off, buf, n))
			continue;	/* unreadable: no note there */
		for (uint64_t p = 0; p < n && p < SCAN_CHUNK; p += 4096)
			if (core__vmcoreinfo_len(buf + p, n - p))
				return (int64_t)(r->gpa + off + p);
	}
	return -1;
}

int64_t core__find_vmcoreinfo(const struct vm_core_mem *m)
{
	uint8_t *buf = malloc(SCAN_CHUNK + VM_CORE_NOTE_MAX);
	int64_t gpa = -1;

	for (int i = 0; buf && i < m->nr_ranges && gpa < 0; i++)
		gpa = scan_range(m, &m->ranges[i], buf);
	free(buf);
	return gpa;
}
