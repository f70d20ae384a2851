/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one owner of KVM_SET_GUEST_DEBUG: the debugger (per vCPU, at every
 * resume) and --snapshot-at (every vCPU, a DR0 execute breakpoint) both
 * program guest debugging here. For every vCPU at once a VM with a
 * kvmdbg.ko session takes one KVMDBG_SET_GUEST_DEBUG, applied with the
 * world held; otherwise each vCPU's own ioctl. vCPUs must be parked.
 */
#ifndef KVMDBG_USER_GUEST_DEBUG_H
#define KVMDBG_USER_GUEST_DEBUG_H

#include <stdint.h>
#include <linux/kvm.h>

struct vm;

/* @dbg to @vcpu, or to every vCPU with VM_ALL_VCPUS. 0 or -errno. */
int vm__set_guest_debug(struct vm *vm, int vcpu, const struct kvm_guest_debug *dbg);

/*
 * Fill @dbg for one hardware execute breakpoint at @addr (DR0, DR7 from
 * user/lib/x86_debugreg.c), or for no guest debugging when @addr is 0.
 */
void guest_debug__hw_exec(struct kvm_guest_debug *dbg, uint64_t addr);

#endif /* KVMDBG_USER_GUEST_DEBUG_H */
