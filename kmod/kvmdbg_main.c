// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg: stop-the-world debugging of KVM guests.
 *
 * /dev/kvmdbg is a misc device (mode 0600, so only root or whoever the
 * administrator hands the node to may use it). This file owns the device
 * and the ioctls that need no VM.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <uapi/linux/kvmdbg.h>

static long kvmdbg_check_extension(unsigned long cap)
{
	switch (cap) {
	case KVMDBG_CAP_VERSION:
		return 1;
	default:
		return 0;
	}
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
