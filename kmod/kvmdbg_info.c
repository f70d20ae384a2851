// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: KVMDBG_VM_INFO, the VM's vCPUs (id, thread, whether the caller
 * holds its fd) and user memslots, for a debugger's "info" and for a
 * snapshot of all guest RAM. Read under kvm->srcu; a VMM changing its
 * memslots meanwhile gets either the old or the new set.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include "kvmdbg.h"

#define KVMDBG_INFO_MAX_SLOTS	(KVM_USER_MEM_SLOTS * KVM_ADDRESS_SPACE_NUM)

static int kvmdbg_info_cmp(const void *a, const void *b)
{
	const struct kvmdbg_memslot *x = a, *y = b;

	if ((x->slot >> 16) != (y->slot >> 16))
		return (x->slot >> 16) < (y->slot >> 16) ? -1 : 1;
	if (x->guest_phys_addr != y->guest_phys_addr)
		return x->guest_phys_addr < y->guest_phys_addr ? -1 : 1;
	return 0;
}

/* Fills up to @room entries of @out; returns the number of user slots. */
static unsigned int kvmdbg_info_slots(struct kvm *kvm,
				      struct kvmdbg_memslot *out,
				      unsigned int room)
{
	struct kvm_memory_slot *ms;
	unsigned int n = 0;
	int as, bkt, idx;

	idx = srcu_read_lock(&kvm->srcu);
	for (as = 0; as < KVM_ADDRESS_SPACE_NUM; as++) {
		kvm_for_each_memslot(ms, bkt, __kvm_memslots(kvm, as)) {
			if (ms->id >= KVM_USER_MEM_SLOTS)
				continue;
			if (n < room) {
				out[n].slot = as << 16 | ms->id;
				out[n].flags = ms->flags;
				out[n].guest_phys_addr = ms->base_gfn << PAGE_SHIFT;
				out[n].memory_size = ms->npages << PAGE_SHIFT;
				out[n].userspace_addr = ms->userspace_addr;
			}
			n++;
		}
	}
	srcu_read_unlock(&kvm->srcu, idx);
	sort(out, min(n, room), sizeof(*out), kvmdbg_info_cmp, NULL);
	return n;
}

static void kvmdbg_info_vcpus(struct kvmdbg_session *sess,
			      struct kvmdbg_vcpu_info *out, unsigned int nr)
{
	struct kvmdbg_world w = { .sess = sess, .nr = nr };
	unsigned int i;

	w.vcpus = kcalloc(nr + 1, sizeof(*w.vcpus), GFP_KERNEL);
	w.files = kcalloc(nr + 1, sizeof(*w.files), GFP_KERNEL);
	for (i = 0; w.vcpus && i < nr; i++)
		w.vcpus[i] = kvm_get_vcpu(sess->kvm, i);
	if (w.vcpus && w.files)
		kvmdbg_freeze_find_files(&w);
	for (i = 0; i < nr; i++) {
		struct kvm_vcpu *vcpu = kvm_get_vcpu(sess->kvm, i);

		out[i].vcpu_id = vcpu->vcpu_id;
		rcu_read_lock();
		out[i].tid = pid_vnr(rcu_dereference(vcpu->pid));
		rcu_read_unlock();
		if (w.files && w.files[i]) {
			out[i].flags |= KVMDBG_VCPU_INFO_FD;
			fput(w.files[i]);
		}
	}
	kfree(w.vcpus);
	kfree(w.files);
}

static int kvmdbg_info_copy(struct kvmdbg_vm_info *vi,
			    const struct kvmdbg_vcpu_info *vcpus,
			    const struct kvmdbg_memslot *slots)
{
	if (copy_to_user(u64_to_user_ptr(vi->vcpus), vcpus,
			 array_size(vi->nr_vcpus, sizeof(*vcpus))) ||
	    copy_to_user(u64_to_user_ptr(vi->memslots), slots,
			 array_size(vi->nr_memslots, sizeof(*slots))))
		return -EFAULT;
	return 0;
}

/**
 * kvmdbg_vm_info_ioctl() - KVMDBG_VM_INFO.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_vm_info.
 *
 * Context: process context, @sess->lock held.
 * Return: 0, -EFAULT, -EINVAL for flags/pad/reserved, -E2BIG when a room
 * is too small (counts copied out), -ENOMEM.
 */
long kvmdbg_vm_info_ioctl(struct kvmdbg_session *sess, void __user *argp)
{
	struct kvmdbg_vcpu_info *vcpus = NULL;
	struct kvmdbg_memslot *slots = NULL;
	struct kvmdbg_vm_info vi;
	unsigned int nv, room;
	long r = -ENOMEM;

	if (copy_from_user(&vi, argp, sizeof(vi)))
		return -EFAULT;
	if (vi.flags || vi.pad || memchr_inv(vi.reserved, 0, sizeof(vi.reserved)))
		return -EINVAL;
	nv = atomic_read(&sess->kvm->online_vcpus);
	/* Pairs with the smp_wmb() in KVM_CREATE_VCPU, as kvm_get_vcpu(). */
	smp_rmb();
	room = min_t(u32, vi.nr_memslots, KVMDBG_INFO_MAX_SLOTS);
	vcpus = kcalloc(nv + 1, sizeof(*vcpus), GFP_KERNEL);
	slots = kvcalloc(room + 1, sizeof(*slots), GFP_KERNEL);
	if (!vcpus || !slots)
		goto out;
	kvmdbg_info_vcpus(sess, vcpus, nv);
	r = kvmdbg_info_slots(sess->kvm, slots, room);
	vi.state = (sess->foreign ? KVMDBG_VM_FOREIGN : 0) |
		   (sess->frozen ? KVMDBG_VM_FROZEN : 0);
	if (sess->foreign && kvmdbg_foreign_vmm_gone(sess))
		vi.state |= KVMDBG_VM_VMM_GONE;
	vi.kick_signal = sess->kick_signal;
	if (nv > vi.nr_vcpus || r > vi.nr_memslots) {
		vi.nr_vcpus = nv;
		vi.nr_memslots = r;
		r = -E2BIG;
	} else {
		vi.nr_vcpus = nv;
		vi.nr_memslots = r;
		r = kvmdbg_info_copy(&vi, vcpus, slots);
	}
	if ((!r || r == -E2BIG) && copy_to_user(argp, &vi, sizeof(vi)))
		r = -EFAULT;
out:
	kfree(vcpus);
	kvfree(slots);
	return r;
}
