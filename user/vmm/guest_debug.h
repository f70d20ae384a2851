/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one owner of KVM_SET_GUEST_DEBUG and of the debug registers DR0-DR3
 * it programs. Two users share them: the debugger states per vCPU what it
 * wants (control bits and its own slots, at every resume), and other
 * users (--snapshot-at) reserve an execute-breakpoint slot on every vCPU.
 * What KVM gets is always the merge of both, DR7 built by
 * user/lib/x86_debugreg.c. A slot index is its DR number, so the DR6
 * B0-B3 bit of a KVM_EXIT_DEBUG names its owner. For every vCPU at once a
 * VM with a kvmdbg.ko session takes one KVMDBG_SET_GUEST_DEBUG, applied
 * with the world held; otherwise each vCPU's own ioctl. Callers keep the
 * vCPUs they change parked (or not yet started).
 */
#ifndef KVMDBG_USER_GUEST_DEBUG_H
#define KVMDBG_USER_GUEST_DEBUG_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "user/lib/x86_debugreg.h"

struct vm;

/* Per vCPU, inside struct vcpu (vm-priv.h). */
struct guest_debug_vcpu {
	uint32_t control;		/* the debugger's KVM_GUESTDBG_* bits */
	struct x86_hw_slots hw;		/* the debugger's slots */
	bool sent;			/* @last is what KVM has */
	struct kvm_guest_debug last;
};

/*
 * The debugger's wish for @vcpu: @control (KVM_GUESTDBG_SINGLESTEP,
 * _USE_SW_BP, _BLOCKIRQ; ENABLE and USE_HW_BP are added as needed) and its
 * slots @hw (NULL: none), which must leave the reserved ones free
 * (-EBUSY). KVM is told only when the merge changed. 0 or -errno.
 */
int guest_debug__set_vcpu(struct vm *vm, int vcpu, uint32_t control,
			  const struct x86_hw_slots *hw);

/*
 * Reserve a free slot (by no vCPU's debugger wish) for an execute
 * breakpoint at @addr on every vCPU and program it. Returns the slot, or
 * -ENOSPC. guest_debug__release() frees it again.
 */
int guest_debug__reserve_exec(struct vm *vm, uint64_t addr);
int guest_debug__release(struct vm *vm, int slot);

/* The reserved slots, bit n for DRn: the debugger's are the others. */
unsigned int guest_debug__reserved(struct vm *vm);

#endif /* KVMDBG_USER_GUEST_DEBUG_H */
