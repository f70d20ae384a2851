// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_regs/kvm_sregs/kvm_fpu <-> struct gdb_x86_regs.
 *
 * gdb's amd64 order is rax rbx rcx rdx rsi rdi rbp rsp; KVM's is
 * rax rbx rcx rdx rsi rdi rsp rbp, hence the explicit table below.
 */
#include <string.h>

#include "user/x86_regs.h"

enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

static uint64_t *kvm_gpr(struct kvm_regs *r, int i)
{
	uint64_t *const map[16] = {
		(uint64_t *)&r->rax, (uint64_t *)&r->rbx, (uint64_t *)&r->rcx,
		(uint64_t *)&r->rdx, (uint64_t *)&r->rsi, (uint64_t *)&r->rdi,
		(uint64_t *)&r->rbp, (uint64_t *)&r->rsp, (uint64_t *)&r->r8,
		(uint64_t *)&r->r9, (uint64_t *)&r->r10, (uint64_t *)&r->r11,
		(uint64_t *)&r->r12, (uint64_t *)&r->r13, (uint64_t *)&r->r14,
		(uint64_t *)&r->r15,
	};
	return map[i];
}

static struct kvm_segment *kvm_seg(struct kvm_sregs *s, int i)
{
	struct kvm_segment *const map[6] = {
		&s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs,
	};
	return map[i];
}

/* Same classification gdb's i387_tag() applies to an 80-bit register. */
static int x87_tag(const uint8_t *raw)
{
	unsigned int exponent = ((raw[9] & 0x7fu) << 8) | raw[8];
	bool integer = raw[7] & 0x80;
	uint64_t fraction;

	memcpy(&fraction, raw, 8);
	fraction &= ~(1ull << 63);
	if (exponent == 0x7fff)
		return TAG_SPECIAL;
	if (exponent == 0)
		return (!fraction && !integer) ? TAG_ZERO : TAG_SPECIAL;
	return integer ? TAG_VALID : TAG_SPECIAL;
}

uint16_t x86_fpu__full_tag(uint8_t ftwx, uint16_t fsw, const uint8_t st[8][16])
{
	unsigned int top = (fsw >> 11) & 7;
	uint16_t ftag = 0;

	/* Tag bit i is physical register i, which is ST((i - TOP) mod 8). */
	for (unsigned int i = 0; i < 8; i++) {
		int tag = TAG_EMPTY;

		if (ftwx & (1u << i))
			tag = x87_tag(st[(i - top) & 7]);
		ftag |= (uint16_t)(tag << (2 * i));
	}
	return ftag;
}

uint8_t x86_fpu__abridged_tag(uint16_t ftag)
{
	uint8_t ftwx = 0;

	for (int i = 0; i < 8; i++)
		if (((ftag >> (2 * i)) & 3) != TAG_EMPTY)
			ftwx |= (uint8_t)(1u << i);
	return ftwx;
}

static void fpu_to_gdb(const struct kvm_fpu *f, struct gdb_x86_regs *g)
{
	for (int i = 0; i < 8; i++)
		memcpy(g->st[i], f->fpr[i], 10);
	g->fctrl = f->fcw;
	g->fstat = f->fsw;
	g->ftag = x86_fpu__full_tag(f->ftwx, f->fsw, f->fpr);
	/* 64-bit FXSAVE layout: the "segment" slots hold the high halves of
	 * the instruction and operand pointers, as gdb's amd64 code reads them.
	 */
	g->fioff = (uint32_t)f->last_ip;
	g->fiseg = (uint32_t)(f->last_ip >> 32);
	g->fooff = (uint32_t)f->last_dp;
	g->foseg = (uint32_t)(f->last_dp >> 32);
	g->fop = f->last_opcode;
	memcpy(g->xmm, f->xmm, sizeof(g->xmm));
	g->mxcsr = f->mxcsr;
}

void x86_regs__from_kvm(const struct x86_kvm_state *s,
			struct gdb_x86_regs *g)
{
	struct x86_kvm_state c = *s;	/* kvm_gpr() wants non-const */

	memset(g, 0, sizeof(*g));
	for (int i = 0; i < 16; i++)
		g->gpr[i] = *kvm_gpr(&c.regs, i);
	g->rip = s->regs.rip;
	g->eflags = (uint32_t)s->regs.rflags;
	for (int i = 0; i < 6; i++)
		g->seg[i] = kvm_seg(&c.sregs, i)->selector;
	g->fs_base = s->sregs.fs.base;
	g->gs_base = s->sregs.gs.base;
	g->k_gs_base = s->k_gs_base;
	g->cr0 = s->sregs.cr0;
	g->cr2 = s->sregs.cr2;
	g->cr3 = s->sregs.cr3;
	g->cr4 = s->sregs.cr4;
	g->cr8 = s->sregs.cr8;
	g->efer = s->sregs.efer;
	fpu_to_gdb(&s->fpu, g);
}

#define SYNC(dst, src, flag)			\
	do {					\
		if ((dst) != (src)) {		\
			(dst) = (src);		\
			dirty |= (flag);	\
		}				\
	} while (0)

static unsigned int regs_to_kvm(const struct gdb_x86_regs *g,
				struct kvm_regs *r)
{
	/* eflags is 32 bits wide in gdb's layout; keep RFLAGS' upper half. */
	uint64_t rflags = (r->rflags & ~0xffffffffull) | g->eflags;
	unsigned int dirty = 0;

	for (int i = 0; i < 16; i++)
		SYNC(*kvm_gpr(r, i), g->gpr[i], X86_DIRTY_REGS);
	SYNC(r->rip, g->rip, X86_DIRTY_REGS);
	SYNC(r->rflags, rflags, X86_DIRTY_REGS);
	return dirty;
}

static unsigned int sregs_to_kvm(const struct gdb_x86_regs *g,
				 struct kvm_sregs *s)
{
	unsigned int dirty = 0;

	/* Only the selector: gdb has no view of the hidden descriptor part. */
	for (int i = 0; i < 6; i++)
		SYNC(kvm_seg(s, i)->selector, (uint16_t)g->seg[i],
		     X86_DIRTY_SREGS);
	SYNC(s->fs.base, g->fs_base, X86_DIRTY_SREGS);
	SYNC(s->gs.base, g->gs_base, X86_DIRTY_SREGS);
	SYNC(s->cr0, g->cr0, X86_DIRTY_SREGS);
	SYNC(s->cr2, g->cr2, X86_DIRTY_SREGS);
	SYNC(s->cr3, g->cr3, X86_DIRTY_SREGS);
	SYNC(s->cr4, g->cr4, X86_DIRTY_SREGS);
	SYNC(s->cr8, g->cr8, X86_DIRTY_SREGS);
	SYNC(s->efer, g->efer, X86_DIRTY_SREGS);
	return dirty;
}

static unsigned int fpu_to_kvm(const struct gdb_x86_regs *g,
			       struct kvm_fpu *f)
{
	uint64_t last_ip = ((uint64_t)g->fiseg << 32) | g->fioff;
	uint64_t last_dp = ((uint64_t)g->foseg << 32) | g->fooff;
	unsigned int dirty = 0;

	for (int i = 0; i < 8; i++) {
		if (memcmp(f->fpr[i], g->st[i], 10)) {
			memcpy(f->fpr[i], g->st[i], 10);
			dirty |= X86_DIRTY_FPU;
		}
	}
	SYNC(f->fcw, (uint16_t)g->fctrl, X86_DIRTY_FPU);
	SYNC(f->fsw, (uint16_t)g->fstat, X86_DIRTY_FPU);
	/* Compare in gdb's terms so an unchanged full tag word is no write. */
	if (x86_fpu__full_tag(f->ftwx, f->fsw, f->fpr) != (uint16_t)g->ftag)
		SYNC(f->ftwx, x86_fpu__abridged_tag((uint16_t)g->ftag),
		     X86_DIRTY_FPU);
	SYNC(f->last_ip, last_ip, X86_DIRTY_FPU);
	SYNC(f->last_dp, last_dp, X86_DIRTY_FPU);
	SYNC(f->last_opcode, (uint16_t)g->fop, X86_DIRTY_FPU);
	if (memcmp(f->xmm, g->xmm, sizeof(f->xmm))) {
		memcpy(f->xmm, g->xmm, sizeof(f->xmm));
		dirty |= X86_DIRTY_FPU;
	}
	SYNC(f->mxcsr, g->mxcsr, X86_DIRTY_FPU);
	return dirty;
}

unsigned int x86_regs__to_kvm(const struct gdb_x86_regs *g,
			      struct x86_kvm_state *s)
{
	unsigned int dirty = 0;

	dirty |= regs_to_kvm(g, &s->regs);
	dirty |= sregs_to_kvm(g, &s->sregs);
	dirty |= fpu_to_kvm(g, &s->fpu);
	SYNC(s->k_gs_base, g->k_gs_base, X86_DIRTY_MSRS);
	return dirty;
}
