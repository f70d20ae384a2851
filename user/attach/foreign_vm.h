/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM another process runs, through a foreign kvmdbg.ko session
 * (docs/kvmdbg-abi.md, "Foreign VMs"): freeze and thaw it, read every
 * vCPU's state at the freeze, write registers back (KVMDBG_SET_VCPU_STATE,
 * then a new capture), and reach guest RAM in
 * the VMM's address space through its memslots (process_vm_readv(2) and
 * process_vm_writev(2), which need the same ptrace right as --attach).
 */
#ifndef KVMDBG_USER_FOREIGN_VM_H
#define KVMDBG_USER_FOREIGN_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uapi/linux/kvmdbg.h>

#include "user/attach/attach.h"

struct fvm;

/* One memslot of the VM: guest-physical [gpa, gpa + size) at hva in the VMM. */
struct fvm_slot {
	uint64_t gpa, size, hva;
	uint32_t id;		/* KVM's slot id (address space << 16 | slot) */
	uint32_t flags;		/* KVM_MEM_* */
};

int fvm__open(const struct foreign_proc *fp, struct fvm **out, char *err,
	      size_t err_len);
void fvm__close(struct fvm *v);		/* thaws first; NULL is a no-op */

int fvm__nr_vcpus(const struct fvm *v);
pid_t fvm__vcpu_tid(const struct fvm *v, int vcpu);	/* its thread, 0 if none */
int fvm__nr_slots(const struct fvm *v);
const struct fvm_slot *fvm__slot(const struct fvm *v, int i);
const struct foreign_proc *fvm__proc(const struct fvm *v);

/* Stop every vCPU and capture its state (fvm__state()); 0 or -errno. */
int fvm__freeze(struct fvm *v, char *err, size_t err_len);
int fvm__thaw(struct fvm *v);
bool fvm__frozen(const struct fvm *v);
/* How long the last freeze held the VM before the capture returned, ns. */
uint64_t fvm__stopped_ns(const struct fvm *v);
/*
 * vCPU @vcpu as captured at the current freeze, or after the last
 * fvm__set_state() (NULL when thawed, or when that capture failed).
 */
const struct kvmdbg_vcpu_state *fvm__state(const struct fvm *v, int vcpu);
/*
 * Frozen: write the classes @flags (KVMDBG_STATE_*) of @st, a changed
 * copy of fvm__state(), into vCPU @vcpu through kvmdbg.ko (only the MSR
 * entries that differ from the capture), then capture every vCPU again:
 * fvm__state() then shows what KVM holds. 0 or -errno (-EBUSY: thawed).
 */
int fvm__set_state(struct fvm *v, int vcpu, const struct kvmdbg_vcpu_state *st,
		   unsigned int flags);

/* Guest-physical access: bytes done (short at the first byte no slot maps), or -EFAULT. */
ssize_t fvm__read_phys(struct fvm *v, uint64_t gpa, void *buf, size_t len);
ssize_t fvm__write_phys(struct fvm *v, uint64_t gpa, const void *buf, size_t len);

#endif /* KVMDBG_USER_FOREIGN_VM_H */
