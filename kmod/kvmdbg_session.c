// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: the session fd returned by KVMDBG_ATTACH and its ioctls.
 *
 * A session holds a reference on its VM (kvm_get_kvm_safe) so the struct
 * kvm and its vCPUs outlive the VMM's fds; the vCPUs themselves are only
 * reached through the caller's vCPU fds, so a VM whose fds are gone gets
 * -EIO, never a dangling access. The session file's fops are owned by
 * this module, so rmmod is refused while a session is open.
 *
 * A foreign session (KVMDBG_ATTACH_FOREIGN) does its freeze, thaw and
 * snapshot through its worker (kvmdbg_foreign.c); it refuses
 * KVMDBG_SET_GUEST_DEBUG: a foreign VMM does not expect KVM_EXIT_DEBUG.
 * KVMDBG_SET_VCPU_STATE is the other way round: only a foreign session
 * needs it (KVM refuses the debugger's own KVM_SET_*).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/slab.h>
#include "kvmdbg.h"

static long kvmdbg_session_set_kick(struct kvmdbg_session *sess,
				    void __user *argp)
{
	struct kvmdbg_kick_signal ks;

	if (copy_from_user(&ks, argp, sizeof(ks)))
		return -EFAULT;
	if (ks.flags || memchr_inv(ks.reserved, 0, sizeof(ks.reserved)))
		return -EINVAL;
	if (!valid_signal(ks.signo) || !ks.signo || ks.signo == SIGKILL ||
	    ks.signo == SIGSTOP)
		return -EINVAL;
	sess->kick_signal = ks.signo;
	return 0;
}

static long kvmdbg_session_freeze(struct kvmdbg_session *sess,
				  unsigned long arg)
{
	struct kvmdbg_world w;
	ktime_t start = ktime_get();
	long r;

	if (arg || !sess->kick_signal)
		return -EINVAL;
	if (sess->frozen)
		return -EBUSY;
	if (sess->foreign)
		return kvmdbg_foreign_freeze(sess);
	r = kvmdbg_freeze_begin(&w, sess);
	if (r)
		return r;
	r = kvmdbg_freeze_hold(&w);
	if (!r) {
		sess->frozen = true;
		sess->freeze_start = start;
	}
	kvmdbg_freeze_end(&w);
	return r;
}

static long kvmdbg_session_thaw(struct kvmdbg_session *sess,
				unsigned long arg)
{
	if (arg || !sess->frozen)
		return -EINVAL;
	if (sess->foreign)
		return kvmdbg_foreign_thaw(sess);
	sess->frozen = false;
	kvmdbg_freeze_release_exit(sess->kvm);
	return 0;
}

static long kvmdbg_session_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct kvmdbg_session *sess = file->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	if (mutex_lock_killable(&sess->lock))
		return -EINTR;
	switch (cmd) {
	case KVMDBG_SET_KICK_SIGNAL:
		r = kvmdbg_session_set_kick(sess, argp);
		break;
	case KVMDBG_FREEZE:
		r = kvmdbg_session_freeze(sess, arg);
		break;
	case KVMDBG_THAW:
		r = kvmdbg_session_thaw(sess, arg);
		break;
	case KVMDBG_SNAPSHOT:
		if (sess->foreign)
			r = kvmdbg_foreign_snapshot(sess, argp);
		else
			r = kvmdbg_snapshot_ioctl(sess, argp);
		break;
	case KVMDBG_SET_GUEST_DEBUG:
		if (sess->foreign)
			r = -EOPNOTSUPP;
		else
			r = kvmdbg_guest_debug_ioctl(sess, argp);
		break;
	case KVMDBG_VM_INFO:
		r = kvmdbg_vm_info_ioctl(sess, argp);
		break;
	case KVMDBG_SET_VCPU_STATE:
		/*
		 * The VMM's own session: the VMM holds its vCPU fds and KVM
		 * takes its KVM_SET_* directly while frozen; a second way
		 * to the same handlers would only diverge.
		 */
		if (sess->foreign)
			r = kvmdbg_foreign_set_state(sess, argp);
		else
			r = -EOPNOTSUPP;
		break;
	default:
		r = -ENOTTY;
		break;
	}
	mutex_unlock(&sess->lock);
	return r;
}

static int kvmdbg_session_release(struct inode *inode, struct file *file)
{
	struct kvmdbg_session *sess = file->private_data;

	if (sess->foreign)
		kvmdbg_foreign_release(sess);
	else if (sess->frozen)
		kvmdbg_freeze_release_exit(sess->kvm);
	kvm_put_kvm(sess->kvm);
	kfree(sess);
	return 0;
}

static const struct file_operations kvmdbg_session_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kvmdbg_session_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.release	= kvmdbg_session_release,
	.llseek		= noop_llseek,
};

/**
 * kvmdbg_session_create() - create a session fd bound to a VM.
 * @vm_file: a file for which file_is_kvm() is true.
 * @foreign: KVMDBG_ATTACH_FOREIGN: the VM belongs to another process.
 *
 * The fd is installed only after everything else succeeded.
 *
 * Context: process context of the VMM that owns @vm_file, or (@foreign) of
 * a process that took @vm_file from it.
 * Return: the new fd; -EIO when the caller is not the VM's process (not
 * @foreign) or the VM is being destroyed; -EINVAL when @foreign but the
 * caller is the VM's process; -ESRCH when @foreign and the VMM is gone;
 * -ENOMEM, or another -errno.
 */
int kvmdbg_session_create(struct file *vm_file, bool foreign)
{
	struct kvm *kvm = vm_file->private_data;
	struct kvmdbg_session *sess;
	struct file *file;
	int fd, r;

	if (foreign && kvm->mm == current->mm)
		return -EINVAL;
	if ((!foreign && kvm->mm != current->mm) || !kvm_get_kvm_safe(kvm))
		return -EIO;
	r = -ENOMEM;
	sess = kzalloc(sizeof(*sess), GFP_KERNEL_ACCOUNT);
	if (!sess)
		goto err_put_kvm;
	sess->kvm = kvm;
	sess->kvm_owner = vm_file->f_op->owner;
	sess->vm_fops = vm_file->f_op;
	mutex_init(&sess->lock);
	if (foreign) {
		r = kvmdbg_foreign_init(sess);
		if (r)
			goto err_free;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_foreign;
	}
	file = anon_inode_getfile("kvmdbg-session", &kvmdbg_session_fops, sess,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		r = PTR_ERR(file);
		goto err_put_fd;
	}
	fd_install(fd, file);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_foreign:
	if (sess->foreign)
		kvmdbg_foreign_release(sess);
err_free:
	kfree(sess);
err_put_kvm:
	kvm_put_kvm(kvm);
	return r;
}
