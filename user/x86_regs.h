/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Conversion between KVM's register classes and the gdb stub's one fixed
 * 64-bit register layout (struct gdb_x86_regs). Pure functions: no ioctls.
 */
#ifndef KVMDBG_X86_REGS_H
#define KVMDBG_X86_REGS_H

#include <stdint.h>
#include <linux/kvm.h>

#include "gdbstub/gdbstub.h"

/* IA32_KERNEL_GS_BASE: not part of kvm_sregs, read with KVM_GET_MSRS. */
#define X86_MSR_KERNEL_GS_BASE	0xc0000102u

/* Everything a gdb register set is made of, as KVM hands it out. */
struct x86_kvm_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	uint64_t k_gs_base;
};

/* Which register classes x86_regs__to_kvm() changed (KVM_SET_* to issue). */
enum {
	X86_DIRTY_REGS	= 1 << 0,
	X86_DIRTY_SREGS	= 1 << 1,
	X86_DIRTY_FPU	= 1 << 2,
	X86_DIRTY_MSRS	= 1 << 3,
};

void x86_regs__from_kvm(const struct x86_kvm_state *s,
			struct gdb_x86_regs *out);

/*
 * Fold @in into @s, touching only fields whose value differs, and return
 * the X86_DIRTY_* classes that changed (0: nothing to write back).
 */
unsigned int x86_regs__to_kvm(const struct gdb_x86_regs *in,
			      struct x86_kvm_state *s);

/* The full x87 tag word (2 bits per physical register, 11 = empty) from
 * FXSAVE's abridged tag byte, the status word and the ST(i) contents.
 */
uint16_t x86_fpu__full_tag(uint8_t ftwx, uint16_t fsw, const uint8_t st[8][16]);
/* And back: bit i set when physical register i is not empty. */
uint8_t x86_fpu__abridged_tag(uint16_t ftag);

#endif /* KVMDBG_X86_REGS_H */
