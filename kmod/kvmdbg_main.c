// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: stop-the-world debugging of KVM guests.
 *
 * /dev/kvmdbg is a misc device (mode 0600, so only root or whoever the
 * administrator hands the node to may use it). This file owns the device
 * and the ioctls that need no VM.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include "kvmdbg.h"

/* The ABI is fixed: sizes checked here and in the selftests. */
static_assert(sizeof(struct kvmdbg_attach) == 56);
static_assert(sizeof(struct kvmdbg_kick_signal) == 32);
static_assert(sizeof(struct kvmdbg_msrs) == 88);
static_assert(sizeof(struct kvmdbg_vcpu_state) == 1184);
static_assert(sizeof(struct kvmdbg_range) == 48);
static_assert(sizeof(struct kvmdbg_snapshot) == 208);
static_assert(sizeof(struct kvmdbg_guest_debug) == 104);
static_assert(sizeof(struct kvmdbg_vcpu_info) == 16);
static_assert(sizeof(struct kvmdbg_memslot) == 32);
static_assert(sizeof(struct kvmdbg_vm_info) == 72);
static_assert(sizeof(struct kvmdbg_set_vcpu_state) == 992);

static long kvmdbg_check_extension(unsigned long cap)
{
	switch (cap) {
	case KVMDBG_CAP_VERSION:
	case KVMDBG_CAP_ATTACH:
	case KVMDBG_CAP_KICK_SIGNAL:
	case KVMDBG_CAP_FREEZE:
	case KVMDBG_CAP_SNAPSHOT:
	case KVMDBG_CAP_RANGES:
	case KVMDBG_CAP_GUEST_DEBUG:
	case KVMDBG_CAP_FOREIGN:
	case KVMDBG_CAP_VM_INFO:
	case KVMDBG_CAP_SET_STATE:
		return 1;
	default:
		return 0;
	}
}

static long kvmdbg_attach(void __user *argp)
{
	struct kvmdbg_attach at;
	struct fd f;
	long r;

	if (copy_from_user(&at, argp, sizeof(at)))
		return -EFAULT;
	if ((at.flags & ~KVMDBG_ATTACH_VALID_FLAGS) ||
	    memchr_inv(at.reserved, 0, sizeof(at.reserved)))
		return -EINVAL;
	f = fdget(at.vm_fd);
	if (!f.file)
		return -EBADF;
	r = -EINVAL;
	if (file_is_kvm(f.file))
		r = kvmdbg_session_create(f.file, at.flags & KVMDBG_ATTACH_FOREIGN);
	fdput(f);
	return r;
}

static long kvmdbg_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case KVMDBG_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KVMDBG_API_VERSION;
	case KVMDBG_CHECK_EXTENSION:
		return kvmdbg_check_extension(arg);
	case KVMDBG_ATTACH:
		return kvmdbg_attach((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kvmdbg_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kvmdbg_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kvmdbg_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KVMDBG_DEVICE_NAME,
	.fops	= &kvmdbg_dev_fops,
	.mode	= 0600,
};

static int __init kvmdbg_init(void)
{
	int r;

	r = misc_register(&kvmdbg_misc);
	if (r)
		pr_err("cannot register /dev/%s: %d\n", KVMDBG_DEVICE_NAME, r);
	return r;
}

static void __exit kvmdbg_exit(void)
{
	misc_deregister(&kvmdbg_misc);
}

module_init(kvmdbg_init);
module_exit(kvmdbg_exit);

MODULE_DESCRIPTION("Stop-the-world debugging of KVM guests");
MODULE_AUTHOR("kvmdbg developers");
MODULE_LICENSE("GPL");
