// SPDX-License-Identifier: GPL-2.0
/*
 * A Linux guest's VMCOREINFO note as the kernel keeps it in its memory
 * (kernel/crash_core.c: vmcoreinfo_note, a page-aligned buffer holding one
 * ELF note named "VMCOREINFO", type 0, whose text starts "OSRELEASE=" and,
 * with KASLR, carries "KERNELOFFSET="). Pure: the Linux kind's core_layout
 * hook reads guest memory and calls these.
 */
#include <elf.h>
#include <string.h>

#include "user/core/core.h"

#define VMCOREINFO_NAME		"VMCOREINFO"
#define VMCOREINFO_MAX_TEXT	4096	/* the kernel's VMCOREINFO_BYTES */
#define NOTE_HDR		(sizeof(Elf64_Nhdr) + 12)	/* header + name */

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

int64_t core__find_vmcoreinfo(const uint8_t *mem, uint64_t size)
{
	for (uint64_t gpa = 0; gpa + 4096 <= size; gpa += 4096)
		if (core__vmcoreinfo_len(mem + gpa, size - gpa))
			return (int64_t)gpa;
	return -1;
}
