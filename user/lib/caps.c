// SPDX-License-Identifier: GPL-2.0
/*
 * Capability checks and dropping. kvmdbg-launch is run as root only so it
 * can load kvmdbg.ko; once that is done (or failed) nothing it does needs
 * a capability: /dev/kvm is opened by file permissions, the module's
 * session fd is the only authority over the VM (docs/kvmdbg-abi.md). So
 * everything is dropped before any guest code runs.
 */
#include <errno.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "user/lib/caps.h"

static bool caps__has(cap_t c, cap_value_t v, cap_flag_t set)
{
	cap_flag_value_t f = CAP_CLEAR;

	return cap_get_flag(c, v, set, &f) == 0 && f == CAP_SET;
}

bool caps__may_load_modules(void)
{
	cap_value_t v = CAP_SYS_MODULE;
	cap_t c = cap_get_proc();
	bool ok;

	if (!c)
		return false;
	ok = caps__has(c, v, CAP_EFFECTIVE);
	if (!ok && caps__has(c, v, CAP_PERMITTED))
		ok = cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) == 0 &&
		     cap_set_proc(c) == 0;
	cap_free(c);
	return ok;
}

/* True when any capability is effective, permitted or inheritable. */
static bool caps__any(cap_t c)
{
	cap_t none = cap_init();
	bool any = none && cap_compare(c, none) != 0;

	cap_free(none);
	return any;
}

int caps__drop_all(void)
{
	cap_t c = cap_get_proc();
	int r = 0;

	if (!c)
		return -errno;
	if (!caps__any(c))
		goto out;
	/*
	 * Without NOROOT a uid-0 process regains every capability at its
	 * next execve (the gdb driver runs gdb). Needs CAP_SETPCAP, which a
	 * root process has; without it there is nothing to regain either.
	 */
	if (caps__has(c, CAP_SETPCAP, CAP_EFFECTIVE))
		prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (cap_clear(c) || cap_set_proc(c))
		r = -errno;
out:
	cap_free(c);
	return r;
}
