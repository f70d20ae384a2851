/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-mode boot state shared by the ELF/flat guest path (user/vmm/boot.c)
 * and the Linux path (user/linux/linux_boot.c). Internal to the VMM core.
 */
#ifndef KVMDBG_USER_BOOT_H
#define KVMDBG_USER_BOOT_H

#include <stdint.h>

#include "user/vmm/vm-priv.h"

#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_OSXMMEXCPT	(1ULL << 10)

/*
 * 64-bit long mode on the identity-mapped tables at GPA_PML4 and the GDT
 * at GPA_GDT: flat CS (selector cs, L=1) and DS/ES/FS/GS/SS (selector ds),
 * a busy 64-bit TSS at GPA_TSS (selector tss, the GDT's last entry, 16
 * bytes), no IDT, CR0 = PE|MP|ET|NE|WP|AM|PG, CR4 = PAE | cr4_extra,
 * EFER = LME|LMA. The caller's GDT must hold these selectors.
 * Return: 0 or -errno of KVM_GET_SREGS / KVM_SET_SREGS.
 */
int boot__set_long_mode_sregs(struct vcpu *vcpu, uint16_t cs, uint16_t ds,
			      uint16_t tss, uint64_t cr4_extra);

#endif /* KVMDBG_USER_BOOT_H */
