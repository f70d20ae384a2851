/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conversion between KVM's register classes and the gdb stub's one fixed
 * 64-bit register layout (struct gdb_x86_regs). Pure functions: no ioctls.
 *
 * x87, SSE and AVX state comes from the XSAVE area (KVM_GET_XSAVE/2,
 * standard format) when the caller has one: KVM_GET_FPU / KVM_SET_FPU
 * never carry MXCSR (it reads 0, writes are dropped) and know no AVX.
 * struct kvm_fpu is the fallback for a KVM without KVM_CAP_XSAVE.
 */
#ifndef KVMDBG_X86_REGS_H
#define KVMDBG_X86_REGS_H

#include <stdint.h>
#include <linux/kvm.h>

#include "gdbstub/gdbstub.h"
#include "user/lib/x86.h"

/* XSAVE area layout (SDM vol. 1, 13.4): the legacy FXSAVE image, then
 * the XSAVE header, whose first word is XSTATE_BV.
 */
#define X86_XSAVE_HDR		512
#define X86_XSAVE_MIN		(X86_XSAVE_HDR + 64)
#define X86_XFEATURE_X87	(1ull << 0)
#define X86_XFEATURE_SSE	(1ull << 1)
#define X86_XFEATURE_AVX	(1ull << 2)	/* YMM_Hi128: component 2 */
#define X86_AVX_SIZE		256		/* 16 upper halves of 16 bytes */
#define X86_MXCSR_INIT		0x1f80u
#define X86_FCW_INIT		0x37fu

/* Everything a gdb register set is made of, as KVM hands it out. */
struct x86_kvm_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/*
	 * x87/SSE/AVX: the XSAVE area (xsave_size bytes) when xsave is
	 * set, else fpu. avx_offset: where component 2 sits (CPUID 0xD.2
	 * EBX), 0 when the vCPU has no AVX.
	 */
	uint8_t *xsave;
	uint32_t xsave_size;
	uint32_t avx_offset;
	struct kvm_fpu fpu;
	uint64_t k_gs_base;
};

/* Which register classes x86_regs__to_kvm() changed (KVM_SET_* to issue). */
enum {
	X86_DIRTY_REGS	= 1 << 0,
	X86_DIRTY_SREGS	= 1 << 1,
	X86_DIRTY_FPU	= 1 << 2,	/* KVM_SET_XSAVE, or KVM_SET_FPU */
	X86_DIRTY_MSRS	= 1 << 3,
};

void x86_regs__from_kvm(const struct x86_kvm_state *s,
			struct gdb_x86_regs *out);
/* Only what regs and sregs hold (no x87/SSE, KERNEL_GS_BASE 0). */
void x86_regs__from_kvm_core(const struct kvm_regs *regs,
			     const struct kvm_sregs *sregs,
			     struct gdb_x86_regs *out);

/*
 * Fold @in into @s, touching only fields whose value differs, and return
 * the X86_DIRTY_* classes that changed (0: nothing to write back). In the
 * XSAVE area a component that changes (x87; SSE with MXCSR; AVX) is
 * written whole, as the client now sees it, and its XSTATE_BV bit set:
 * KVM loads exactly the components XSTATE_BV names (MXCSR with any of
 * them), the rest from their init state.
 */
unsigned int x86_regs__to_kvm(const struct gdb_x86_regs *in,
			      struct x86_kvm_state *s);

/* The full x87 tag word (2 bits per physical register, 11 = empty) from
 * FXSAVE's abridged tag byte, the status word and the ST(i) contents
 * (@st: 8 slots of 16 bytes).
 */
uint16_t x86_fpu__full_tag(uint8_t ftwx, uint16_t fsw, const uint8_t (*st)[16]);
/* And back: bit i set when physical register i is not empty. */
uint8_t x86_fpu__abridged_tag(uint16_t ftag);

/* "long mode (64-bit)", "4-level paging", ...: for monitor output. */
const char *x86_cpu_mode(const struct kvm_sregs *s);
const char *x86_paging_mode(const struct kvm_sregs *s);

/*
 * A Linux guest's KASLR slide from its MSR_LSTAR and the link address of
 * entry_SYSCALL_64 (0: no symbols, -ENOENT): 0 and *slide, or -EAGAIN
 * when LSTAR does not point there by a 2 MiB multiple.
 */
#define X86_KASLR_ALIGN		(2ULL << 20)
int x86_kaslr_slide(uint64_t lstar, uint64_t link, uint64_t *slide);

#endif /* KVMDBG_X86_REGS_H */
