/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmdbg: internal interfaces between the device, session, freeze and
 * snapshot code.
 */
#ifndef _KVMDBG_H
#define _KVMDBG_H

#include <linux/kvm_host.h>
#include <linux/mutex.h>
#include <linux/ktime.h>
#include <uapi/linux/kvmdbg.h>

/**
 * struct kvmdbg_session - one attachment of a debugger to a VM.
 * @kvm:	the VM, referenced from attach to release.
 * @kvm_owner:	module owning KVM's files (f_op->owner of the VM file).
 * @vm_fops:	f_op of the VM file, to tell VM files from vCPU files.
 * @lock:	serialises the session's ioctls; protects the fields below.
 * @kick_signal: signal sent to vCPU threads on freeze, 0 when unset.
 * @frozen:	KVMDBG_FREEZE was called and KVMDBG_THAW was not.
 * @freeze_start: when the current KVMDBG_FREEZE began.
 * @foreign:	state of a KVMDBG_ATTACH_FOREIGN session, NULL otherwise.
 */
struct kvmdbg_session {
	struct kvm *kvm;
	struct module *kvm_owner;
	const struct file_operations *vm_fops;
	struct mutex lock;	/* serialises ioctls, protects what follows */
	int kick_signal;
	bool frozen;
	ktime_t freeze_start;
	struct kvmdbg_foreign *foreign;
};

/**
 * struct kvmdbg_world - the vCPUs held stopped during one ioctl.
 * @sess:	the session the ioctl came through.
 * @nr:		vCPUs held; indices 0..@nr-1 are vCPU indices.
 * @vcpus:	the vCPUs.
 * @files:	each vCPU's file in the caller's fd table (referenced), or NULL.
 * @exits:	each vCPU's stat.exits when the world was last held.
 * @cui:	each vCPU's complete_userspace_io when the world was last held.
 * @held:	bitmap of vCPUs whose mutex this ioctl holds.
 * @start:	when the freeze began.
 */
struct kvmdbg_world {
	struct kvmdbg_session *sess;
	unsigned int nr;
	struct kvm_vcpu **vcpus;
	struct file **files;
	u64 *exits;
	void **cui;
	unsigned long *held;
	ktime_t start;
};

int kvmdbg_session_create(struct file *vm_file, bool foreign);

int kvmdbg_freeze_begin(struct kvmdbg_world *w, struct kvmdbg_session *sess);
int kvmdbg_freeze_hold(struct kvmdbg_world *w);
void kvmdbg_freeze_end(struct kvmdbg_world *w);
int kvmdbg_freeze_unlock_one(struct kvmdbg_world *w, unsigned int i);
int kvmdbg_freeze_relock_one(struct kvmdbg_world *w, unsigned int i);
bool kvmdbg_freeze_still(struct kvmdbg_world *w);
void kvmdbg_freeze_release_exit(struct kvm *kvm);
long kvmdbg_freeze_vcpu_ioctl(struct kvmdbg_world *w, unsigned int i,
			      unsigned int cmd, void __user *arg);

void kvmdbg_freeze_find_files(struct kvmdbg_world *w);

bool kvmdbg_snapshot_selected(const struct kvmdbg_snapshot *snap, bool all,
			      struct kvm_vcpu *vcpu);
bool kvmdbg_snapshot_msr_captured(u32 index);
int kvmdbg_snapshot_prepare(struct kvm_vcpu *vcpu, u8 __user *rec);
long kvmdbg_snapshot_steps(struct file *file, u8 __user *rec);
int kvmdbg_snapshot_ranges(struct kvmdbg_world *w,
			   const struct kvmdbg_range *ranges,
			   struct kvmdbg_snapshot *snap, u8 *kout);
int kvmdbg_snapshot_args(struct kvmdbg_session *sess, void __user *argp,
			 struct kvmdbg_snapshot *snap,
			 struct kvmdbg_range **ranges);
long kvmdbg_snapshot_ioctl(struct kvmdbg_session *sess, void __user *argp);
long kvmdbg_guest_debug_ioctl(struct kvmdbg_session *sess, void __user *argp);

long kvmdbg_vm_info_ioctl(struct kvmdbg_session *sess, void __user *argp);

int kvmdbg_foreign_init(struct kvmdbg_session *sess);
void kvmdbg_foreign_release(struct kvmdbg_session *sess);
long kvmdbg_foreign_freeze(struct kvmdbg_session *sess);
long kvmdbg_foreign_thaw(struct kvmdbg_session *sess);
long kvmdbg_foreign_snapshot(struct kvmdbg_session *sess, void __user *argp);
long kvmdbg_foreign_set_state(struct kvmdbg_session *sess, void __user *argp);
bool kvmdbg_foreign_vmm_gone(struct kvmdbg_session *sess);

#endif /* _KVMDBG_H */
