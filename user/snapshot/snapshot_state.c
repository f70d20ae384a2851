// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state for snapshots: captured through vm__capture()
 * (user/vmm/vcpu_state.h: one KVMDBG_SNAPSHOT through kvmdbg.ko, else
 * KVM_GET_* on each parked vCPU) plus what that record lacks, and
 * restored through KVM_SET_* in QEMU's proven order before the vCPU
 * first runs.
 *
 * ELF guests have no in-kernel irqchip, PIT or LAPIC. A kind with an
 * irqchip (struct vm_machine, the Linux machine) saves its devices (PICs,
 * IOAPIC, PIT, kvmclock, COM1 UART) with the vCPUs, and each vCPU's LAPIC
 * and the kind's own MSRs too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/machine.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vcpu_state.h"
#include "user/lib/x86.h"

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

static_assert(NR_SNAP_MSRS + 8 <= SNAP_MAX_MSRS, "MSR record size");

/* The common MSRs, then the kind's (its TSC deadline: see vm__restore_vcpu()). */
static int state__get_msrs(int fd, struct vcpu_state *s, const struct vm_machine *m)
{
	uint32_t n = 0;

	if (NR_SNAP_MSRS + m->nr_msrs > SNAP_MAX_MSRS)
		return -E2BIG;
	memset(s->msrs, 0, sizeof(s->msrs));
	for (size_t i = 0; i < NR_SNAP_MSRS; i++)
		s->msrs[n++].index = snap_msrs[i];
	for (size_t i = 0; i < m->nr_msrs; i++)
		s->msrs[n++].index = m->msrs[i];
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
		r = state__get_msrs(fd, s, vm__machine(vm));
	if (r == 0 && vm__machine(vm)->irqchip) {
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
	if (!r && vm__machine(vm)->save_devices)
		r = vm__machine(vm)->save_devices(vm, &st->dev);
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

/*
 * A VMM that enabled exception payloads or triple-fault events (QEMU
 * does) gets vCPU events with those flags; KVM takes such events back
 * only on a VM that has them enabled too. Our own VMs never do, so only
 * a foreign snapshot's events turn them on, on the VM that resumes it.
 */
static int state__events_caps(struct vm *vm, const struct kvm_vcpu_events *ev)
{
	static const struct { uint32_t flag, cap; } caps[] = {
		{ KVM_VCPUEVENT_VALID_PAYLOAD, KVM_CAP_EXCEPTION_PAYLOAD },
		{ KVM_VCPUEVENT_VALID_TRIPLE_FAULT, KVM_CAP_X86_TRIPLE_FAULT_EVENT },
	};

	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		struct kvm_enable_cap c = { .cap = caps[k].cap, .args = { 1 } };

		if ((ev->flags & caps[k].flag) && ioctl(vm__vm_fd(vm), KVM_ENABLE_CAP, &c))
			return -errno;
	}
	return 0;
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
	r = state__events_caps(vm, &ev);
	if (r) {
		vm__errf_snap(err, err_len, i, "KVM_ENABLE_CAP for the events' exception payload or triple fault", r);
		return r;
	}
	SET(KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
	if (s->has_mp_state)
		SET(KVM_SET_MP_STATE, &s->mp, "KVM_SET_MP_STATE");
	SET(KVM_SET_DEBUGREGS, &s->dregs, "KVM_SET_DEBUGREGS");
	if (s->halted)
		vm__vcpu_set_halted(vm, i);
	vm__vcpu_regs_written(vm, i);
	return 0;
}

/* Before any vCPU's state (the kind's order: user/vmm/machine.h). */
int vm__restore_devices(struct vm *vm, const struct vm_state *st, char *err,
			size_t err_len)
{
	const struct vm_machine *m = vm__machine(vm);

	if (!st->dev.irqchip)
		return 0;
	if (!m->restore_devices) {
		snprintf(err, err_len, "the VM (%s machine) has no in-kernel irqchip to restore into",
			 m->name);
		return -EINVAL;
	}
	return m->restore_devices(vm, &st->dev, err, err_len);
}

/* After every vCPU's LAPIC is back: interrupts raised during the restore. */
void vm__restore_devices_done(struct vm *vm, const struct vm_state *st)
{
	if (st->dev.irqchip && vm__machine(vm)->devices_restored)
		vm__machine(vm)->devices_restored(vm);
}
