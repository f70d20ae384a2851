/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmdbg: stop-the-world debugging of KVM guests.
 *
 * ABI of /dev/kvmdbg. Conventions follow include/uapi/linux/kvm.h:
 * only __u* fields, explicit padding to 8 bytes, a flags word and a
 * reserved tail in every argument struct; unknown flags or non-zero
 * reserved bytes are rejected with -EINVAL, unknown ioctls with -ENOTTY.
 *
 * The magic 0xBD is unused in Documentation/userspace-api/ioctl/
 * ioctl-number.rst of Linux 6.1.
 */
#ifndef _UAPI_LINUX_KVMDBG_H
#define _UAPI_LINUX_KVMDBG_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KVMDBG_DEVICE_NAME	"kvmdbg"

/* Bumped only on an incompatible change; additions come as capabilities. */
#define KVMDBG_API_VERSION	1

#define KVMDBGIO		0xBD

/*
 * KVMDBG_GET_API_VERSION: no argument (must be 0).
 * Returns KVMDBG_API_VERSION.
 */
#define KVMDBG_GET_API_VERSION	_IO(KVMDBGIO, 0x00)

/*
 * KVMDBG_CHECK_EXTENSION: argument is a KVMDBG_CAP_* value.
 * Returns 1 when the capability is supported, 0 when it is not.
 */
#define KVMDBG_CHECK_EXTENSION	_IO(KVMDBGIO, 0x01)

/* Capabilities, queried with KVMDBG_CHECK_EXTENSION. */
#define KVMDBG_CAP_VERSION	0	/* the two ioctls above */

#endif /* _UAPI_LINUX_KVMDBG_H */
