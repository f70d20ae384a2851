/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/linux/: the Linux machine. Owns bzImage/vmlinux boot, ACPI, the
 * in-kernel irqchip, the COM1 UART and their port I/O, as one guest kind
 * (struct vm_machine). Calls user/vmm/ internals (vm-priv.h) and
 * user/lib/; the core never calls here except through the table.
 */
#ifndef KVMDBG_USER_LINUX_H
#define KVMDBG_USER_LINUX_H

#include "user/vmm/machine.h"

/*
 * A Linux guest (kvmdbg-launch --kernel, or a resume of its snapshot):
 * vm_config.machine = &linux_machine, with kernel, initrd and cmdline.
 */
extern const struct vm_machine linux_machine;

#endif /* KVMDBG_USER_LINUX_H */
