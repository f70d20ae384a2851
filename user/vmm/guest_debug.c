// SPDX-License-Identifier: GPL-2.0
/*
 * Programming KVM's guest debugging: see user/vmm/guest_debug.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/guest_debug.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm-priv.h"
#include "user/lib/x86_debugreg.h"

int vm__set_guest_debug(struct vm *vm, int vcpu, const struct kvm_guest_debug *dbg)
{
	if (vcpu >= vm->nr_vcpus || vcpu < VM_ALL_VCPUS)
		return -EINVAL;
	if (vcpu != VM_ALL_VCPUS)
		return ioctl(vm->vcpus[vcpu].fd, KVM_SET_GUEST_DEBUG, dbg) ? -errno : 0;
	if (vm->kdbg)
		return kvmdbg_sess__guest_debug(vm->kdbg, dbg);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (ioctl(vm->vcpus[i].fd, KVM_SET_GUEST_DEBUG, dbg))
			return -errno;
	return 0;
}

void guest_debug__hw_exec(struct kvm_guest_debug *dbg, uint64_t addr)
{
	struct x86_hw_slots slots;
	int slot;

	memset(dbg, 0, sizeof(*dbg));
	memset(&slots, 0, sizeof(slots));
	if (!addr)
		return;
	slot = x86_hw__insert(&slots, X86_HW_EXEC, addr, 1);
	dbg->control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
	dbg->arch.debugreg[slot] = addr;
	dbg->arch.debugreg[7] = x86_hw__dr7(&slots);
}
