// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state for the debugger. Registers are fetched once per stop (one
 * vm__capture(), user/vmm/vcpu_state.h) and kept until the next resume;
 * writes go back only for the register classes that changed. Called on
 * the gdb thread while the vCPU is parked.
 *
 * x87/SSE/AVX state goes through KVM_GET_XSAVE(2)/KVM_SET_XSAVE: KVM's
 * KVM_GET_FPU leaves MXCSR out (0 on read, dropped on write) and has no
 * AVX. KVM_GET_FPU is used only where KVM has no KVM_CAP_XSAVE.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/debug/debug_priv.h"
#include "user/vmm/guest_debug.h"
#include "user/vmm/vcpu_state.h"

/* Up to this many CPUID entries are read back from a vCPU. */
#define CPUID_MAX_ENT	256

/*
 * Where the vCPU's AVX state (XSAVE component 2, YMM_Hi128) sits in the
 * XSAVE area, or 0 when it has none: its CPUID (as the VMM set it, read
 * back with KVM_GET_CPUID2) must list AVX among the XCR0 bits it supports
 * (leaf 0xD.0 EAX) and place the component (0xD.2: size, offset) inside
 * the area KVM hands out.
 */
static uint32_t avx_offset(int fd, uint32_t xsave_size)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      CPUID_MAX_ENT * sizeof(c->entries[0]));
	uint32_t xcr0 = 0, size = 0, off = 0;

	if (!c)
		return 0;
	c->nent = CPUID_MAX_ENT;
	if (ioctl(fd, KVM_GET_CPUID2, c))
		c->nent = 0;
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0xd && e->index == 0)
			xcr0 = e->eax;
		if (e->function == 0xd && e->index == 2) {
			size = e->eax;
			off = e->ebx;
		}
	}
	free(c);
	if (!(xcr0 & X86_XFEATURE_AVX) || size != X86_AVX_SIZE ||
	    off < X86_XSAVE_MIN || off > xsave_size - X86_AVX_SIZE)
		return 0;
	return off;
}

int debug_regs__init(struct debug *d)
{
	uint32_t size = vm__xsave_size(d->vm, &d->xsave2);

	d->capture = calloc(d->nr_vcpus, sizeof(*d->capture));
	if (!d->capture)
		return -ENOMEM;
	d->xsave_size = size;
	if (!size)
		return 0;
	d->avx_offset = avx_offset(vm__vcpu_fd(d->vm, 0), d->xsave_size);
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct x86_kvm_state *s = &d->vcpus[i].state;

		s->xsave = calloc(1, d->xsave_size);
		if (!s->xsave)
			return -ENOMEM;
		s->xsave_size = d->xsave_size;
		s->avx_offset = d->avx_offset;
	}
	return 0;
}

void debug_regs__free(struct debug *d)
{
	for (int i = 0; d->vcpus && i < d->nr_vcpus; i++)
		free(d->vcpus[i].state.xsave);
	free(d->capture);
}

unsigned int debug_regs__sets(void *ctx)
{
	struct debug *d = ctx;

	return d->avx_offset ? GDB_REGS_AVX : 0;
}

/*
 * One vm__capture() per stop: through kvmdbg.ko it fills every vCPU's
 * cache at once, so the rest of the stop (other threads, info vcpus)
 * costs no ioctl; without it, @vcpu's alone.
 */
static int fetch(struct debug *d, int vcpu)
{
	struct kvmdbg_vcpu_state *st = d->capture;
	int n = vm__capture(d->vm, vcpu, st);

	for (int i = 0; n > 0 && i < d->nr_vcpus; i++) {
		struct debug_vcpu *v = &d->vcpus[i];

		if (v->cached || (n == 1 && i != vcpu))
			continue;
		v->state.regs = st[i].regs;
		v->state.sregs = st[i].sregs;
		v->state.k_gs_base =
			st[i].msrs.entries[KVMDBG_MSR_KERNEL_GS_BASE].data;
		v->cached = true;
		/* The record has no XSAVE area: vcpu__get_fpu() reads that. */
		if (!v->state.xsave) {
			v->state.fpu = st[i].fpu;
			v->fpu_cached = true;
		}
	}
	return n < 0 ? n : 0;
}

/*
 * A stop report, a page walk, a step off a breakpoint need regs and
 * sregs only: after a KVM_RUN with guest debugging on they come from
 * kvm_run (vm__vcpu_regs), so a step costs no register ioctl.
 */
int debug_regs__core(struct debug *d, int vcpu, struct x86_kvm_state **s)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int r;

	if (!v->cached && !v->core_cached) {
		r = vm__vcpu_regs(d->vm, vcpu, &v->state.regs, &v->state.sregs);
		if (r)
			return r;
		v->core_cached = true;
	}
	*s = &v->state;
	return 0;
}

/* The rest of the record once regs and sregs are cached: KERNEL_GS_BASE. */
static int fetch_rest(struct debug *d, int vcpu)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int r = vcpu__msr(vm__vcpu_fd(d->vm, vcpu), X86_MSR_KERNEL_GS_BASE,
			  &v->state.k_gs_base, false);

	if (r)
		return r;
	v->cached = true;
	return 0;
}

int debug_regs__get(struct debug *d, int vcpu, struct x86_kvm_state **s)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int r;

	if (!v->cached) {
		r = v->core_cached ? fetch_rest(d, vcpu) : fetch(d, vcpu);
		if (r)
			return r;
	}
	if (!v->fpu_cached) {
		r = vcpu__get_fpu(vm__vcpu_fd(d->vm, vcpu), d->xsave2,
				  v->state.xsave, &v->state.fpu);
		if (r)
			return r;
		v->fpu_cached = true;
	}
	*s = &v->state;
	return 0;
}

int debug_regs__put(struct debug *d, int vcpu, unsigned int dirty)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int fd = vm__vcpu_fd(d->vm, vcpu);
	int r = 0;

	if ((dirty & X86_DIRTY_REGS) && ioctl(fd, KVM_SET_REGS, &v->state.regs))
		r = -errno;
	if (!r && (dirty & X86_DIRTY_SREGS)) {
		if (ioctl(fd, KVM_SET_SREGS, &v->state.sregs))
			r = -errno;
		else
			vm__vcpu_set_cr8(d->vm, vcpu, v->state.sregs.cr8);
	}
	if (!r && (dirty & X86_DIRTY_FPU) &&
	    (v->state.xsave ? ioctl(fd, KVM_SET_XSAVE, v->state.xsave) :
	     ioctl(fd, KVM_SET_FPU, &v->state.fpu)))
		r = -errno;
	if (!r && (dirty & X86_DIRTY_MSRS))
		r = vcpu__msr(fd, X86_MSR_KERNEL_GS_BASE, &v->state.k_gs_base,
			      true);
	/* KVM may have adjusted what we wrote (reserved bits): re-read. */
	vm__vcpu_regs_written(d->vm, vcpu);
	v->cached = false;
	v->core_cached = false;
	v->fpu_cached = false;
	return r;
}

void debug_regs__invalidate(struct debug *d)
{
	for (int i = 0; i < d->nr_vcpus; i++) {
		d->vcpus[i].cached = false;
		d->vcpus[i].core_cached = false;
		d->vcpus[i].fpu_cached = false;
	}
}

int debug_regs__paging(struct debug *d, int vcpu, struct x86_paging *p)
{
	struct x86_kvm_state *s;
	int r = debug_regs__core(d, vcpu, &s);

	if (r)
		return r;
	*p = (struct x86_paging){
		.cr0 = s->sregs.cr0, .cr3 = s->sregs.cr3,
		.cr4 = s->sregs.cr4, .efer = s->sregs.efer,
	};
	return 0;
}

/*
 * Every resume programs each vCPU: SINGLESTEP when stepping, USE_SW_BP
 * while any int3 of ours is in memory (without it the guest's own int3s
 * go to the guest), our DR slots while any is in use; guest_debug.c adds
 * other users' reserved slots (--snapshot-at) and tells KVM when it
 * changed. @skip_hw_slot (or -1) is left out, to step off a HW breakpoint.
 */
int debug_regs__guest_debug(struct debug *d, int vcpu, bool step,
			    int skip_hw_slot)
{
	struct x86_hw_slots hw;
	uint32_t control = 0;

	memset(&hw, 0, sizeof(hw));
	if (d->attached) {
		if (step)
			control |= KVM_GUESTDBG_SINGLESTEP |
				   (d->dbg_flags & KVM_GUESTDBG_BLOCKIRQ);
		if (d->sw.n)
			control |= KVM_GUESTDBG_USE_SW_BP;
		hw = d->hw;
		if (skip_hw_slot >= 0)
			hw.slot[skip_hw_slot].used = false;
	}
	return guest_debug__set_vcpu(d->vm, vcpu, control, &hw);
}
