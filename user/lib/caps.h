/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capabilities of kvmdbg-launch (libcap). Root is needed at most to load
 * kvmdbg.ko; running a guest needs only file access to /dev/kvm.
 */
#ifndef KVMDBG_USER_CAPS_H
#define KVMDBG_USER_CAPS_H

#include <stdbool.h>

/*
 * True when the process may load a module: CAP_SYS_MODULE is effective,
 * or permitted and now raised into the effective set.
 */
bool caps__may_load_modules(void);

/*
 * Drop every capability (effective, permitted, inheritable, ambient) and,
 * when allowed, lock root out of regaining them on execve (SECBIT_NOROOT),
 * so gdb started by the driver holds none either. A no-op for a process
 * that holds none. Returns 0 or -errno.
 */
int caps__drop_all(void);

#endif /* KVMDBG_USER_CAPS_H */
