// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_regs/kvm_sregs/XSAVE area (or kvm_fpu) <-> struct gdb_x86_regs.
 *
 * gdb's amd64 order is rax rbx rcx rdx rsi rdi rbp rsp; KVM's is
 * rax rbx rcx rdx rsi rdi rsp rbp, hence the explicit table below.
 */
#include <errno.h>
#include <string.h>

#include "user/debug/x86_regs.h"

enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/* The legacy (FXSAVE, 64-bit format) part of an XSAVE area. */
enum {
	FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8,
	FX_FDP = 16, FX_MXCSR = 24, FX_ST = 32, FX_XMM = 160,
};

/* Little-endian fields of @n bytes (the target's and the host's order). */
static uint64_t rd(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static void wr(uint8_t *p, uint64_t v, size_t n)
{
	memcpy(p, &v, n);
}

/*
 * __u64 is unsigned long long, uint64_t unsigned long: a uint64_t pointer
 * into struct kvm_regs breaks strict aliasing (GCC then reads a copied
 * struct's fields before the copy), so the map keeps KVM's own type.
 */
static __u64 *kvm_gpr(struct kvm_regs *r, int i)
{
	__u64 *const map[16] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
		&r->rbp, &r->rsp, &r->r8, &r->r9, &r->r10, &r->r11,
		&r->r12, &r->r13, &r->r14, &r->r15,
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

uint16_t x86_fpu__full_tag(uint8_t ftwx, uint16_t fsw, const uint8_t (*st)[16])
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

/*
 * The x87/SSE part of an XSAVE area as struct kvm_fpu, init values for
 * the components XSTATE_BV says are in their init state; and back, for
 * the components in @features (their XSTATE_BV bits set).
 */
static void x86_xsave__to_fpu(const uint8_t *x, struct kvm_fpu *f)
{
	uint64_t bv = rd(x + X86_XSAVE_HDR, 8);

	memset(f, 0, sizeof(*f));
	f->fcw = X86_FCW_INIT;	/* x87 init state: FCW 0x37f, all empty */
	if (bv & X86_XFEATURE_X87) {
		f->fcw = (uint16_t)rd(x + FX_FCW, 2);
		f->fsw = (uint16_t)rd(x + FX_FSW, 2);
		f->ftwx = x[FX_FTW];
		f->last_opcode = (uint16_t)rd(x + FX_FOP, 2);
		f->last_ip = rd(x + FX_FIP, 8);
		f->last_dp = rd(x + FX_FDP, 8);
		memcpy(f->fpr, x + FX_ST, sizeof(f->fpr));
	}
	/* XRSTOR loads MXCSR from memory whatever XSTATE_BV says. */
	f->mxcsr = (uint32_t)rd(x + FX_MXCSR, 4);
	if (bv & X86_XFEATURE_SSE)
		memcpy(f->xmm, x + FX_XMM, sizeof(f->xmm));
}

static void x86_xsave__from_fpu(uint8_t *x, const struct kvm_fpu *f,
			 uint64_t features)
{
	if (features & X86_XFEATURE_X87) {
		wr(x + FX_FCW, f->fcw, 2);
		wr(x + FX_FSW, f->fsw, 2);
		x[FX_FTW] = f->ftwx;
		wr(x + FX_FOP, f->last_opcode, 2);
		wr(x + FX_FIP, f->last_ip, 8);
		wr(x + FX_FDP, f->last_dp, 8);
		memcpy(x + FX_ST, f->fpr, sizeof(f->fpr));
	}
	if (features & X86_XFEATURE_SSE) {
		wr(x + FX_MXCSR, f->mxcsr, 4);
		memcpy(x + FX_XMM, f->xmm, sizeof(f->xmm));
	}
	wr(x + X86_XSAVE_HDR, rd(x + X86_XSAVE_HDR, 8) | features, 8);
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

void x86_regs__from_kvm_core(const struct kvm_regs *regs,
			     const struct kvm_sregs *sregs,
			     struct gdb_x86_regs *g)
{
	struct kvm_regs r = *regs;	/* kvm_gpr() wants non-const */
	struct kvm_sregs sr = *sregs;

	memset(g, 0, sizeof(*g));
	for (int i = 0; i < 16; i++)
		g->gpr[i] = *kvm_gpr(&r, i);
	g->rip = regs->rip;
	g->eflags = (uint32_t)regs->rflags;
	for (int i = 0; i < 6; i++)
		g->seg[i] = kvm_seg(&sr, i)->selector;
	g->fs_base = sregs->fs.base;
	g->gs_base = sregs->gs.base;
	g->cr0 = sregs->cr0;
	g->cr2 = sregs->cr2;
	g->cr3 = sregs->cr3;
	g->cr4 = sregs->cr4;
	g->cr8 = sregs->cr8;
	g->efer = sregs->efer;
}

void x86_regs__from_kvm(const struct x86_kvm_state *s,
			struct gdb_x86_regs *g)
{
	x86_regs__from_kvm_core(&s->regs, &s->sregs, g);
	g->k_gs_base = s->k_gs_base;
	if (s->xsave) {
		struct kvm_fpu f;

		x86_xsave__to_fpu(s->xsave, &f);
		fpu_to_gdb(&f, g);
		/* Component 2 in its init state: the upper halves are 0. */
		if (s->avx_offset &&
		    (rd(s->xsave + X86_XSAVE_HDR, 8) & X86_XFEATURE_AVX))
			memcpy(g->ymmh, s->xsave + s->avx_offset, sizeof(g->ymmh));
	} else {
		fpu_to_gdb(&s->fpu, g);
	}
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

/* The x87 part; X86_DIRTY_FPU when something changed. */
static unsigned int x87_to_kvm(const struct gdb_x86_regs *g,
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
	return dirty;
}

/* The SSE part: xmm0-15 and MXCSR. */
static unsigned int sse_to_kvm(const struct gdb_x86_regs *g,
			       struct kvm_fpu *f)
{
	unsigned int dirty = 0;

	if (memcmp(f->xmm, g->xmm, sizeof(f->xmm))) {
		memcpy(f->xmm, g->xmm, sizeof(f->xmm));
		dirty |= X86_DIRTY_FPU;
	}
	SYNC(f->mxcsr, g->mxcsr, X86_DIRTY_FPU);
	return dirty;
}

static unsigned int xsave_to_kvm(const struct gdb_x86_regs *g,
				 struct x86_kvm_state *s)
{
	static const uint8_t zero[X86_AVX_SIZE];
	uint64_t features = 0, bv;
	uint8_t *ymmh = s->xsave + s->avx_offset;
	struct kvm_fpu f;

	x86_xsave__to_fpu(s->xsave, &f);
	if (x87_to_kvm(g, &f))
		features |= X86_XFEATURE_X87;
	if (sse_to_kvm(g, &f))
		features |= X86_XFEATURE_SSE;
	x86_xsave__from_fpu(s->xsave, &f, features);
	bv = rd(s->xsave + X86_XSAVE_HDR, 8);
	if (s->avx_offset &&
	    memcmp((bv & X86_XFEATURE_AVX) ? ymmh : zero, g->ymmh,
		   sizeof(g->ymmh))) {
		memcpy(ymmh, g->ymmh, sizeof(g->ymmh));
		wr(s->xsave + X86_XSAVE_HDR, bv | X86_XFEATURE_AVX, 8);
		features |= X86_XFEATURE_AVX;
	}
	return features ? X86_DIRTY_FPU : 0;
}

unsigned int x86_regs__to_kvm(const struct gdb_x86_regs *g,
			      struct x86_kvm_state *s)
{
	unsigned int dirty = 0;

	dirty |= regs_to_kvm(g, &s->regs);
	dirty |= sregs_to_kvm(g, &s->sregs);
	if (s->xsave)
		dirty |= xsave_to_kvm(g, s);
	else
		dirty |= x87_to_kvm(g, &s->fpu) | sse_to_kvm(g, &s->fpu);
	SYNC(s->k_gs_base, g->k_gs_base, X86_DIRTY_MSRS);
	return dirty;
}

const char *x86_cpu_mode(const struct kvm_sregs *s)
{
	if (!(s->cr0 & 1))
		return "real mode";
	if (s->efer & (1ull << 10))	/* EFER.LMA */
		return s->cs.l ? "long mode (64-bit)" : "long mode (compat)";
	return s->cs.db ? "protected mode (32-bit)" : "protected mode (16-bit)";
}

const char *x86_paging_mode(const struct kvm_sregs *s)
{
	if (!(s->cr0 & (1ull << 31)))
		return "no paging";
	if (s->efer & (1ull << 10))
		return (s->cr4 & (1ull << 12)) ? "5-level paging" : "4-level paging";
	return (s->cr4 & (1ull << 5)) ? "PAE paging" : "32-bit paging";
}

/*
 * The kernel points MSR_LSTAR at its entry_SYSCALL_64, so LSTAR minus
 * that symbol's link address is how far the kernel moved. The slide is a
 * multiple of 2 MiB (the kernel's alignment); anything else means LSTAR
 * is not set yet (early boot: 0) or the symbols do not match.
 */
int x86_kaslr_slide(uint64_t lstar, uint64_t link, uint64_t *slide)
{
	*slide = 0;
	if (!link)
		return -ENOENT;
	if (!lstar || lstar < link || (lstar - link) % X86_KASLR_ALIGN)
		return -EAGAIN;
	*slide = lstar - link;
	return 0;
}
