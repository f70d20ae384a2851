// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state for the debugger. Registers are fetched once per stop (four
 * ioctls, each a few microseconds on these hosts) and kept until the next
 * resume; writes go back only for the register classes that changed.
 * Called on the gdb thread while the vCPU is parked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/debug_priv.h"
#include "user/kvmdbg_mod.h"

struct msr_one {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

static int kgs_base(int fd, uint64_t *val, bool set)
{
	struct msr_one m = {
		.hdr.nmsrs = 1,
		.e.index = X86_MSR_KERNEL_GS_BASE,
		.e.data = *val,
	};
	int r = ioctl(fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);

	if (r < 0)
		return -errno;
	if (r != 1)
		return -EIO;	/* KVM refused the MSR */
	*val = m.e.data;
	return 0;
}

static int fetch(int fd, struct x86_kvm_state *s)
{
	if (ioctl(fd, KVM_GET_REGS, &s->regs) || ioctl(fd, KVM_GET_SREGS, &s->sregs) ||
	    ioctl(fd, KVM_GET_FPU, &s->fpu))
		return -errno;
	/* Not fatal: gdb still gets every other register. */
	if (kgs_base(fd, &s->k_gs_base, false))
		s->k_gs_base = 0;
	return 0;
}

/*
 * With kvmdbg.ko one KVMDBG_SNAPSHOT fills every vCPU's cache at once, so
 * the rest of the stop (other threads, info vcpus) costs no ioctl.
 */
static int fetch_all(struct debug *d)
{
	struct kvmdbg_vcpu_state *st = calloc(d->nr_vcpus, sizeof(*st));
	int r = st ? vm__capture(d->vm, st) : -ENOMEM;

	for (int i = 0; !r && i < d->nr_vcpus; i++) {
		struct debug_vcpu *v = &d->vcpus[i];

		if (v->cached)
			continue;
		v->state.regs = st[i].regs;
		v->state.sregs = st[i].sregs;
		v->state.fpu = st[i].fpu;
		v->state.k_gs_base = st[i].msrs.entries[3].data;	/* KERNEL_GS_BASE */
		v->cached = true;
	}
	free(st);
	return r;
}

int debug_regs__get(struct debug *d, int vcpu, struct x86_kvm_state **s)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int r = -ENODEV;

	if (!v->cached && vm__uses_module(d->vm))
		r = fetch_all(d);
	if (!v->cached) {
		r = fetch(vm__vcpu_fd(d->vm, vcpu), &v->state);
		if (r)
			return r;
		v->cached = true;
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
	if (!r && (dirty & X86_DIRTY_SREGS) &&
	    ioctl(fd, KVM_SET_SREGS, &v->state.sregs))
		r = -errno;
	if (!r && (dirty & X86_DIRTY_FPU) && ioctl(fd, KVM_SET_FPU, &v->state.fpu))
		r = -errno;
	if (!r && (dirty & X86_DIRTY_MSRS))
		r = kgs_base(fd, &v->state.k_gs_base, true);
	/* KVM may have adjusted what we wrote (reserved bits): re-read. */
	v->cached = false;
	return r;
}

int debug_regs__set_rip(struct debug *d, int vcpu, uint64_t rip)
{
	struct x86_kvm_state *s;
	int r = debug_regs__get(d, vcpu, &s);

	if (r)
		return r;
	if (s->regs.rip == rip)
		return 0;
	s->regs.rip = rip;
	return debug_regs__put(d, vcpu, X86_DIRTY_REGS);
}

void debug_regs__invalidate(struct debug *d)
{
	for (int i = 0; i < d->nr_vcpus; i++)
		d->vcpus[i].cached = false;
}

int debug_regs__paging(struct debug *d, int vcpu, struct x86_paging *p)
{
	struct x86_kvm_state *s;
	int r = debug_regs__get(d, vcpu, &s);

	if (r)
		return r;
	*p = (struct x86_paging){
		.cr0 = s->sregs.cr0, .cr3 = s->sregs.cr3,
		.cr4 = s->sregs.cr4, .efer = s->sregs.efer,
	};
	return 0;
}

static void hw_regs(struct debug *d, int skip_slot, struct kvm_guest_debug *g)
{
	struct x86_hw_slots hw = d->hw;

	if (skip_slot >= 0)
		hw.slot[skip_slot].used = false;
	if (!x86_hw__count(&hw))
		return;
	g->control |= KVM_GUESTDBG_USE_HW_BP;
	for (int i = 0; i < X86_HW_SLOTS; i++)
		g->arch.debugreg[i] = hw.slot[i].used ? hw.slot[i].addr : 0;
	g->arch.debugreg[7] = x86_hw__dr7(&hw);
}

/*
 * Every resume programs each vCPU: SINGLESTEP when stepping, USE_SW_BP
 * while any int3 of ours is in memory (without it the guest's own int3s
 * go to the guest), USE_HW_BP with DR0-DR3/DR7 while slots are in use.
 * @skip_hw_slot (or -1) is left out, to step off a HW breakpoint.
 */
int debug_regs__guest_debug(struct debug *d, int vcpu, bool step,
			    int skip_hw_slot)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	struct kvm_guest_debug g;

	memset(&g, 0, sizeof(g));
	if (d->attached) {
		if (step)
			g.control |= KVM_GUESTDBG_SINGLESTEP |
				     (d->dbg_flags & KVM_GUESTDBG_BLOCKIRQ);
		if (d->sw.n)
			g.control |= KVM_GUESTDBG_USE_SW_BP;
		hw_regs(d, skip_hw_slot, &g);
		if (g.control)
			g.control |= KVM_GUESTDBG_ENABLE;
	}
	if (v->dbg_set && !memcmp(&g, &v->dbg, sizeof(g)))
		return 0;
	if (ioctl(vm__vcpu_fd(d->vm, vcpu), KVM_SET_GUEST_DEBUG, &g)) {
		v->dbg_set = false;
		return -errno;
	}
	v->dbg = g;
	v->dbg_set = true;
	return 0;
}
