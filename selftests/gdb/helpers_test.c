// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the debug backend's pure helpers: register conversion,
 * the software page walk, DR7 encoding, the software breakpoint table and
 * the VMM's reserved guest-physical layout. No VM needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/debug/debug_swbp.h"
#include "user/linux/linux-priv.h"
#include "user/lib/x86_debugreg.h"
#include "user/debug/x86_pagewalk.h"
#include "user/debug/x86_regs.h"

#include "kselftest_harness.h"

/* ---- registers ---- */

static void fill_state(struct x86_kvm_state *s)
{
	memset(s, 0, sizeof(*s));
	s->regs.rax = 0x1111; s->regs.rbx = 0x2222; s->regs.rcx = 0x3333;
	s->regs.rdx = 0x4444; s->regs.rsi = 0x5555; s->regs.rdi = 0x6666;
	s->regs.rsp = 0x7000; s->regs.rbp = 0x8000;
	s->regs.r8 = 8; s->regs.r15 = 15;
	s->regs.rip = 0x100000;
	s->regs.rflags = 0xdead00000246ull;
	s->sregs.cs.selector = 0x8; s->sregs.ss.selector = 0x10;
	s->sregs.gs.selector = 0x18;
	s->sregs.fs.base = 0xf5000; s->sregs.gs.base = 0x65000;
	s->sregs.cr0 = 0x80050033; s->sregs.cr3 = 0x2000;
	s->sregs.cr4 = 0x6a0; s->sregs.cr8 = 3; s->sregs.efer = 0x500;
	s->k_gs_base = 0xabcdef;
	s->fpu.fcw = 0x37f;
	s->fpu.last_ip = 0x1234567800401000ull;
	s->fpu.last_dp = 0x0000000100002000ull;
	s->fpu.last_opcode = 0x1d9;
	s->fpu.mxcsr = 0x1f80;
	s->fpu.xmm[3][0] = 0x42;
}

TEST(regs_gpr_order_is_gdbs)
{
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_state(&s);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x1111, g.gpr[0]);
	EXPECT_EQ(0x6666, g.gpr[5]);
	EXPECT_EQ(0x8000, g.gpr[6]);	/* gdb: rbp before rsp */
	EXPECT_EQ(0x7000, g.gpr[7]);
	EXPECT_EQ(8, g.gpr[8]);
	EXPECT_EQ(15, g.gpr[15]);
	EXPECT_EQ(0x100000, g.rip);
	EXPECT_EQ(0x246, g.eflags);
}

TEST(regs_system_and_segments)
{
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_state(&s);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x8, g.seg[0]);
	EXPECT_EQ(0x10, g.seg[1]);
	EXPECT_EQ(0x18, g.seg[5]);
	EXPECT_EQ(0xf5000, g.fs_base);
	EXPECT_EQ(0x65000, g.gs_base);
	EXPECT_EQ(0xabcdef, g.k_gs_base);
	EXPECT_EQ(0x80050033, g.cr0);
	EXPECT_EQ(0x2000, g.cr3);
	EXPECT_EQ(3, g.cr8);
	EXPECT_EQ(0x500, g.efer);
}

TEST(regs_fpu)
{
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_state(&s);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x37f, g.fctrl);
	EXPECT_EQ(0xffff, g.ftag);	/* ftwx 0: all empty */
	EXPECT_EQ(0x00401000, g.fioff);
	EXPECT_EQ(0x12345678, g.fiseg);
	EXPECT_EQ(0x00002000, g.fooff);
	EXPECT_EQ(1, g.foseg);
	EXPECT_EQ(0x1d9, g.fop);
	EXPECT_EQ(0x1f80, g.mxcsr);
	EXPECT_EQ(0x42, g.xmm[3][0]);
}

TEST(regs_unchanged_write_touches_nothing)
{
	struct x86_kvm_state s, before;
	struct gdb_x86_regs g;

	fill_state(&s);
	s.fpu.ftwx = 0x81;		/* some non-empty registers */
	s.fpu.fsw = 7 << 11;
	s.fpu.fpr[0][7] = 0x80; s.fpu.fpr[0][8] = 0xff; s.fpu.fpr[0][9] = 0x3f;
	before = s;
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0, memcmp(&s, &before, sizeof(s)));
}

TEST(regs_write_marks_only_the_changed_class)
{
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_state(&s);
	x86_regs__from_kvm(&s, &g);
	g.gpr[6] = 0x9000;	/* rbp */
	EXPECT_EQ(X86_DIRTY_REGS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0x9000, s.regs.rbp);
	EXPECT_EQ(0x7000, s.regs.rsp);

	g.eflags = 0x202;
	EXPECT_EQ(X86_DIRTY_REGS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0xdead00000202ull, s.regs.rflags);

	g.fs_base = 0x1234;
	EXPECT_EQ(X86_DIRTY_SREGS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0x1234, s.sregs.fs.base);

	g.st[0][0] = 1;
	EXPECT_EQ(X86_DIRTY_FPU, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(1, s.fpu.fpr[0][0]);

	g.k_gs_base = 7;
	EXPECT_EQ(X86_DIRTY_MSRS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(7, s.k_gs_base);
}

TEST(regs_segment_write_keeps_descriptor)
{
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_state(&s);
	s.sregs.ds.base = 0x5000;
	s.sregs.ds.limit = 0xfffff;
	x86_regs__from_kvm(&s, &g);
	g.seg[2] = 0x23;
	EXPECT_EQ(X86_DIRTY_SREGS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0x23, s.sregs.ds.selector);
	EXPECT_EQ(0x5000, s.sregs.ds.base);
	EXPECT_EQ(0xfffff, s.sregs.ds.limit);
}

TEST(fpu_tag_word_from_abridged)
{
	uint8_t st[8][16] = { { 0 } };

	/* TOP = 7: ST(0) is physical register 7. */
	/* 1.0: exponent 0x3fff, integer bit set: valid (00). */
	st[0][7] = 0x80; st[0][8] = 0xff; st[0][9] = 0x3f;
	EXPECT_EQ(0x3fff, x86_fpu__full_tag(0x80, 7 << 11, st));
	/* ST(1) = physical 0: +0.0 is zero (01). */
	EXPECT_EQ(0x3ffd, x86_fpu__full_tag(0x81, 7 << 11, st));
	/* Infinity/NaN exponent: special (10). */
	st[0][9] = 0x7f; st[0][8] = 0xff;
	EXPECT_EQ(0xbfff, x86_fpu__full_tag(0x80, 7 << 11, st));
	/* Unnormal (integer bit clear, exponent non-zero): special. */
	st[0][7] = 0; st[0][9] = 0x3f;
	EXPECT_EQ(0xbfff, x86_fpu__full_tag(0x80, 7 << 11, st));
	/* Denormal (exponent 0, fraction non-zero): special. */
	memset(st, 0, sizeof(st));
	st[0][0] = 1;
	EXPECT_EQ(0xfffe, x86_fpu__full_tag(0x01, 0, st));
}

TEST(fpu_tag_word_to_abridged)
{
	EXPECT_EQ(0x00, x86_fpu__abridged_tag(0xffff));
	EXPECT_EQ(0x80, x86_fpu__abridged_tag(0x3fff));
	EXPECT_EQ(0x81, x86_fpu__abridged_tag(0x3ffd));
	EXPECT_EQ(0xff, x86_fpu__abridged_tag(0x0000));
	EXPECT_EQ(0x02, x86_fpu__abridged_tag(0xfffb));
}

/* ---- registers from an XSAVE area (KVM_GET_XSAVE, standard format) ---- */

#define XS_SIZE		4096
#define XS_AVX		576	/* CPUID 0xD.2 EBX on current CPUs */

static uint64_t xs_bv(const uint8_t *x)
{
	uint64_t bv;

	memcpy(&bv, x + X86_XSAVE_HDR, 8);
	return bv;
}

static void xs_set(uint8_t *x, size_t off, uint64_t v, size_t n)
{
	memcpy(x + off, &v, n);
}

static uint64_t xs_get(const uint8_t *x, size_t off, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, x + off, n);
	return v;
}

/* @x: XS_SIZE bytes; every component in use, recognisable values. */
static void fill_xsave(struct x86_kvm_state *s, uint8_t *x)
{
	fill_state(s);
	memset(&s->fpu, 0, sizeof(s->fpu));
	memset(x, 0, XS_SIZE);
	s->xsave = x;
	s->xsave_size = XS_SIZE;
	s->avx_offset = XS_AVX;
	xs_set(x, 0, 0x27f, 2);			/* FCW */
	xs_set(x, 2, 7 << 11, 2);		/* FSW: TOP = 7 */
	x[4] = 0x80;				/* FTW: physical 7 in use */
	xs_set(x, 6, 0x1d9, 2);			/* FOP */
	xs_set(x, 8, 0x1234567800401000ull, 8);	/* FIP */
	xs_set(x, 16, 0x0000000100002000ull, 8);	/* FDP */
	xs_set(x, 24, 0x3f80, 4);		/* MXCSR: RC = round down */
	xs_set(x, 28, 0xffff, 4);		/* MXCSR_MASK */
	x[32 + 7] = 0x80; x[32 + 8] = 0xff; x[32 + 9] = 0x3f;	/* ST0 = 1.0 */
	x[160 + 3 * 16] = 0x42;			/* xmm3 */
	x[160 + 15 * 16 + 15] = 0x5a;		/* xmm15, top byte */
	x[XS_AVX] = 0x11;			/* ymm0h */
	x[XS_AVX + 15 * 16 + 15] = 0xee;	/* ymm15h, top byte */
	xs_set(x, X86_XSAVE_HDR, X86_XFEATURE_X87 | X86_XFEATURE_SSE |
	       X86_XFEATURE_AVX, 8);
}

TEST(xsave_to_gdb_every_component)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x27f, g.fctrl);
	EXPECT_EQ(7 << 11, g.fstat);
	EXPECT_EQ(0x3fff, g.ftag);	/* physical 7 = ST0 valid, rest empty */
	EXPECT_EQ(0x1d9, g.fop);
	EXPECT_EQ(0x00401000, g.fioff);
	EXPECT_EQ(0x12345678, g.fiseg);
	EXPECT_EQ(0x00002000, g.fooff);
	EXPECT_EQ(1, g.foseg);
	EXPECT_EQ(0x3f, g.st[0][9]);
	EXPECT_EQ(0x3f80, g.mxcsr);
	EXPECT_EQ(0x42, g.xmm[3][0]);
	EXPECT_EQ(0x5a, g.xmm[15][15]);
	EXPECT_EQ(0x11, g.ymmh[0][0]);
	EXPECT_EQ(0xee, g.ymmh[15][15]);
	EXPECT_EQ(0x1111, g.gpr[0]);	/* the rest as before */
}

TEST(xsave_components_in_init_state_read_as_init)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	xs_set(x, X86_XSAVE_HDR, 0, 8);	/* XSTATE_BV: nothing in use */
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x37f, g.fctrl);	/* x87 init: FCW 0x37f, all empty */
	EXPECT_EQ(0, g.fstat);
	EXPECT_EQ(0xffff, g.ftag);
	EXPECT_EQ(0, g.fioff);
	EXPECT_EQ(0, g.st[0][9]);
	EXPECT_EQ(0, g.xmm[3][0]);
	EXPECT_EQ(0, g.ymmh[0][0]);
	EXPECT_EQ(0, g.ymmh[15][15]);
	EXPECT_EQ(0x3f80, g.mxcsr);	/* XRSTOR loads MXCSR regardless */
}

TEST(xsave_without_avx_has_no_upper_halves)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	s.avx_offset = 0;
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0, g.ymmh[0][0]);
	g.ymmh[1][0] = 9;		/* nowhere to go: no write */
	EXPECT_EQ(0, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0, x[XS_AVX + 16]);
}

TEST(xsave_unchanged_write_touches_nothing)
{
	static uint8_t x[XS_SIZE], before[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	memcpy(before, x, XS_SIZE);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0, memcmp(x, before, XS_SIZE));
	/* Also with every component in its init state. */
	xs_set(x, X86_XSAVE_HDR, 0, 8);
	memcpy(before, x, XS_SIZE);
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0, memcmp(x, before, XS_SIZE));
}

TEST(xsave_mxcsr_write_marks_sse_in_use)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	xs_set(x, X86_XSAVE_HDR, 0, 8);
	memset(x + 160, 0xaa, 256);	/* stale bytes behind init-state xmm */
	x86_regs__from_kvm(&s, &g);
	g.mxcsr = 0x1f81;
	EXPECT_EQ(X86_DIRTY_FPU, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(X86_XFEATURE_SSE, xs_bv(x));	/* KVM takes MXCSR only then */
	EXPECT_EQ(0x1f81, xs_get(x, 24, 4));
	EXPECT_EQ(0, xs_get(x, 160, 8));	/* xmm written as gdb saw them */
	EXPECT_EQ(0, xs_get(x, 160 + 15 * 16 + 8, 8));
	EXPECT_EQ(0xffff, xs_get(x, 28, 4));	/* MXCSR_MASK kept */
}

TEST(xsave_x87_write_materialises_the_component)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	xs_set(x, X86_XSAVE_HDR, X86_XFEATURE_SSE, 8);	/* x87 init */
	x86_regs__from_kvm(&s, &g);
	g.st[0][0] = 1;
	EXPECT_EQ(X86_DIRTY_FPU, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(X86_XFEATURE_X87 | X86_XFEATURE_SSE, xs_bv(x));
	EXPECT_EQ(0x37f, xs_get(x, 0, 2));	/* FCW of the init state */
	EXPECT_EQ(0, xs_get(x, 2, 2));		/* FSW, not the stale 7 << 11 */
	EXPECT_EQ(0, x[4]);			/* FTW: all empty */
	EXPECT_EQ(0, xs_get(x, 8, 8));		/* FIP */
	EXPECT_EQ(1, x[32]);
	EXPECT_EQ(0, x[32 + 9]);
}

TEST(xsave_ymm_write_marks_avx_in_use)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	xs_set(x, X86_XSAVE_HDR, X86_XFEATURE_X87, 8);	/* SSE, AVX init */
	memset(x + XS_AVX, 0xaa, X86_AVX_SIZE);		/* stale */
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0, g.ymmh[0][0]);
	g.ymmh[2][3] = 0x77;
	EXPECT_EQ(X86_DIRTY_FPU, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(X86_XFEATURE_X87 | X86_XFEATURE_AVX, xs_bv(x));
	EXPECT_EQ(0x77, x[XS_AVX + 2 * 16 + 3]);
	EXPECT_EQ(0, x[XS_AVX]);			/* the others as seen: 0 */
	EXPECT_EQ(0, x[XS_AVX + X86_AVX_SIZE - 1]);
	EXPECT_EQ(0x42, x[160 + 3 * 16]);	/* SSE untouched, still init */
	x86_regs__from_kvm(&s, &g);
	EXPECT_EQ(0x77, g.ymmh[2][3]);
	EXPECT_EQ(0, g.xmm[3][0]);
}

TEST(xsave_xmm_and_gpr_write_in_one_go)
{
	static uint8_t x[XS_SIZE];
	struct x86_kvm_state s;
	struct gdb_x86_regs g;

	fill_xsave(&s, x);
	x86_regs__from_kvm(&s, &g);
	g.xmm[0][1] = 0x99;
	g.gpr[0] = 0xabc;
	EXPECT_EQ(X86_DIRTY_FPU | X86_DIRTY_REGS, x86_regs__to_kvm(&g, &s));
	EXPECT_EQ(0x99, x[160 + 1]);
	EXPECT_EQ(0x42, x[160 + 3 * 16]);
	EXPECT_EQ(0x11, x[XS_AVX]);
	EXPECT_EQ(0xabc, s.regs.rax);
	EXPECT_EQ(0, s.fpu.xmm[0][1]);		/* kvm_fpu is not used */
}

/* ---- page walk over a fake guest memory ---- */

#define FAKE_MEM	(64 << 12)

struct fake {
	uint8_t mem[FAKE_MEM];
	int reads;
};

static int fake_read(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	struct fake *f = ctx;

	f->reads++;
	if (gpa + size > FAKE_MEM || gpa + size < gpa)
		return -EFAULT;
	memcpy(buf, f->mem + gpa, size);
	return 0;
}

static void put64(struct fake *f, uint64_t table, int index, uint64_t v)
{
	memcpy(f->mem + table + 8 * index, &v, 8);
}

static void put32(struct fake *f, uint64_t table, int index, uint32_t v)
{
	memcpy(f->mem + table + 4 * index, &v, 4);
}

#define P	1ull
#define RW	2ull
#define PS	0x80ull
#define NX	(1ull << 63)

static const struct x86_paging long4 = {
	.cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0x500,
};

FIXTURE(walk) {
	struct fake *f;
	struct x86_walk w;
};

FIXTURE_SETUP(walk)
{
	self->f = calloc(1, sizeof(*self->f));
	ASSERT_NE(NULL, self->f);
	/* 4-level: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.
	 * 0x0000_0000_0040_5000 -> 4K page at 0x7000 (NX set: ignored);
	 * 0x0000_0000_0060_0000 -> 2M page at 0x200000;
	 * 0x0000_0000_4000_0000 -> 1G page at 0x40000000;
	 * 0xffff_8000_0000_0000 -> PML4[256] not present.
	 */
	put64(self->f, 0x1000, 0, 0x2000 | P | RW);
	put64(self->f, 0x2000, 0, 0x3000 | P | RW);
	put64(self->f, 0x2000, 1, 0x40000000 | P | RW | PS);
	put64(self->f, 0x3000, 2, 0x4000 | P | RW);
	put64(self->f, 0x3000, 3, 0x200000 | P | RW | PS);
	put64(self->f, 0x4000, 5, 0x7000 | P | NX);
}

FIXTURE_TEARDOWN(walk)
{
	free(self->f);
}

TEST_F(walk, unpaged_is_identity)
{
	struct x86_paging p = { .cr0 = 0x11 };

	ASSERT_EQ(0, x86_pagewalk(&p, 0x12345678, fake_read, self->f, &self->w));
	EXPECT_EQ(0x12345678, self->w.gpa);
	EXPECT_EQ(0, self->w.levels);
	EXPECT_EQ(0, self->f->reads);
}

TEST_F(walk, four_level_4k_page)
{
	ASSERT_EQ(0, x86_pagewalk(&long4, 0x405abc, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0x7abc, self->w.gpa);
	EXPECT_EQ(4096, self->w.page_size);
	EXPECT_EQ(4, self->w.levels);
	EXPECT_EQ(4, self->f->reads);
}

TEST_F(walk, four_level_2m_page)
{
	ASSERT_EQ(0, x86_pagewalk(&long4, 0x612345, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0x212345, self->w.gpa);
	EXPECT_EQ(2 << 20, self->w.page_size);
}

TEST_F(walk, four_level_1g_page)
{
	ASSERT_EQ(0, x86_pagewalk(&long4, 0x4abcdef0, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0x4abcdef0, self->w.gpa);
	EXPECT_EQ(1 << 30, self->w.page_size);
}

TEST_F(walk, not_present_reports_the_level)
{
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0x406000, fake_read, self->f,
					&self->w));
	EXPECT_EQ(1, self->w.level);	/* PTE 6 empty */
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0x800000, fake_read, self->f,
					&self->w));
	EXPECT_EQ(2, self->w.level);	/* PDE 4 empty */
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0x80000000, fake_read,
					self->f, &self->w));
	EXPECT_EQ(3, self->w.level);
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0xffff800000000000ull,
					fake_read, self->f, &self->w));
	EXPECT_EQ(4, self->w.level);
}

TEST_F(walk, non_canonical_faults_without_reading)
{
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0x0000800000000000ull,
					fake_read, self->f, &self->w));
	EXPECT_EQ(4, self->w.level);
	EXPECT_EQ(0, self->f->reads);
}

TEST_F(walk, table_outside_memory_faults)
{
	put64(self->f, 0x3000, 5, 0x7fff000 | P);	/* PT beyond FAKE_MEM */
	EXPECT_EQ(-EFAULT, x86_pagewalk(&long4, 0xa00000, fake_read, self->f,
					&self->w));
	EXPECT_EQ(1, self->w.level);
}

TEST_F(walk, five_level)
{
	struct x86_paging p = long4;

	p.cr4 |= 1 << 12;	/* LA57 */
	p.cr3 = 0x5000;		/* PML5[0] -> PML4 at 0x1000 */
	put64(self->f, 0x5000, 0, 0x1000 | P);
	ASSERT_EQ(0, x86_pagewalk(&p, 0x405010, fake_read, self->f, &self->w));
	EXPECT_EQ(0x7010, self->w.gpa);
	EXPECT_EQ(5, self->w.levels);
	/* Canonical in 5-level only; PML5[1] is empty. */
	EXPECT_EQ(-EFAULT, x86_pagewalk(&p, 0x0001000000000000ull, fake_read,
					self->f, &self->w));
	EXPECT_EQ(5, self->w.level);
}

TEST_F(walk, pae)
{
	struct x86_paging p = { .cr0 = 0x80000011, .cr3 = 0x8020,
				.cr4 = 0x20 };

	put64(self->f, 0x8020, 1, 0x9000 | P);	/* PDPTE 1: 1-2 GiB */
	put64(self->f, 0x9000, 0, 0xa000 | P);
	put64(self->f, 0xa000, 3, 0xb000 | P);
	put64(self->f, 0x9000, 1, 0x400000 | P | PS);
	ASSERT_EQ(0, x86_pagewalk(&p, 0x40003004, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0xb004, self->w.gpa);
	EXPECT_EQ(3, self->w.levels);
	ASSERT_EQ(0, x86_pagewalk(&p, 0x40212345, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0x412345, self->w.gpa);
	EXPECT_EQ(2 << 20, self->w.page_size);
}

TEST_F(walk, legacy_32bit_with_pse)
{
	struct x86_paging p = { .cr0 = 0x80000011, .cr3 = 0xc000,
				.cr4 = 0x10 };

	put32(self->f, 0xc000, 0, 0xd000 | P);
	put32(self->f, 0xd000, 2, 0xe000 | P);
	put32(self->f, 0xc000, 1, 0x00800000 | P | PS | (1u << 13));
	ASSERT_EQ(0, x86_pagewalk(&p, 0x2123, fake_read, self->f, &self->w));
	EXPECT_EQ(0xe123, self->w.gpa);
	EXPECT_EQ(2, self->w.levels);
	/* 4M page with PSE-36 bit 13 -> physical bit 32. */
	ASSERT_EQ(0, x86_pagewalk(&p, 0x00412345, fake_read, self->f,
				  &self->w));
	EXPECT_EQ(0x100812345ull, self->w.gpa);
	EXPECT_EQ(4 << 20, self->w.page_size);
}

/* ---- DR7 ---- */

TEST(dr7_exec_breakpoint)
{
	struct x86_hw_slots s = { 0 };

	EXPECT_EQ(0x400, x86_hw__dr7(&s));
	ASSERT_EQ(0, x86_hw__insert(&s, X86_HW_EXEC, 0x100000, 1));
	EXPECT_EQ(0x602, x86_hw__dr7(&s));
	EXPECT_EQ(0, x86_hw__find_exec(&s, 0x100000));
	EXPECT_EQ(-1, x86_hw__find_exec(&s, 0x100001));
}

TEST(dr7_watchpoints_lengths)
{
	struct x86_hw_slots s = { 0 };

	ASSERT_EQ(0, x86_hw__insert(&s, X86_HW_WRITE, 0x1000, 1));
	ASSERT_EQ(1, x86_hw__insert(&s, X86_HW_WRITE, 0x2002, 2));
	ASSERT_EQ(2, x86_hw__insert(&s, X86_HW_ACCESS, 0x3004, 4));
	ASSERT_EQ(3, x86_hw__insert(&s, X86_HW_ACCESS, 0x4008, 8));
	/* slot0 W len1: 0x1 << 16; slot1 W len2: (1 | 1 << 2) << 20;
	 * slot2 RW len4: (3 | 3 << 2) << 24; slot3 RW len8: (3 | 2 << 2) << 28.
	 */
	EXPECT_EQ(0x600 | 0xaa | 0x10000 | 0x500000 | 0xf000000 | 0xb0000000ull,
		  x86_hw__dr7(&s));
	EXPECT_EQ(4, x86_hw__count(&s));
}

TEST(dr7_fifth_slot_is_refused)
{
	struct x86_hw_slots s = { 0 };

	for (int i = 0; i < 4; i++)
		ASSERT_EQ(i, x86_hw__insert(&s, X86_HW_EXEC, 0x1000 + i, 1));
	EXPECT_EQ(-ENOSPC, x86_hw__insert(&s, X86_HW_EXEC, 0x2000, 1));
	EXPECT_EQ(-ENOSPC, x86_hw__insert(&s, X86_HW_WRITE, 0x2000, 4));
	ASSERT_EQ(0, x86_hw__remove(&s, X86_HW_EXEC, 0x1002, 1));
	EXPECT_EQ(2, x86_hw__insert(&s, X86_HW_WRITE, 0x2000, 4));
}

TEST(dr7_bad_length_or_alignment)
{
	struct x86_hw_slots s = { 0 };

	EXPECT_EQ(-EINVAL, x86_hw__insert(&s, X86_HW_WRITE, 0x1000, 3));
	EXPECT_EQ(-EINVAL, x86_hw__insert(&s, X86_HW_WRITE, 0x1000, 16));
	EXPECT_EQ(-EINVAL, x86_hw__insert(&s, X86_HW_ACCESS, 0x1002, 4));
	EXPECT_EQ(-EINVAL, x86_hw__insert(&s, X86_HW_WRITE, 0x1004, 8));
	EXPECT_EQ(-EINVAL, x86_hw__insert(&s, X86_HW_WRITE, 0x1000, 0));
	EXPECT_EQ(0, x86_hw__count(&s));
}

TEST(dr7_remove_and_hit)
{
	struct x86_hw_slots s = { 0 };

	ASSERT_EQ(0, x86_hw__insert(&s, X86_HW_EXEC, 0x1000, 1));
	ASSERT_EQ(1, x86_hw__insert(&s, X86_HW_WRITE, 0x2000, 4));
	EXPECT_EQ(-ENOENT, x86_hw__remove(&s, X86_HW_WRITE, 0x2000, 2));
	EXPECT_EQ(1, x86_hw__hit(&s, 0xffff0ff2));
	EXPECT_EQ(-1, x86_hw__hit(&s, 0xffff4ff0));	/* BS only */
	EXPECT_EQ(0, x86_hw__remove(&s, X86_HW_WRITE, 0x2000, 4));
	EXPECT_EQ(-1, x86_hw__hit(&s, 0xffff0ff2));	/* slot now free */
}

/* ---- software breakpoint table ---- */

TEST(swbp_add_find_del)
{
	struct swbp_table t = { 0 };
	struct swbp b;

	ASSERT_EQ(0, swbp__add(&t, 0x401000, 0x1000, 0x55));
	EXPECT_EQ(-EEXIST, swbp__add(&t, 0x401000, 0x1000, 0xcc));
	ASSERT_NE(NULL, swbp__find(&t, 0x401000));
	EXPECT_EQ(0x55, swbp__find_gpa(&t, 0x1000)->orig);
	EXPECT_EQ(NULL, swbp__find(&t, 0x401001));
	ASSERT_EQ(0, swbp__del(&t, 0x401000, &b));
	EXPECT_EQ(0x55, b.orig);
	EXPECT_EQ(-ENOENT, swbp__del(&t, 0x401000, &b));
	swbp__free(&t);
}

TEST(swbp_unlimited_and_sorted)
{
	struct swbp_table t = { 0 };

	/* Insert in descending gpa order, far more than any HW limit. */
	for (int i = 999; i >= 0; i--)
		ASSERT_EQ(0, swbp__add(&t, 0x400000 + 3 * i, 3 * i, i & 0xff));
	EXPECT_EQ(1000, t.n);
	for (size_t i = 1; i < t.n; i++)
		ASSERT_LT(t.v[i - 1].gpa, t.v[i].gpa);
	EXPECT_EQ(500 & 0xff, swbp__find_gpa(&t, 1500)->orig);
	ASSERT_EQ(0, swbp__del(&t, 0x400000 + 1500, NULL));
	EXPECT_EQ(NULL, swbp__find_gpa(&t, 1500));
	EXPECT_EQ(999, t.n);
	swbp__free(&t);
}

TEST(swbp_overlay_shows_original_bytes)
{
	struct swbp_table t = { 0 };
	uint8_t buf[8];

	ASSERT_EQ(0, swbp__add(&t, 0x10, 0x10, 0x90));
	ASSERT_EQ(0, swbp__add(&t, 0x13, 0x13, 0x55));
	ASSERT_EQ(0, swbp__add(&t, 0x18, 0x18, 0x66));	/* just past */
	ASSERT_EQ(0, swbp__add(&t, 0x0f, 0x0f, 0x77));	/* just before */
	memset(buf, X86_INT3, sizeof(buf));
	swbp__overlay(&t, 0x10, buf, sizeof(buf));
	EXPECT_EQ(0x90, buf[0]);
	EXPECT_EQ(0xcc, buf[1]);
	EXPECT_EQ(0x55, buf[3]);
	EXPECT_EQ(0xcc, buf[7]);
	swbp__free(&t);
}

/* ---- the VMM's structures in guest RAM (vm__gpa_reserved) ---- */

/* A VM's layout as vm__regions() puts it together, for either kind. */
struct vm_layout {
	uint64_t mem_size;
	bool is_linux;
	uint64_t cmdline_size;
};

/* What [gpa, gpa+len) touches, "" for nothing. */
static const char *owner(const struct vm_layout *l, uint64_t gpa, uint64_t len)
{
	struct vm_region r[VM_MAX_REGIONS];
	int n = vm__core_regions(l->mem_size, r);
	const char *w;

	if (l->is_linux)
		n += linux__layout_regions(l->cmdline_size, r + n);
	w = vm__regions_owner(r, n, gpa, len);
	return w ? w : "";
}

TEST(layout_elf_structures_exact)
{
	struct vm_layout l = { .mem_size = 64ULL << 20 };

	EXPECT_STREQ("", owner(&l, 0, 0x1000));		/* page 0: not present */
	EXPECT_STREQ("", owner(&l, 0xfff, 1));
	EXPECT_STREQ("GDT", owner(&l, 0xfff, 2));
	EXPECT_STREQ("GDT", owner(&l, 0x1fff, 1));
	EXPECT_STREQ("page table (PML4)", owner(&l, 0x2000, 1));
	EXPECT_STREQ("page table (PML4)", owner(&l, 0x2fff, 1));
	EXPECT_STREQ("page table (PDPT)", owner(&l, 0x3000, 1));
	EXPECT_STREQ("page table (PT of the first 2 MiB)", owner(&l, 0x4fff, 1));
	EXPECT_STREQ("TSS", owner(&l, 0x5000, 1));
	EXPECT_STREQ("TSS", owner(&l, 0x5fff, 1));
	EXPECT_STREQ("page table (page directory)", owner(&l, 0x6000, 1));
	EXPECT_STREQ("page table (page directory)", owner(&l, 0x6fff, 1));
	EXPECT_STREQ("", owner(&l, 0x7000, 0x79000));	/* up to the stacks */
	/* The stacks hold the guest's own data; the Linux regions are not there. */
	EXPECT_STREQ("", owner(&l, GPA_STACKS, VM_RESERVED_END - GPA_STACKS));
	EXPECT_STREQ("", owner(&l, LINUX_GPA_BOOT_PARAMS, 1));
	EXPECT_STREQ("", owner(&l, LINUX_GPA_ACPI, 1));
	EXPECT_STREQ("", owner(&l, VM_RESERVED_END, 1));
}

TEST(layout_lengths_and_overflow)
{
	struct vm_layout l = { .mem_size = 64ULL << 20 };

	EXPECT_STREQ("", owner(&l, 0x2000, 0));
	EXPECT_STREQ("GDT", owner(&l, 0, UINT64_MAX));	/* first one named */
	EXPECT_STREQ("page table (PML4)", owner(&l, 0x1fff + 1, UINT64_MAX));
	EXPECT_STREQ("", owner(&l, 0x7000, UINT64_MAX));
	EXPECT_STREQ("", owner(&l, UINT64_MAX, 2));	/* wraps to 0 */
	EXPECT_STREQ("page table (PT of the first 2 MiB)", owner(&l, 0x4fff, 2)); /* and TSS */
}

TEST(layout_page_directories_follow_ram)
{
	struct vm_layout l = { .mem_size = 1ULL << 30 };

	EXPECT_STREQ("", owner(&l, 0x7000, 1));
	l.mem_size = (1ULL << 30) + 0x1000;
	EXPECT_STREQ("page table (page directory)", owner(&l, 0x7fff, 1));
	EXPECT_STREQ("", owner(&l, 0x8000, 1));
	l.mem_size = VM_MEM_MAX;
	EXPECT_STREQ("page table (page directory)", owner(&l, GPA_PD + 63 * 0x1000, 1));
	EXPECT_STREQ("", owner(&l, GPA_PD + 64 * 0x1000, 1));
}

TEST(layout_linux_structures_exact)
{
	struct vm_layout l = { .mem_size = 256ULL << 20, .is_linux = true,
			       .cmdline_size = 16 };

	EXPECT_STREQ("page table (PML4)", owner(&l, 0x2000, 8));
	EXPECT_STREQ("GDT", owner(&l, 0x1000, 1));
	EXPECT_STREQ("", owner(&l, 0xffff, 1));
	EXPECT_STREQ("Linux boot_params (zero page)", owner(&l, 0x10000, 1));
	EXPECT_STREQ("Linux boot_params (zero page)", owner(&l, 0x10fff, 1));
	EXPECT_STREQ("", owner(&l, 0x11000, 0xf000));
	EXPECT_STREQ("kernel command line", owner(&l, 0x1ffff, 2));
	EXPECT_STREQ("kernel command line", owner(&l, 0x2000f, 1));
	EXPECT_STREQ("", owner(&l, 0x20010, 0xbfff0));	/* up to 0xe0000 */
	EXPECT_STREQ("ACPI tables", owner(&l, 0xdffff, 2));
	EXPECT_STREQ("ACPI tables", owner(&l, 0xfffff, 1));
	EXPECT_STREQ("", owner(&l, LINUX_GPA_KERNEL, 1));
	l.cmdline_size = 0;	/* a resume: not known */
	EXPECT_STREQ("", owner(&l, 0x20000, 1));
}

/* ---- the Linux core layout's direct map, over a fake guest memory ---- */

static int fake_core_read(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
	struct fake *f = ctx;

	if (gpa + len > FAKE_MEM || gpa + len < gpa)
		return -EFAULT;
	memcpy(buf, f->mem + gpa, len);
	return 0;
}

/*
 * The direct map is the lowest 1 GiB-aligned kernel address mapping gpa
 * 0: with 4-level paging above 0xffff8000_00000000, with 5-level (LA57)
 * above 0xff000000_00000000. A 1 GiB page of gpa 0 at a lower user
 * address and one at a higher kernel address are decoys.
 */
TEST(linux_core_direct_map_four_and_five_level)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct vm_core_range ram = { .gpa = 0, .size = FAKE_MEM };
	struct vm_core_mem m = { .ctx = f, .read = fake_core_read, .nr_ranges = 1,
				 .ranges = &ram };
	struct kvm_sregs s = { .cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x20,
			       .efer = 0x500 };
	struct vm_core_layout *l = calloc(1, sizeof(*l));

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, l);
	/* 4-level: PML4 0x1000; PML4[0] and PML4[0x1a0] -> PDPT 0x2000
	 * (1 GiB page of gpa 0 in PDPT[3]); PML4[0x1ff] -> PDPT 0x3000
	 * (gpa 0 in its last entry).
	 */
	put64(f, 0x1000, 0, 0x2000 | P | RW);
	put64(f, 0x1000, 0x1a0, 0x2000 | P | RW);
	put64(f, 0x1000, 0x1ff, 0x3000 | P | RW);
	put64(f, 0x2000, 3, 0 | P | RW | PS);
	put64(f, 0x3000, 0x1ff, 0 | P | RW | PS);
	linux__core_layout(&m, &s, l);
	EXPECT_TRUE(l->vaddr_valid);
	EXPECT_EQ(0xffffd000c0000000ull, l->vaddr_base);

	/* 5-level: PML5 0x5000; PML5[0x111] -> PML4 0x6000, whose [2] ->
	 * PDPT 0x2000; PML5[0x1fe] -> PML4 0x1000 (the decoys above, higher).
	 */
	memset(l, 0, sizeof(*l));
	s.cr4 |= 1 << 12;
	s.cr3 = 0x5000;
	put64(f, 0x5000, 0x111, 0x6000 | P | RW);
	put64(f, 0x5000, 0x1fe, 0x1000 | P | RW);
	put64(f, 0x6000, 2, 0x2000 | P | RW);
	linux__core_layout(&m, &s, l);
	EXPECT_TRUE(l->vaddr_valid);
	EXPECT_EQ(0xff110100c0000000ull, l->vaddr_base);

	/* Nothing maps gpa 0 in the kernel half: no direct map. */
	memset(l, 0, sizeof(*l));
	put64(f, 0x5000, 0x111, 0);
	put64(f, 0x5000, 0x1fe, 0);
	linux__core_layout(&m, &s, l);
	EXPECT_FALSE(l->vaddr_valid);
	free(l);
	free(f);
}

TEST_HARNESS_MAIN
