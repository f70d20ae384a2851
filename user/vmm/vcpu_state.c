// SPDX-License-Identifier: GPL-2.0
/*
 * Reading vCPU state out of KVM: see user/vmm/vcpu_state.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm-priv.h"
#include "user/lib/x86.h"

/* The record's MSRs, at the slots the uapi header names. */
static const uint32_t record_msrs[KVMDBG_NR_MSRS] = {
	[KVMDBG_MSR_EFER] = X86_MSR_EFER,
	[KVMDBG_MSR_FS_BASE] = X86_MSR_FS_BASE,
	[KVMDBG_MSR_GS_BASE] = X86_MSR_GS_BASE,
	[KVMDBG_MSR_KERNEL_GS_BASE] = X86_MSR_KERNEL_GS_BASE,
	[KVMDBG_MSR_LSTAR] = X86_MSR_LSTAR,
};

int vcpu__capture(int fd, int vcpu_id, struct kvmdbg_vcpu_state *out)
{
	memset(out, 0, sizeof(*out));
	out->vcpu_id = (__u32)vcpu_id;
	out->msrs.nmsrs = KVMDBG_NR_MSRS;
	for (int i = 0; i < KVMDBG_NR_MSRS; i++)
		out->msrs.entries[i].index = record_msrs[i];
	if (ioctl(fd, KVM_GET_REGS, &out->regs) ||
	    ioctl(fd, KVM_GET_SREGS, &out->sregs) ||
	    ioctl(fd, KVM_GET_DEBUGREGS, &out->debugregs) ||
	    ioctl(fd, KVM_GET_FPU, &out->fpu) ||
	    ioctl(fd, KVM_GET_VCPU_EVENTS, &out->events))
		return -errno;
	switch (ioctl(fd, KVM_GET_MSRS, &out->msrs)) {
	case KVMDBG_NR_MSRS:
		return 0;
	case -1:
		return -errno;
	default:
		return -EIO;	/* KVM refused one of them */
	}
}

int vm__capture(struct vm *vm, int vcpu, struct kvmdbg_vcpu_state *out)
{
	int r = 0;

	if (vcpu >= vm->nr_vcpus || vcpu < VM_ALL_VCPUS)
		return -EINVAL;
	if (vm->kdbg) {
		r = kvmdbg_sess__snapshot(vm->kdbg, out, vm->nr_vcpus, NULL);
		return r ? r : vm->nr_vcpus;
	}
	if (vcpu != VM_ALL_VCPUS) {
		r = vcpu__capture(vm->vcpus[vcpu].fd, vcpu, &out[vcpu]);
		return r ? r : 1;
	}
	for (int i = 0; i < vm->nr_vcpus && !r; i++)
		r = vcpu__capture(vm->vcpus[i].fd, i, &out[i]);
	return r ? r : vm->nr_vcpus;
}

int vm__vcpu_regs(struct vm *vm, int i, struct kvm_regs *regs,
		  struct kvm_sregs *sregs)
{
	struct vcpu *vcpu;

	if (i < 0 || i >= vm->nr_vcpus)
		return -EINVAL;
	vcpu = &vm->vcpus[i];
	if (vcpu->sync_valid) {
		if (regs)
			*regs = vcpu->run->s.regs.regs;
		if (sregs)
			*sregs = vcpu->run->s.regs.sregs;
		return 0;
	}
	if ((regs && ioctl(vcpu->fd, KVM_GET_REGS, regs)) ||
	    (sregs && ioctl(vcpu->fd, KVM_GET_SREGS, sregs)))
		return -errno;
	return 0;
}

void vm__vcpu_regs_written(struct vm *vm, int i)
{
	if (i >= 0 && i < vm->nr_vcpus)
		vm->vcpus[i].sync_valid = false;
}

int vcpu__msr(int fd, uint32_t index, uint64_t *val, bool set)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = {
		.hdr.nmsrs = 1,
		.e.index = index,
		.e.data = *val,
	};
	int r = ioctl(fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);

	if (r < 0)
		return -errno;
	if (r != 1)
		return -EIO;	/* KVM refused the MSR */
	*val = m.e.data;
	return 0;
}

/*
 * KVM_GET_MSRS returns how many entries it read, stopping at the first it
 * cannot: drop that one and go on.
 */
int vcpu__get_msrs(int fd, struct kvm_msr_entry *e, uint32_t *n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + *n * sizeof(*e));
	uint32_t k = *n;
	int r = 0;

	if (!m)
		return -ENOMEM;
	memcpy(m->entries, e, k * sizeof(*e));
	while (k) {
		m->nmsrs = k;
		r = ioctl(fd, KVM_GET_MSRS, m);
		if (r < 0) {
			r = -errno;
			break;
		}
		if ((uint32_t)r == k) {
			r = 0;
			break;
		}
		memmove(&m->entries[r], &m->entries[r + 1],
			(k - r - 1) * sizeof(*e));
		k--;
		r = 0;
	}
	if (!r) {
		memcpy(e, m->entries, k * sizeof(*e));
		*n = k;
	}
	free(m);
	return r;
}

int vcpu__set_msrs(int fd, const struct kvm_msr_entry *e, uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(*e));
	int r;

	if (!m)
		return -ENOMEM;
	m->nmsrs = n;
	memcpy(m->entries, e, n * sizeof(*e));
	r = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return -errno;
	return (uint32_t)r == n ? 0 : -EINVAL;
}

uint32_t vm__xsave_size(struct vm *vm, bool *xsave2)
{
	int size = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);

	*xsave2 = size >= (int)sizeof(struct kvm_xsave);
	if (*xsave2)
		return (uint32_t)size;
	return ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 ?
	       sizeof(struct kvm_xsave) : 0;
}

int vcpu__get_fpu(int fd, bool xsave2, void *xsave,
		  struct kvm_fpu *fpu)
{
	if (!xsave)
		return ioctl(fd, KVM_GET_FPU, fpu) ? -errno : 0;
	return ioctl(fd, xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, xsave) ? -errno : 0;
}
