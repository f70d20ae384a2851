// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: KVMDBG_SET_GUEST_DEBUG, one KVM_SET_GUEST_DEBUG for every vCPU
 * of the VM, applied with the world held (kvmdbg_freeze.c) so that no
 * vCPU runs with the old setting while another has the new one.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>
#include <linux/uaccess.h>
#include "kvmdbg.h"

/**
 * kvmdbg_guest_debug_ioctl() - KVMDBG_SET_GUEST_DEBUG.
 * @sess: the session.
 * @argp: user pointer to struct kvmdbg_guest_debug.
 *
 * Applies the same KVM_SET_GUEST_DEBUG to every vCPU while all are held.
 * On an error, vCPUs before the failing one keep the new setting.
 *
 * Context: process context of the VMM, @sess->lock held.
 * Return: 0, -EFAULT, -EINVAL, -EIO or -EINTR, or what KVM returned.
 */
long kvmdbg_guest_debug_ioctl(struct kvmdbg_session *sess, void __user *argp)
{
	struct kvmdbg_guest_debug __user *ugd = argp;
	struct kvmdbg_guest_debug gd;
	struct kvmdbg_world w;
	unsigned int i;
	long r;

	if (copy_from_user(&gd, argp, sizeof(gd)))
		return -EFAULT;
	if (gd.flags || gd.pad || memchr_inv(gd.reserved, 0, sizeof(gd.reserved)))
		return -EINVAL;
	if (!sess->kick_signal)
		return -EINVAL;
	r = kvmdbg_freeze_begin(&w, sess);
	if (r)
		return r;
	r = kvmdbg_freeze_hold(&w);
	for (i = 0; !r && i < w.nr; i++) {
		r = kvmdbg_freeze_unlock_one(&w, i);
		if (r)
			break;
		r = kvmdbg_freeze_vcpu_ioctl(&w, i, KVM_SET_GUEST_DEBUG,
					     &ugd->dbg);
		if (kvmdbg_freeze_relock_one(&w, i))
			r = -EINTR;
	}
	kvmdbg_freeze_end(&w);
	return r;
}
