/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one owner of reading a vCPU's state out of KVM. Every capture (the
 * debugger's stop, a snapshot, the benchmark) goes through vm__capture(),
 * which makes the one "kvmdbg.ko or KVM_GET_*?" choice: with a session,
 * one KVMDBG_SNAPSHOT returns every vCPU; without, each vCPU's six
 * KVM_GET_* ioctls return the same struct kvmdbg_vcpu_state. Around it:
 * MSRs by name (user/lib/x86.h) and the x87/SSE/AVX area (XSAVE or FPU).
 * The vCPUs must be parked (a debugger stop, vm__pause or vm__hold).
 */
#ifndef KVMDBG_USER_VCPU_STATE_H
#define KVMDBG_USER_VCPU_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#include <uapi/linux/kvmdbg.h>

struct vm;

#define VM_ALL_VCPUS	(-1)

/*
 * @vcpu's record into out[vcpu], or every vCPU's into out[0..nr_vcpus)
 * with VM_ALL_VCPUS. Through the module every record comes from the one
 * ioctl anyway, so all are filled then too. Returns how many records are
 * valid (1: only out[vcpu]; vm__nr_vcpus(): all), or -errno.
 */
int vm__capture(struct vm *vm, int vcpu, struct kvmdbg_vcpu_state *out);

/* One record through KVM_GET_REGS/SREGS/DEBUGREGS/FPU/VCPU_EVENTS/MSRS. */
int vcpu__capture(int vcpu_fd, int vcpu_id, struct kvmdbg_vcpu_state *out);

/*
 * Parked vCPU @i's general-purpose and special registers (either pointer
 * may be NULL): copied from kvm_run's sync area when its last KVM_RUN
 * left them there (KVM_CAP_SYNC_REGS, while guest debugging is on) and
 * nothing wrote them since, else KVM_GET_REGS/KVM_GET_SREGS. 0 or -errno.
 */
int vm__vcpu_regs(struct vm *vm, int i, struct kvm_regs *regs,
		  struct kvm_sregs *sregs);
/*
 * Whoever sets @i's registers, sregs or MSRs with a vCPU ioctl calls this
 * after it, so vm__vcpu_regs() no longer trusts kvm_run's copy.
 */
void vm__vcpu_regs_written(struct vm *vm, int i);

/* One MSR by index, read (set false) or written. -EIO: KVM refused it. */
int vcpu__msr(int vcpu_fd, uint32_t index, uint64_t *val, bool set);
/*
 * e[0..*n) by index; an MSR this host's KVM lacks is dropped from the
 * list (and *n) instead of failing the rest.
 */
int vcpu__get_msrs(int vcpu_fd, struct kvm_msr_entry *e, uint32_t *n);
/* e[0..n) back; -EINVAL when KVM takes fewer than n. */
int vcpu__set_msrs(int vcpu_fd, const struct kvm_msr_entry *e, uint32_t n);

/*
 * Bytes of the XSAVE area KVM_GET_XSAVE(2) fills on this VM, 0 without
 * KVM_CAP_XSAVE (x87/SSE then go through struct kvm_fpu). *xsave2: use
 * KVM_GET_XSAVE2.
 */
uint32_t vm__xsave_size(struct vm *vm, bool *xsave2);
/* The x87/SSE(/AVX) state: into xsave when it is non-NULL, else fpu. */
int vcpu__get_fpu(int vcpu_fd, bool xsave2, void *xsave,
		  struct kvm_fpu *fpu);

#endif /* KVMDBG_USER_VCPU_STATE_H */
