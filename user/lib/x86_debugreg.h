/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The four x86 debug-register slots (DR0-DR3) and their DR7 encoding,
 * shared by hardware breakpoints (Z1) and DR7 watchpoints (Z3/Z4). Pure:
 * the backend hands x86_hw__dr7() to KVM_SET_GUEST_DEBUG.
 */
#ifndef KVMDBG_X86_DEBUGREG_H
#define KVMDBG_X86_DEBUGREG_H

#include <stdbool.h>
#include <stdint.h>

#define X86_HW_SLOTS	4

/* DR7 R/Wn encodings. 2 (I/O) is never used; x86 has no read-only kind. */
enum x86_hw_type {
	X86_HW_EXEC = 0,
	X86_HW_WRITE = 1,
	X86_HW_ACCESS = 3,
};

struct x86_hw_slot {
	bool used;
	enum x86_hw_type type;
	uint64_t addr;
	unsigned int len;	/* 1, 2, 4 or 8; 1 for EXEC */
};

struct x86_hw_slots {
	struct x86_hw_slot slot[X86_HW_SLOTS];
};

/*
 * Returns the slot index, -EINVAL unless @len is 1/2/4/8 and @addr is
 * aligned to it (EXEC: any), or -ENOSPC when full.
 */
int x86_hw__insert(struct x86_hw_slots *s, enum x86_hw_type type,
		   uint64_t addr, unsigned int len);
/* 0, or -ENOENT when no slot holds exactly this. */
int x86_hw__remove(struct x86_hw_slots *s, enum x86_hw_type type,
		   uint64_t addr, unsigned int len);
int x86_hw__count(const struct x86_hw_slots *s);
/* DR7 enabling every used slot (global enable bits, GE, bit 10 set). */
uint64_t x86_hw__dr7(const struct x86_hw_slots *s);
/* The used slot whose DR6 B0-B3 status bit is set, or -1. */
int x86_hw__hit(const struct x86_hw_slots *s, uint64_t dr6);
/* The used EXEC slot at @addr, or -1. */
int x86_hw__find_exec(const struct x86_hw_slots *s, uint64_t addr);

#endif /* KVMDBG_X86_DEBUGREG_H */
