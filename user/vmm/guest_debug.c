// SPDX-License-Identifier: GPL-2.0
/*
 * Programming KVM's guest debugging: see user/vmm/guest_debug.h.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/guest_debug.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm-priv.h"

/*
 * Protects every VM's gd_reserved and vcpu->gd, and orders the ioctls so
 * KVM always ends with the latest merge: the debugger (gdb thread) and the
 * snapshot service (its own thread, world held) may change them at once.
 * One lock for all VMs: changes are rare and short, and it needs no setup.
 */
static pthread_mutex_t gd_lock = PTHREAD_MUTEX_INITIALIZER;

/* What KVM should have for @v: its wish plus the reserved slots. */
static void merge(const struct vm *vm, const struct guest_debug_vcpu *v,
		  struct kvm_guest_debug *g)
{
	struct x86_hw_slots all = vm->gd_reserved;

	for (int i = 0; i < X86_HW_SLOTS; i++)
		if (v->hw.slot[i].used && !all.slot[i].used)
			all.slot[i] = v->hw.slot[i];
	memset(g, 0, sizeof(*g));
	g->control = v->control;
	if (x86_hw__count(&all)) {
		g->control |= KVM_GUESTDBG_USE_HW_BP;
		for (int i = 0; i < X86_HW_SLOTS; i++)
			g->arch.debugreg[i] = all.slot[i].used ? all.slot[i].addr : 0;
		g->arch.debugreg[7] = x86_hw__dr7(&all);
	}
	if (g->control)
		g->control |= KVM_GUESTDBG_ENABLE;
}

/*
 * gd_lock held. KVM has @g for @vcpu (when @sent). While guest debugging
 * is on, its KVM_RUNs leave the registers in kvm_run (vcpu.c).
 */
static void set_sent(struct vcpu *vcpu, const struct kvm_guest_debug *g,
		     bool sent)
{
	vcpu->gd.last = *g;
	vcpu->gd.sent = sent;
	__atomic_store_n(&vcpu->sync_want, sent && g->control != 0,
			 __ATOMIC_RELAXED);
}

/* gd_lock held. Tell KVM @vcpu's merge unless it has it already. */
static int apply_vcpu(struct vm *vm, int i)
{
	struct vcpu *vcpu = &vm->vcpus[i];
	struct kvm_guest_debug g;

	merge(vm, &vcpu->gd, &g);
	if (vcpu->gd.sent && !memcmp(&g, &vcpu->gd.last, sizeof(g)))
		return 0;
	vcpu->gd.sent = false;
	if (ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &g))
		return -errno;
	set_sent(vcpu, &g, true);
	return 0;
}

/*
 * gd_lock held. Every vCPU's merge: one kvmdbg.ko call when they are all
 * the same (no debugger wishes differ), else vCPU by vCPU.
 */
static int apply_all(struct vm *vm)
{
	struct kvm_guest_debug g, gi;
	bool same = vm->kdbg != NULL;
	int r = 0;

	merge(vm, &vm->vcpus[0].gd, &g);
	for (int i = 1; same && i < vm->nr_vcpus; i++) {
		merge(vm, &vm->vcpus[i].gd, &gi);
		same = !memcmp(&g, &gi, sizeof(g));
	}
	if (!same) {
		for (int i = 0; i < vm->nr_vcpus && !r; i++)
			r = apply_vcpu(vm, i);
		return r;
	}
	r = kvmdbg_sess__guest_debug(vm->kdbg, &g);
	for (int i = 0; i < vm->nr_vcpus; i++)
		set_sent(&vm->vcpus[i], &g, !r);
	return r;
}

int guest_debug__set_vcpu(struct vm *vm, int vcpu, uint32_t control,
			  const struct x86_hw_slots *hw)
{
	struct guest_debug_vcpu *v;
	int r = 0;

	if (vcpu < 0 || vcpu >= vm->nr_vcpus)
		return -EINVAL;
	v = &vm->vcpus[vcpu].gd;
	pthread_mutex_lock(&gd_lock);
	for (int i = 0; hw && i < X86_HW_SLOTS; i++)
		if (hw->slot[i].used && vm->gd_reserved.slot[i].used)
			r = -EBUSY;
	if (!r) {
		v->control = control & ~(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP);
		memset(&v->hw, 0, sizeof(v->hw));
		if (hw)
			v->hw = *hw;
		r = apply_vcpu(vm, vcpu);
	}
	pthread_mutex_unlock(&gd_lock);
	return r;
}

/* gd_lock held. Is slot @i free of reservations and of every wish? */
static bool slot_free(struct vm *vm, int i)
{
	if (vm->gd_reserved.slot[i].used)
		return false;
	for (int k = 0; k < vm->nr_vcpus; k++)
		if (vm->vcpus[k].gd.hw.slot[i].used)
			return false;
	return true;
}

int guest_debug__reserve_exec(struct vm *vm, uint64_t addr)
{
	struct x86_hw_slot *s;
	int slot = -ENOSPC, r;

	pthread_mutex_lock(&gd_lock);
	for (int i = 0; i < X86_HW_SLOTS && slot < 0; i++)
		if (slot_free(vm, i))
			slot = i;
	if (slot >= 0) {
		s = &vm->gd_reserved.slot[slot];
		*s = (struct x86_hw_slot){ .used = true, .type = X86_HW_EXEC,
					   .addr = addr, .len = 1 };
		r = apply_all(vm);
		if (r) {
			s->used = false;
			apply_all(vm);
			slot = r;
		}
	}
	pthread_mutex_unlock(&gd_lock);
	return slot;
}

int guest_debug__release(struct vm *vm, int slot)
{
	int r;

	if (slot < 0 || slot >= X86_HW_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&gd_lock);
	r = vm->gd_reserved.slot[slot].used ? 0 : -ENOENT;
	vm->gd_reserved.slot[slot].used = false;
	if (!r)
		r = apply_all(vm);
	pthread_mutex_unlock(&gd_lock);
	return r;
}

unsigned int guest_debug__reserved(struct vm *vm)
{
	unsigned int mask = 0;

	pthread_mutex_lock(&gd_lock);
	for (int i = 0; i < X86_HW_SLOTS; i++)
		mask |= (unsigned int)vm->gd_reserved.slot[i].used << i;
	pthread_mutex_unlock(&gd_lock);
	return mask;
}
