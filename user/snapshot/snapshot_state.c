// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state for snapshots: captured through vm__capture()
 * (user/vmm/vcpu_state.h: one KVMDBG_SNAPSHOT through kvmdbg.ko, else
 * KVM_GET_* on each parked vCPU) plus what that record lacks, and
 * restored through KVM_SET_* in QEMU's proven order before the vCPU
 * first runs.
 *
 * ELF guests have no in-kernel irqchip, PIT or LAPIC. Linux guests
 * (vm->lguest) do: their PICs, IOAPIC, PIT, kvmclock and COM1 UART are
 * captured with the vCPUs, and each vCPU's LAPIC and paravirt MSRs too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/linux/linux-priv.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vcpu_state.h"
#include "user/lib/x86.h"

static_assert(SNAP_UART_SIZE == SERIAL_STATE_SIZE, "UART record size");

/* MSRs a guest of this VMM (or a Linux guest) may have set. EFER is in
 * sregs too; saving it here as well costs nothing.
 */
static const uint32_t snap_msrs[] = {
	X86_MSR_EFER, X86_MSR_STAR, X86_MSR_LSTAR, X86_MSR_CSTAR,
	X86_MSR_SFMASK, X86_MSR_FS_BASE, X86_MSR_GS_BASE,
	X86_MSR_KERNEL_GS_BASE, X86_MSR_TSC_AUX, X86_MSR_SYSENTER_CS,
	X86_MSR_SYSENTER_ESP, X86_MSR_SYSENTER_EIP, X86_MSR_PAT,
	X86_MSR_MISC_ENABLE, X86_MSR_TSC,
};
#define NR_SNAP_MSRS	(sizeof(snap_msrs) / sizeof(snap_msrs[0]))

/*
 * A Linux guest's further MSRs: kvmclock (without it the guest's clock
 * reads a stale pvclock page), the other KVM paravirt MSRs it enables,
 * and the TSC deadline, which KVM only accepts once the LAPIC is in
 * TSC-deadline mode: vm__restore_vcpu() writes it again after the LAPIC.
 * Only for VMs with an irqchip, so ELF-guest snapshots do not change.
 */
static const uint32_t linux_msrs[] = {
	X86_MSR_KVM_WALL_CLOCK_NEW, X86_MSR_KVM_SYSTEM_TIME_NEW,
	X86_MSR_KVM_ASYNC_PF_EN, X86_MSR_KVM_STEAL_TIME,
	X86_MSR_KVM_PV_EOI_EN, X86_MSR_KVM_ASYNC_PF_INT,
	X86_MSR_TSC_DEADLINE,
};
#define NR_LINUX_MSRS	(sizeof(linux_msrs) / sizeof(linux_msrs[0]))
static_assert(NR_SNAP_MSRS + NR_LINUX_MSRS <= SNAP_MAX_MSRS, "MSR record size");

static int state__get_msrs(int fd, struct vcpu_state *s, bool linux)
{
	uint32_t n = 0;

	memset(s->msrs, 0, sizeof(s->msrs));
	for (size_t i = 0; i < NR_SNAP_MSRS; i++)
		s->msrs[n++].index = snap_msrs[i];
	for (size_t i = 0; linux && i < NR_LINUX_MSRS; i++)
		s->msrs[n++].index = linux_msrs[i];
	s->nr_msrs = n;
	return vcpu__get_msrs(fd, s->msrs, &s->nr_msrs);
}

static int state__get_fpu(struct vm *vm, int fd, struct vcpu_state *s)
{
	bool xsave2;
	uint32_t size = vm__xsave_size(vm, &xsave2);
	int r;

	r = vcpu__get_fpu(fd, false, NULL, &s->fpu);
	if (r || !size)
		return r;
	s->xsave = calloc(1, size);
	if (!s->xsave)
		return -ENOMEM;
	s->xsave_size = size;
	r = vcpu__get_fpu(fd, xsave2, s->xsave, NULL);
	if (r)
		return r;
	if (ioctl(vm__vm_fd(vm), KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0) {
		if (ioctl(fd, KVM_GET_XCRS, &s->xcrs))
			return -errno;
		s->has_xcrs = true;
	}
	return 0;
}

/*
 * The rest of a vCPU's state, which the capture record does not hold:
 * XSAVE, XCRs, MP state and the MSRs beyond its four. The world is still
 * held, so these belong to the same point in time.
 */
static int state__get_extra(struct vm *vm, int i, struct vcpu_state *s)
{
	int fd = vm__vcpu_fd(vm, i);
	int r;

	s->has_mp_state = ioctl(fd, KVM_GET_MP_STATE, &s->mp) == 0;
	r = state__get_fpu(vm, fd, s);
	if (r == 0)
		r = state__get_msrs(fd, s, vm->lguest != NULL);
	if (r == 0 && vm->lguest) {
		if (ioctl(fd, KVM_GET_LAPIC, &s->lapic))
			return -errno;
		s->has_lapic = true;
	}
	s->halted = vm__vcpu_halted(vm, i);
	return r;
}

/*
 * Regs, sregs, debug registers and events of every vCPU from one
 * vm__capture() (one KVMDBG_SNAPSHOT through kvmdbg.ko), then
 * state__get_extra() for each.
 */
static int state__get_vcpus(struct vm *vm, struct vm_state *st)
{
	struct kvmdbg_vcpu_state *rec = calloc(st->nr_vcpus, sizeof(*rec));
	int r;

	if (!rec)
		return -ENOMEM;
	r = vm__capture(vm, VM_ALL_VCPUS, rec);
	r = r < 0 ? r : 0;
	for (int i = 0; i < st->nr_vcpus && !r; i++) {
		struct vcpu_state *s = &st->vcpu[i];

		s->regs = rec[i].regs;
		s->sregs = rec[i].sregs;
		s->dregs = rec[i].debugregs;
		s->events = rec[i].events;
		r = state__get_extra(vm, i, s);
	}
	free(rec);
	return r;
}

/*
 * The in-kernel devices of a Linux guest, while the world is held: the
 * PICs' and IOAPIC's registers and pin levels, the PIT's counters, the
 * kvmclock and the UART's registers (its RX FIFO is host input not yet
 * read: not guest state).
 */
static int state__get_devices(struct vm *vm, struct vm_state *st)
{
	static const uint32_t chips[3] = {
		KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
	};

	for (int i = 0; i < 3; i++) {
		st->chip[i].chip_id = chips[i];
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &st->chip[i]))
			return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &st->pit) ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, &st->clock))
		return -errno;
	serial__save(vm->lguest->com1, st->uart);
	st->irqchip = true;
	return 0;
}

int vm__capture_state(struct vm *vm, struct vm_state *st)
{
	int n = vm__nr_vcpus(vm), r;

	memset(st, 0, sizeof(*st));
	st->vcpu = calloc(n, sizeof(*st->vcpu));
	if (!st->vcpu)
		return -ENOMEM;
	st->nr_vcpus = n;
	st->capture_path = vm__uses_module(vm) ? 1 : 0;
	r = state__get_vcpus(vm, st);
	if (!r && vm->lguest)
		r = state__get_devices(vm, st);
	if (r)
		vm_state__free(st);
	return r;
}

void vm_state__free(struct vm_state *st)
{
	for (int i = 0; st->vcpu && i < st->nr_vcpus; i++)
		free(st->vcpu[i].xsave);
	free(st->vcpu);
	st->vcpu = NULL;
	st->nr_vcpus = 0;
}

static int state__set_msrs(int fd, const struct vcpu_state *s)
{
	return vcpu__set_msrs(fd, s->msrs, s->nr_msrs);
}

/* KVM ignored the TSC deadline in the MSR pass (LAPIC not yet in
 * TSC-deadline mode); now that the LAPIC is back, it takes it.
 */
static int state__set_tsc_deadline(int fd, const struct vcpu_state *s)
{
	for (uint32_t k = 0; k < s->nr_msrs; k++) {
		uint64_t val = s->msrs[k].data;

		if (s->msrs[k].index == X86_MSR_TSC_DEADLINE)
			return vcpu__msr(fd, X86_MSR_TSC_DEADLINE, &val, true) ?
			       -EINVAL : 0;
	}
	return 0;
}

#define SET(req, arg, what) do {					\
		if (ioctl(fd, req, arg)) {				\
			r = -errno;					\
			vm__errf_snap(err, err_len, i, what, r);	\
			return r;					\
		}							\
	} while (0)

static void vm__errf_snap(char *err, size_t len, int i, const char *what, int r)
{
	if (err && len)
		snprintf(err, len, "vCPU %d: %s failed: %s", i, what, strerror(-r));
}

int vm__restore_vcpu(struct vm *vm, int i, const struct vcpu_state *s,
		     char *err, size_t err_len)
{
	int fd = vm__vcpu_fd(vm, i), r;
	struct kvm_vcpu_events ev = s->events;

	SET(KVM_SET_REGS, &s->regs, "KVM_SET_REGS");
	if (s->xsave)
		SET(KVM_SET_XSAVE, s->xsave, "KVM_SET_XSAVE");
	else
		SET(KVM_SET_FPU, &s->fpu, "KVM_SET_FPU");
	if (s->has_xcrs)
		SET(KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS");
	SET(KVM_SET_SREGS, &s->sregs, "KVM_SET_SREGS");
	vm__vcpu_set_cr8(vm, i, s->sregs.cr8);
	r = state__set_msrs(fd, s);
	if (r) {
		vm__errf_snap(err, err_len, i, "KVM_SET_MSRS", r);
		return r;
	}
	/* After SREGS (its apic_base picks xAPIC/x2APIC), before EVENTS. */
	if (s->has_lapic) {
		SET(KVM_SET_LAPIC, &s->lapic, "KVM_SET_LAPIC");
		r = state__set_tsc_deadline(fd, s);
		if (r) {
			vm__errf_snap(err, err_len, i, "KVM_SET_MSRS (TSC deadline)", r);
			return r;
		}
	}
	/* What GET reported as valid, plus the fields QEMU also restores. */
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	SET(KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
	if (s->has_mp_state)
		SET(KVM_SET_MP_STATE, &s->mp, "KVM_SET_MP_STATE");
	SET(KVM_SET_DEBUGREGS, &s->dregs, "KVM_SET_DEBUGREGS");
	if (s->halted)
		vm__vcpu_set_halted(vm, i);
	return 0;
}

/*
 * Before any vCPU's state: the irqchip first (the LAPICs restored next
 * deliver into it), then the PIT, the kvmclock (flags cleared so KVM sets
 * the clock to the captured value instead of adding the time the
 * snapshot sat on disk: the guest sees a pause, as under QEMU) and the
 * UART's registers.
 */
int vm__restore_devices(struct vm *vm, const struct vm_state *st, char *err,
			size_t err_len)
{
	struct kvm_clock_data clock = st->clock;
	const char *what = "KVM_SET_IRQCHIP";

	if (!st->irqchip)
		return 0;
	if (!vm->lguest) {
		snprintf(err, err_len, "the VM has no in-kernel irqchip to restore into");
		return -EINVAL;
	}
	for (int i = 0; i < 3; i++)
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &st->chip[i]))
			goto fail;
	what = "KVM_SET_PIT2";
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &st->pit))
		goto fail;
	what = "KVM_SET_CLOCK";
	clock.flags = 0;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock))
		goto fail;
	serial__load(vm->lguest->com1, st->uart);
	return 0;
fail:
	{
		int e = errno;

		snprintf(err, err_len, "devices: %s failed: %s", what, strerror(e));
		return -e;
	}
}

/* After every vCPU's LAPIC is back: interrupts raised during the restore. */
void vm__restore_devices_done(struct vm *vm, const struct vm_state *st)
{
	if (st->irqchip && vm->lguest)
		serial__resync_irq(vm->lguest->com1);
}
