// SPDX-License-Identifier: GPL-2.0
/*
 * DR7 layout (SDM vol. 3, 18.2.4): bits 2n/2n+1 are slot n's local/global
 * enable, bits 16+4n R/Wn, bits 18+4n LENn. We set the global enables and
 * GE like QEMU does; KVM loads them as the effective DR7 while the guest
 * runs under KVM_GUESTDBG_USE_HW_BP.
 */
#include <errno.h>

#include "user/lib/x86_debugreg.h"

#define DR7_FIXED1	(1ull << 10)	/* reserved, reads as 1 */
#define DR7_GE		(1ull << 9)

static unsigned int len_bits(unsigned int len)
{
	switch (len) {
	case 2:
		return 1;
	case 4:
		return 3;
	case 8:
		return 2;
	default:
		return 0;	/* 1 byte, and always for EXEC */
	}
}

static int x86_hw__check(enum x86_hw_type type, uint64_t addr,
			unsigned int len)
{
	if (type == X86_HW_EXEC)
		return 0;
	if (type != X86_HW_WRITE && type != X86_HW_ACCESS)
		return -EINVAL;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	return (addr & (len - 1)) ? -EINVAL : 0;
}

int x86_hw__insert(struct x86_hw_slots *s, enum x86_hw_type type,
		   uint64_t addr, unsigned int len)
{
	int r = x86_hw__check(type, addr, len);

	if (r)
		return r;
	for (int i = 0; i < X86_HW_SLOTS; i++) {
		struct x86_hw_slot *sl = &s->slot[i];

		if (sl->used)
			continue;
		sl->used = true;
		sl->type = type;
		sl->addr = addr;
		sl->len = type == X86_HW_EXEC ? 1 : len;
		return i;
	}
	return -ENOSPC;
}

int x86_hw__remove(struct x86_hw_slots *s, enum x86_hw_type type,
		   uint64_t addr, unsigned int len)
{
	if (type == X86_HW_EXEC)
		len = 1;
	for (int i = 0; i < X86_HW_SLOTS; i++) {
		struct x86_hw_slot *sl = &s->slot[i];

		if (sl->used && sl->type == type && sl->addr == addr &&
		    sl->len == len) {
			sl->used = false;
			return 0;
		}
	}
	return -ENOENT;
}

int x86_hw__count(const struct x86_hw_slots *s)
{
	int n = 0;

	for (int i = 0; i < X86_HW_SLOTS; i++)
		n += s->slot[i].used;
	return n;
}

uint64_t x86_hw__dr7(const struct x86_hw_slots *s)
{
	uint64_t dr7 = DR7_FIXED1;

	for (int i = 0; i < X86_HW_SLOTS; i++) {
		const struct x86_hw_slot *sl = &s->slot[i];

		if (!sl->used)
			continue;
		dr7 |= DR7_GE | (2ull << (2 * i));
		dr7 |= (uint64_t)sl->type << (16 + 4 * i);
		dr7 |= (uint64_t)len_bits(sl->len) << (18 + 4 * i);
	}
	return dr7;
}

int x86_hw__hit(const struct x86_hw_slots *s, uint64_t dr6)
{
	for (int i = 0; i < X86_HW_SLOTS; i++)
		if (s->slot[i].used && (dr6 & (1ull << i)))
			return i;
	return -1;
}

int x86_hw__find_exec(const struct x86_hw_slots *s, uint64_t addr)
{
	for (int i = 0; i < X86_HW_SLOTS; i++)
		if (s->slot[i].used && s->slot[i].type == X86_HW_EXEC &&
		    s->slot[i].addr == addr)
			return i;
	return -1;
}
