/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test helper: make a crafted snapshot file pass the checks that guard its
 * bytes (docs/snapshot-format.md) so that what the reader then judges is
 * its content. Recomputes, in this order, each memory run's CRC32C (in the
 * MEMORY section), each section's CRC, the table's CRC, the header's
 * file_size and finally the header's CRC. A field or range that lies
 * outside the buffer is left as it is. Used by the fuzz target and the
 * reader's unit test (selftests/snapshot/); calls snapshot__crc32c().
 *
 * A run whose data covers the MEMORY section changes with its own CRC, so
 * its stored CRC can stay wrong: the reader must then refuse the file for
 * that (or for the overlap), which is fine for both users.
 */
#ifndef KVMDBG_SELFTESTS_SNAPFIX_H
#define KVMDBG_SELFTESTS_SNAPFIX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "user/snapshot/snapshot.h"

/* What snapfix() leaves alone (the fuzz target lets its input choose). */
enum {
	SNAPFIX_KEEP_RUN_CRCS = 1,
	SNAPFIX_KEEP_SECTION_CRCS = 2,
	SNAPFIX_KEEP_TABLE_CRC = 4,
	SNAPFIX_KEEP_FILE_SIZE = 8,
	SNAPFIX_KEEP_HEADER_CRC = 16,
};

static inline int snapfix__in(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* The table entry of section i, or 0 when the table is not in the buffer. */
static inline int snapfix__section(const uint8_t *f, size_t len, uint32_t i,
				   struct snap_section *sec)
{
	struct snap_header h;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, f, sizeof(h));
	if (i >= h.nr_sections || h.nr_sections > SNAP_MAX_SECTIONS ||
	    !snapfix__in(len, h.table_offset, (uint64_t)h.nr_sections * sizeof(*sec)))
		return 0;
	memcpy(sec, f + h.table_offset + (uint64_t)i * sizeof(*sec), sizeof(*sec));
	return 1;
}

static inline void snapfix__runs(uint8_t *f, size_t len, const struct snap_section *mem)
{
	struct snap_memory m;

	if (mem->type != SNAP_SEC_MEMORY || !snapfix__in(len, mem->offset, mem->size) ||
	    mem->size < sizeof(m))
		return;
	memcpy(&m, f + mem->offset, sizeof(m));
	for (uint64_t i = 0; i < m.nr_runs && i < (mem->size - sizeof(m)) / sizeof(struct snap_run); i++) {
		uint8_t *p = f + mem->offset + sizeof(m) + i * sizeof(struct snap_run);
		struct snap_run r;

		memcpy(&r, p, sizeof(r));
		if (r.nr_pages > len / SNAP_PAGE ||
		    !snapfix__in(len, r.offset, r.nr_pages * SNAP_PAGE))
			continue;
		r.crc = snapshot__crc32c(0, f + r.offset, r.nr_pages * SNAP_PAGE);
		memcpy(p, &r, sizeof(r));
	}
}

static inline void snapfix(uint8_t *f, size_t len, unsigned int keep)
{
	struct snap_section sec;
	struct snap_header h;

	if (len < sizeof(h))
		return;
	memcpy(&h, f, sizeof(h));
	if (!(keep & SNAPFIX_KEEP_RUN_CRCS) && h.nr_sections &&
	    snapfix__section(f, len, h.nr_sections - 1, &sec))
		snapfix__runs(f, len, &sec);
	for (uint32_t i = 0; !(keep & SNAPFIX_KEEP_SECTION_CRCS) &&
	     snapfix__section(f, len, i, &sec); i++) {
		if (!snapfix__in(len, sec.offset, sec.size))
			continue;
		sec.crc = snapshot__crc32c(0, f + sec.offset, sec.size);
		memcpy(f + h.table_offset + (uint64_t)i * sizeof(sec), &sec, sizeof(sec));
	}
	if (!(keep & SNAPFIX_KEEP_TABLE_CRC) && h.nr_sections <= SNAP_MAX_SECTIONS &&
	    snapfix__in(len, h.table_offset, (uint64_t)h.nr_sections * sizeof(sec)))
		h.table_crc = snapshot__crc32c(0, f + h.table_offset,
					       (uint64_t)h.nr_sections * sizeof(sec));
	if (!(keep & SNAPFIX_KEEP_FILE_SIZE))
		h.file_size = len;
	if (!(keep & SNAPFIX_KEEP_HEADER_CRC)) {
		h.header_crc = 0;
		h.header_crc = snapshot__crc32c(0, &h, sizeof(h));
	}
	memcpy(f, &h, sizeof(h));
}

#endif /* KVMDBG_SELFTESTS_SNAPFIX_H */
