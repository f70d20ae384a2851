// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux machine's entry in the guest-kind table (user/vmm/machine.h):
 * the loader (linux_boot.c), the in-kernel irqchip, PIT and UART
 * (irqchip.c, serial.c) with their snapshot state, the ports
 * (linux_io.c), the structures below 1 MiB (linux-priv.h) and the CPUID
 * a Linux guest needs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "user/linux/linux.h"
#include "user/linux/linux-priv.h"
#include "user/lib/x86.h"

static int lm__open(struct vm *vm, const struct vm_config *cfg)
{
	struct linux_guest *lg = calloc(1, sizeof(*lg));
	int r;

	if (!lg) {
		errf__set(cfg->err, cfg->err_len, "out of memory");
		return -ENOMEM;
	}
	vm->machine_data = lg;
	r = linux__open(vm, cfg, &lg->image);
	lg->image_open = r == 0;
	return r;
}

/* On a resume there was no open: the state starts here. */
static int lm__init(struct vm *vm, const struct vm_config *cfg)
{
	if (!vm->machine_data)
		vm->machine_data = calloc(1, sizeof(struct linux_guest));
	if (!vm->machine_data) {
		errf__set(cfg->err, cfg->err_len, "out of memory");
		return -ENOMEM;
	}
	return linux__init_vm(vm, cfg->err, cfg->err_len);
}

static int lm__load(struct vm *vm, const struct vm_config *cfg)
{
	struct linux_guest *lg = linux__guest(vm);
	int r = linux__load(vm, cfg, &lg->image);

	linux__close(&lg->image);
	lg->image_open = false;
	return r;
}

static void lm__destroy(struct vm *vm)
{
	struct linux_guest *lg = linux__guest(vm);

	if (!lg)
		return;
	if (lg->image_open)
		linux__close(&lg->image);
	linux__destroy(vm);
	free(lg);
	vm->machine_data = NULL;
}

static void lm__cpuid(struct vm *vm, struct kvm_cpuid_entry2 *e)
{
	(void)vm;
	/* KVM leaves the hypervisor bit to us; Linux finds kvmclock by it. */
	if (e->function == 1)
		e->ecx |= 1u << 31;
	/*
	 * KVM offers LA57 from raw CPUID even when the host runs 4-level
	 * paging (the test VM's nested SVM): Linux's switch to 5-level
	 * paging then triple-faults. Linux guests get 4 levels.
	 */
	if (e->function == 7 && e->index == 0)
		e->ecx &= ~(1u << 16 | 1u << 3);	/* LA57, PKU */
	/* Nested SVM reports a PKRU xstate layout Linux rejects (a WARN in
	 * fpu__init_system_xstate): no PKU for Linux guests.
	 */
	if (e->function == 0xd && e->index == 0) {
		e->eax &= ~(1u << 9);
		e->ecx = 0x340;		/* legacy area + header + AVX */
	}
}

static int lm__regions(struct vm *vm, struct vm_region *r)
{
	return linux__layout_regions(linux__guest(vm)->cmdline_size, r);
}

static void lm__describe(struct vm *vm, vm_print_fn print, void *out)
{
	print(out, "  0x%08llx-0x%08" PRIx64 "  the kernel, its initrd and free RAM (e820 usable)\n",
	      LINUX_GPA_KERNEL, vm->mem_size);
}

/*
 * A Linux guest's further MSRs: kvmclock (without it the guest's clock
 * reads a stale pvclock page), the other KVM paravirt MSRs it enables,
 * and the TSC deadline, which KVM only accepts once the LAPIC is in
 * TSC-deadline mode (the snapshot restore writes it again after the
 * LAPIC).
 */
static const uint32_t lm_msrs[] = {
	X86_MSR_KVM_WALL_CLOCK_NEW, X86_MSR_KVM_SYSTEM_TIME_NEW,
	X86_MSR_KVM_ASYNC_PF_EN, X86_MSR_KVM_STEAL_TIME,
	X86_MSR_KVM_PV_EOI_EN, X86_MSR_KVM_ASYNC_PF_INT,
	X86_MSR_TSC_DEADLINE,
};

const struct vm_machine linux_machine = {
	.name			= "Linux",
	.irqchip		= true,
	.reset_ends		= true,
	.msrs			= lm_msrs,
	.nr_msrs		= sizeof(lm_msrs) / sizeof(lm_msrs[0]),
	.open			= lm__open,
	.init			= lm__init,
	.load			= lm__load,
	.cpuid			= lm__cpuid,
	.setup_vcpu		= linux__setup_vcpu,
	.io			= linux__io,
	.regions		= lm__regions,
	.describe		= lm__describe,
	.save_devices		= linux__save_devices,
	.restore_devices	= linux__restore_devices,
	.devices_restored	= linux__devices_restored,
	.core_layout		= linux__core_layout,
	.destroy		= lm__destroy,
};
