// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: KVMDBG_SNAPSHOT.
 *
 * It runs with the world held (kvmdbg_freeze.c): every vCPU outside
 * KVM_RUN, its mutex held by this ioctl except while KVM's own handler
 * for that one vCPU runs. vCPU state goes straight from KVM's handlers to
 * the caller's records; guest ranges go through one bounce page.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include "kvmdbg.h"

/* Captures redone when a vCPU ran during one, before giving up. */
#define KVMDBG_SNAPSHOT_TRIES	4

static const u32 kvmdbg_snapshot_msrs[KVMDBG_NR_MSRS] = {
	[KVMDBG_MSR_EFER] = MSR_EFER,
	[KVMDBG_MSR_FS_BASE] = MSR_FS_BASE,
	[KVMDBG_MSR_GS_BASE] = MSR_GS_BASE,
	[KVMDBG_MSR_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
	[KVMDBG_MSR_LSTAR] = MSR_LSTAR,
};

/* One step of a capture: a KVM vCPU ioctl and where its result goes. */
struct kvmdbg_capture_step {
	unsigned int cmd;
	size_t offset;
};

static const struct kvmdbg_capture_step kvmdbg_capture_steps[] = {
	{ KVM_GET_REGS, offsetof(struct kvmdbg_vcpu_state, regs) },
	{ KVM_GET_SREGS, offsetof(struct kvmdbg_vcpu_state, sregs) },
	{ KVM_GET_DEBUGREGS, offsetof(struct kvmdbg_vcpu_state, debugregs) },
	{ KVM_GET_FPU, offsetof(struct kvmdbg_vcpu_state, fpu) },
	{ KVM_GET_VCPU_EVENTS, offsetof(struct kvmdbg_vcpu_state, events) },
	{ KVM_GET_MSRS, offsetof(struct kvmdbg_vcpu_state, msrs) },
};

bool kvmdbg_snapshot_selected(const struct kvmdbg_snapshot *snap, bool all,
			      struct kvm_vcpu *vcpu)
{
	unsigned int id = vcpu->vcpu_id;

	if (all)
		return true;
	if (id >= KVMDBG_MASK_WORDS * 64)
		return false;
	return snap->vcpu_mask[id / 64] & (1ULL << (id % 64));
}

/* Whether @index is one of the MSRs every record holds. */
bool kvmdbg_snapshot_msr_captured(u32 index)
{
	unsigned int i;

	for (i = 0; i < KVMDBG_NR_MSRS; i++)
		if (kvmdbg_snapshot_msrs[i] == index)
			return true;
	return false;
}

/* Header and MSR indices first: KVM_GET_MSRS reads the indices from there. */
int kvmdbg_snapshot_prepare(struct kvm_vcpu *vcpu, u8 __user *rec)
{
	struct kvmdbg_vcpu_state __user *st = (void __user *)rec;
	struct kvmdbg_msrs msrs = { .nmsrs = KVMDBG_NR_MSRS };
	unsigned int i;

	for (i = 0; i < KVMDBG_NR_MSRS; i++)
		msrs.entries[i].index = kvmdbg_snapshot_msrs[i];
	if (clear_user(st, offsetof(struct kvmdbg_vcpu_state, regs)) ||
	    put_user(vcpu->vcpu_id, &st->vcpu_id) ||
	    copy_to_user(&st->msrs, &msrs, sizeof(msrs)))
		return -EFAULT;
	return 0;
}

/*
 * Runs KVM's own handler for every state class of @file's vCPU into the
 * user record @rec (prepared). The caller must not hold the vCPU's mutex
 * and current->mm must be the VM's.
 */
long kvmdbg_snapshot_steps(struct file *file, u8 __user *rec)
{
	unsigned int k;
	long r = 0;

	for (k = 0; k < ARRAY_SIZE(kvmdbg_capture_steps); k++) {
		r = file->f_op->unlocked_ioctl(file, kvmdbg_capture_steps[k].cmd,
				(unsigned long)(rec + kvmdbg_capture_steps[k].offset));
		if (kvmdbg_capture_steps[k].cmd == KVM_GET_MSRS && r >= 0)
			r = r == KVMDBG_NR_MSRS ? 0 : -EIO;
		if (r)
			break;
	}
	return r;
}

static int kvmdbg_snapshot_vcpu(struct kvmdbg_world *w, unsigned int i,
				u8 __user *rec)
{
	long r;

	r = kvmdbg_snapshot_prepare(w->vcpus[i], rec);
	if (r)
		return r;
	r = kvmdbg_freeze_unlock_one(w, i);
	if (r)
		return r;
	r = kvmdbg_snapshot_steps(w->files[i], rec);
	if (kvmdbg_freeze_relock_one(w, i))
		return -EINTR;
	return r;
}

static int kvmdbg_snapshot_vcpus(struct kvmdbg_world *w,
				 const struct kvmdbg_snapshot *snap, bool all)
{
	u8 __user *rec = u64_to_user_ptr(snap->vcpus);
	unsigned int i;
	int r;

	for (i = 0; i < w->nr; i++) {
		if (!kvmdbg_snapshot_selected(snap, all, w->vcpus[i]))
			continue;
		r = kvmdbg_snapshot_vcpu(w, i, rec);
		if (r)
			return r;
		rec += snap->vcpu_stride;
	}
	return 0;
}

/* Reads one chunk within a guest page into @kbuf. */
static int kvmdbg_snapshot_chunk(struct kvm *kvm, struct kvm_vcpu *vcpu,
				 u64 addr, void *kbuf, unsigned int n)
{
	/* struct x86_exception is private to arch/x86/kvm; 24 bytes in 6.1. */
	u64 exc[8];
	gpa_t gpa = addr;
	int idx, r;

	idx = srcu_read_lock(&kvm->srcu);
	if (vcpu)
		gpa = kvm_mmu_gva_to_gpa_read(vcpu, addr, (void *)exc);
	if (gpa == INVALID_GPA)
		r = -EFAULT;
	else if (vcpu)
		r = kvm_vcpu_read_guest(vcpu, gpa, kbuf, n);
	else
		r = kvm_read_guest(kvm, gpa, kbuf, n);
	srcu_read_unlock(&kvm->srcu, idx);
	return r ? -EFAULT : 0;
}

/*
 * Copies range @rg page by page: into @kout when it is set (rg->len
 * bytes of kernel memory), else through the page @bounce into rg->buf.
 */
static int kvmdbg_snapshot_range(struct kvmdbg_world *w,
				 const struct kvmdbg_range *rg, u8 *kout,
				 void *bounce)
{
	struct kvm_vcpu *vcpu = NULL;
	u8 __user *ubuf = u64_to_user_ptr(rg->buf);
	u64 addr = rg->addr, left = rg->len;
	unsigned int n;
	int r = 0;

	if (rg->flags & KVMDBG_RANGE_GVA) {
		vcpu = kvm_get_vcpu_by_id(w->sess->kvm, rg->vcpu_id);
		/* Only a vCPU this ioctl holds may be loaded. */
		if (!vcpu || vcpu->vcpu_idx >= w->nr ||
		    !test_bit(vcpu->vcpu_idx, w->held))
			return -EINVAL;
		vcpu_load(vcpu);
	}
	while (left && !r) {
		n = min_t(u64, left, PAGE_SIZE - offset_in_page(addr));
		r = kvmdbg_snapshot_chunk(w->sess->kvm, vcpu, addr,
					  kout ? kout : bounce, n);
		if (!r && !kout && copy_to_user(ubuf, bounce, n))
			r = -EFAULT;
		addr += n;
		if (kout)
			kout += n;
		ubuf += n;
		left -= n;
	}
	if (vcpu)
		vcpu_put(vcpu);
	return r;
}

/**
 * kvmdbg_snapshot_ranges() - copy the guest ranges of a snapshot.
 * @w: a held world.
 * @ranges: the checked ranges, @snap->nr_ranges of them.
 * @snap: the snapshot; failed_range is set on -EFAULT.
 * @kout: NULL to copy to each range's user buffer (current's mm), or a
 *	  kernel buffer of the ranges' total length, filled in order.
 *
 * Context: the vCPUs of GVA ranges held by @w.
 * Return: 0, -EFAULT (unmapped, or a bad user buffer), -EINVAL (GVA
 * through a vCPU @w does not hold) or -ENOMEM.
 */
int kvmdbg_snapshot_ranges(struct kvmdbg_world *w,
			   const struct kvmdbg_range *ranges,
			   struct kvmdbg_snapshot *snap, u8 *kout)
{
	void *bounce = NULL;
	unsigned int i;
	int r = 0;

	if (!snap->nr_ranges)
		return 0;
	if (!kout) {
		bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
	}
	for (i = 0; i < snap->nr_ranges && !r; i++) {
		r = kvmdbg_snapshot_range(w, &ranges[i], kout, bounce);
		if (r == -EFAULT)
			snap->failed_range = i;
		if (kout)
			kout += ranges[i].len;
	}
	kfree(bounce);
	return r;
}

static int kvmdbg_snapshot_check(const struct kvmdbg_snapshot *snap)
{
	if (snap->flags || memchr_inv(snap->reserved, 0, sizeof(snap->reserved)))
		return -EINVAL;
	if (snap->vcpu_stride < sizeof(struct kvmdbg_vcpu_state) ||
	    snap->vcpu_stride % 8)
		return -EINVAL;
	if (snap->nr_ranges > KVMDBG_MAX_RANGES)
		return -E2BIG;
	return 0;
}

static int kvmdbg_snapshot_check_ranges(struct kvm *kvm,
					const struct kvmdbg_range *ranges,
					unsigned int nr)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		const struct kvmdbg_range *rg = &ranges[i];

		if ((rg->flags & ~KVMDBG_RANGE_VALID_FLAGS) ||
		    memchr_inv(rg->reserved, 0, sizeof(rg->reserved)))
			return -EINVAL;
		if (rg->addr + rg->len < rg->addr)
			return -EINVAL;
		if ((rg->flags & KVMDBG_RANGE_GVA) &&
		    !kvm_get_vcpu_by_id(kvm, rg->vcpu_id))
			return -EINVAL;
		if (rg->len > KVMDBG_MAX_RANGE_BYTES)
			return -E2BIG;
		total += rg->len;
	}
	return total > KVMDBG_MAX_RANGE_BYTES ? -E2BIG : 0;
}

static unsigned int kvmdbg_snapshot_count(struct kvmdbg_world *w,
					  const struct kvmdbg_snapshot *snap,
					  bool all)
{
	unsigned int i, n = 0;

	for (i = 0; i < w->nr; i++)
		n += kvmdbg_snapshot_selected(snap, all, w->vcpus[i]);
	return n;
}

/* Captures vCPUs until one capture saw no vCPU run, then the ranges. */
static int kvmdbg_snapshot_take(struct kvmdbg_world *w,
				struct kvmdbg_snapshot *snap,
				const struct kvmdbg_range *ranges, bool all)
{
	int r, tries;

	r = kvmdbg_freeze_hold(w);
	for (tries = 0; !r; tries++) {
		r = kvmdbg_snapshot_vcpus(w, snap, all);
		if (r || kvmdbg_freeze_still(w))
			break;
		if (tries + 1 == KVMDBG_SNAPSHOT_TRIES) {
			pr_info_ratelimited("vCPUs keep running during capture\n");
			r = -EAGAIN;
			break;
		}
		snap->nr_retries++;
	}
	if (!r)
		r = kvmdbg_snapshot_ranges(w, ranges, snap, NULL);
	return r;
}

/**
 * kvmdbg_snapshot_args() - KVMDBG_SNAPSHOT's arguments, checked.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_snapshot.
 * @snap: out: the struct.
 * @ranges: out: its ranges in kernel memory (kfree them), NULL for none.
 *
 * Context: process context, @sess->lock held.
 * Return: 0; -EFAULT, -EINVAL (bad fields or no kick signal), -E2BIG or
 * -ENOMEM, with nothing to free.
 */
int kvmdbg_snapshot_args(struct kvmdbg_session *sess, void __user *argp,
			 struct kvmdbg_snapshot *snap,
			 struct kvmdbg_range **ranges)
{
	int r;

	*ranges = NULL;
	if (copy_from_user(snap, argp, sizeof(*snap)))
		return -EFAULT;
	r = kvmdbg_snapshot_check(snap);
	if (r)
		return r;
	if (snap->nr_ranges) {
		*ranges = memdup_user(u64_to_user_ptr(snap->ranges),
				      array_size(snap->nr_ranges, sizeof(**ranges)));
		if (IS_ERR(*ranges)) {
			r = PTR_ERR(*ranges);
			*ranges = NULL;
			return r;
		}
	}
	r = kvmdbg_snapshot_check_ranges(sess->kvm, *ranges, snap->nr_ranges);
	if (!r && !sess->kick_signal)
		r = -EINVAL;
	if (r) {
		kfree(*ranges);
		*ranges = NULL;
	}
	return r;
}

/**
 * kvmdbg_snapshot_ioctl() - KVMDBG_SNAPSHOT.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_snapshot.
 *
 * Context: process context of the VMM, @sess->lock held.
 * Return: 0; -EFAULT for a bad pointer or an unmapped range (failed_range
 * says which, and the struct is copied out); -EINVAL for bad arguments or
 * no kick signal; -E2BIG for too many ranges or bytes, or too few records
 * (nr_vcpus copied out as the number needed); -EIO when the caller is not
 * the VMM or lacks a vCPU's fd; -EINTR when killed; -EAGAIN when the VMM
 * keeps re-entering the guest.
 */
long kvmdbg_snapshot_ioctl(struct kvmdbg_session *sess, void __user *argp)
{
	struct kvmdbg_snapshot snap;
	struct kvmdbg_range *ranges;
	struct kvmdbg_world w;
	unsigned int needed;
	ktime_t since;
	bool all;
	long r;

	r = kvmdbg_snapshot_args(sess, argp, &snap, &ranges);
	if (r)
		return r;
	r = kvmdbg_freeze_begin(&w, sess);
	if (r)
		goto out_free;
	all = !memchr_inv(snap.vcpu_mask, 0, sizeof(snap.vcpu_mask));
	needed = kvmdbg_snapshot_count(&w, &snap, all);
	snap.failed_range = KVMDBG_NO_RANGE;
	snap.nr_retries = 0;
	if (needed > snap.nr_vcpus) {
		r = -E2BIG;
	} else {
		r = kvmdbg_snapshot_take(&w, &snap, ranges, all);
		since = sess->frozen ? sess->freeze_start : w.start;
		snap.stopped_ns = ktime_to_ns(ktime_sub(ktime_get(), since));
	}
	snap.nr_vcpus = needed;
	kvmdbg_freeze_end(&w);
	if ((!r || r == -E2BIG || snap.failed_range != KVMDBG_NO_RANGE) &&
	    copy_to_user(argp, &snap, sizeof(snap)))
		r = -EFAULT;
out_free:
	kfree(ranges);
	return r;
}
