/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 architectural constants (Intel SDM vol. 3): control-register and
 * EFER bits, page-table entry bits, and the MSR indices the VMM, the
 * debugger and snapshots name. Constants only; every user/ part may
 * include it.
 */
#ifndef KVMDBG_USER_X86_H
#define KVMDBG_USER_X86_H

#define X86_CR0_PE		(1ull << 0)
#define X86_CR0_MP		(1ull << 1)
#define X86_CR0_ET		(1ull << 4)
#define X86_CR0_NE		(1ull << 5)
#define X86_CR0_WP		(1ull << 16)
#define X86_CR0_AM		(1ull << 18)
#define X86_CR0_PG		(1ull << 31)

#define X86_CR4_PSE		(1ull << 4)
#define X86_CR4_PAE		(1ull << 5)
#define X86_CR4_OSFXSR		(1ull << 9)
#define X86_CR4_OSXMMEXCPT	(1ull << 10)
#define X86_CR4_LA57		(1ull << 12)

#define X86_EFER_LME		(1ull << 8)
#define X86_EFER_LMA		(1ull << 10)

#define X86_PTE_P		(1ull << 0)
#define X86_PTE_RW		(1ull << 1)
#define X86_PTE_PS		(1ull << 7)
/* Bits 12..51: the physical address field of a 64-bit entry. */
#define X86_PTE_ADDR		0x000ffffffffff000ull

#define X86_INT3		0xcc

#define X86_MSR_TSC		0x10u
#define X86_MSR_SYSENTER_CS	0x174u
#define X86_MSR_SYSENTER_ESP	0x175u
#define X86_MSR_SYSENTER_EIP	0x176u
#define X86_MSR_MISC_ENABLE	0x1a0u
#define X86_MSR_PAT		0x277u
#define X86_MSR_TSC_DEADLINE	0x6e0u
#define X86_MSR_EFER		0xc0000080u
#define X86_MSR_STAR		0xc0000081u
#define X86_MSR_LSTAR		0xc0000082u
#define X86_MSR_CSTAR		0xc0000083u
#define X86_MSR_SFMASK		0xc0000084u
#define X86_MSR_FS_BASE		0xc0000100u
#define X86_MSR_GS_BASE		0xc0000101u
#define X86_MSR_KERNEL_GS_BASE	0xc0000102u
#define X86_MSR_TSC_AUX		0xc0000103u

/* KVM's paravirtual MSRs (Documentation/virt/kvm/x86/msr.rst). */
#define X86_MSR_KVM_WALL_CLOCK_NEW	0x4b564d00u
#define X86_MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01u
#define X86_MSR_KVM_ASYNC_PF_EN		0x4b564d02u
#define X86_MSR_KVM_STEAL_TIME		0x4b564d03u
#define X86_MSR_KVM_PV_EOI_EN		0x4b564d04u
#define X86_MSR_KVM_ASYNC_PF_INT	0x4b564d06u

#endif /* KVMDBG_USER_X86_H */
