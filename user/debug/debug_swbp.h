/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The software breakpoint table: every int3 we patched into guest memory,
 * with the byte it replaced. Unlimited size. Pure bookkeeping: the backend
 * does the patching; this table lets it restore bytes and show reads the
 * original memory.
 */
#ifndef KVMDBG_DEBUG_SWBP_H
#define KVMDBG_DEBUG_SWBP_H

#include <stddef.h>
#include <stdint.h>

#define X86_INT3	0xcc

struct swbp {
	uint64_t addr;		/* guest-virtual, as the client gave it */
	uint64_t gpa;		/* where the int3 was written */
	uint8_t orig;		/* the guest's byte under our int3 */
};

/* Kept sorted by gpa, so overlaying a read is a binary search. */
struct swbp_table {
	struct swbp *v;
	size_t n, cap;
};

/* 0, -EEXIST when @addr is already in the table, or -ENOMEM. */
int swbp__add(struct swbp_table *t, uint64_t addr, uint64_t gpa,
	      uint8_t orig);
/* Remove @addr; *out gets the entry. 0 or -ENOENT. */
int swbp__del(struct swbp_table *t, uint64_t addr, struct swbp *out);
struct swbp *swbp__find(const struct swbp_table *t, uint64_t addr);
struct swbp *swbp__find_gpa(const struct swbp_table *t, uint64_t gpa);
/* In @buf, the bytes of guest-physical [gpa, gpa+len): put back the
 * original byte wherever one of our int3s sits.
 */
void swbp__overlay(const struct swbp_table *t, uint64_t gpa, uint8_t *buf,
		   size_t len);
void swbp__free(struct swbp_table *t);

#endif /* KVMDBG_DEBUG_SWBP_H */
