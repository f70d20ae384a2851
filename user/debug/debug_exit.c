// SPDX-License-Identifier: GPL-2.0
/*
 * The on_exit hook: runs on the vCPU thread for KVM_EXIT_DEBUG,
 * KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_MMIO (and SHUTDOWN/FAIL_ENTRY, which
 * we leave to the VMM). A stop the client must hear of is recorded as the
 * vCPU's pending stop and answered VM_HOOK_STOP; the VMM then parks every
 * vCPU and calls on_stopped (debug_run.c), which reports it.
 *
 * The on_crash hook: a guest that crashes (triple fault, internal error,
 * failed entry, ...) while a client is attached is held, as QEMU keeps a
 * crashed guest inspectable: reported as a SIGSEGV/SIGILL/SIGBUS stop with
 * the registers KVM left and memory readable, and ended with the status it
 * would have had without a debugger once the client continues, kills or
 * detaches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/debug/debug_priv.h"
#include "user/vmm/vcpu_state.h"

#define BP_VECTOR	3
#define DB_VECTOR	1

static enum vm_hook_ret stop(struct debug *d, int vcpu,
			     enum gdb_stop_reason reason, uint64_t addr)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];

	v->pending = (struct gdb_stop){
		.reason = reason, .thread = vcpu + 1, .signal = 5, .addr = addr,
	};
	v->has_pending = true;
	return VM_HOOK_STOP;
}

/*
 * A store into a page we made read-only for a write watchpoint (see
 * debug_bp.c). KVM did not perform it: apply it here (keeping any int3 of
 * ours in that page), then stop only if it touched a watched range. RIP
 * is already past the store, as gdb expects after a write watchpoint.
 */
static enum vm_hook_ret on_mmio(struct debug *d, int vcpu, struct kvm_run *run)
{
	uint64_t gpa = run->mmio.phys_addr, addr;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;

	if (!run->mmio.is_write || !debug_bp__page_protected(d, gpa))
		return VM_HOOK_UNHANDLED;
	if (debug_mem__store_phys(d, gpa, run->mmio.data, len))
		return VM_HOOK_UNHANDLED;
	if (d->attached && debug_bp__watch_hit(d, gpa, len, &addr))
		return stop(d, vcpu, GDB_STOP_WATCH, addr);
	return VM_HOOK_CONTINUE;
}

/* The byte at guest-virtual @rip, through this vCPU's page tables. */
static int byte_at(struct debug *d, int fd, uint64_t rip, uint8_t *byte)
{
	struct kvm_sregs sregs;
	struct x86_paging p;
	uint64_t gpa;
	uint8_t *hva;

	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		return -errno;
	p = (struct x86_paging){ .cr0 = sregs.cr0, .cr3 = sregs.cr3,
				 .cr4 = sregs.cr4, .efer = sregs.efer };
	if (debug_mem__translate(d, &p, rip, &gpa))
		return -EFAULT;
	hva = vm__gpa_to_hva(d->vm, gpa, 1);
	if (!hva)
		return -EFAULT;
	*byte = *hva;
	return 0;
}

/*
 * The guest's own int3, trapped only because USE_SW_BP is on for ours:
 * hand the #BP back to the guest. After a real #BP exit RIP stays on the
 * int3, as QEMU does: KVM injects #BP as a software exception and pushes
 * RIP plus the length of the instruction that exited. After the
 * emulation-failure quirk there is no such length (KVM pushes RIP as it
 * is), so RIP is moved past the one-byte int3 first, where the guest's
 * handler expects its trap frame to point.
 */
static enum vm_hook_ret reinject_bp(int fd, struct kvm_regs *regs,
				    bool emulation)
{
	struct kvm_vcpu_events ev;

	if (emulation) {
		regs->rip++;
		if (ioctl(fd, KVM_SET_REGS, regs))
			return VM_HOOK_UNHANDLED;
	}
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev))
		return VM_HOOK_UNHANDLED;
	ev.flags = 0;	/* leave NMI, SIPI, shadow and SMM state alone */
	ev.exception.injected = 1;
	ev.exception.nr = BP_VECTOR;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev))
		return VM_HOOK_UNHANDLED;
	return VM_HOOK_CONTINUE;
}

/*
 * The int3 at @b, which the client removed while this vCPU was executing
 * it: its byte is the guest's again. A spurious hit: run the restored
 * instruction (RIP back on it), as gdbserver does with a stale hit.
 */
static enum vm_hook_ret reexecute(struct debug *d, int fd,
				  struct kvm_regs *regs, const struct swbp *b)
{
	uint8_t *hva = vm__gpa_to_hva(d->vm, b->gpa, 1);

	if (!hva || *hva == X86_INT3)
		return VM_HOOK_UNHANDLED;	/* an int3 there after all */
	regs->rip = b->addr;
	if (ioctl(fd, KVM_SET_REGS, regs))
		return VM_HOOK_UNHANDLED;
	return VM_HOOK_CONTINUE;
}

/*
 * An int3 was hit with USE_SW_BP. Ours if RIP is on one of our int3s; if
 * KVM reported it with RIP past the int3, rewind RIP so the client sees
 * the breakpoint address (gdb's swbreak contract). One of ours removed
 * since the vCPU fetched it is re-executed.
 */
static enum vm_hook_ret on_int3(struct debug *d, int vcpu, bool emulation)
{
	int fd = vm__vcpu_fd(d->vm, vcpu);
	struct kvm_regs regs;
	struct swbp *gone;
	uint8_t byte = 0;

	/* Every path below may write RIP or events: kvm_run's copy is old. */
	vm__vcpu_regs_written(d->vm, vcpu);
	if (ioctl(fd, KVM_GET_REGS, &regs))
		return VM_HOOK_UNHANDLED;
	if (d->attached && swbp__find(&d->sw, regs.rip))
		return stop(d, vcpu, GDB_STOP_SWBREAK, 0);
	if (d->attached && !emulation && swbp__find(&d->sw, regs.rip - 1)) {
		regs.rip--;
		if (ioctl(fd, KVM_SET_REGS, &regs))
			return VM_HOOK_UNHANDLED;
		return stop(d, vcpu, GDB_STOP_SWBREAK, 0);
	}
	gone = swbp__find(&d->gone, regs.rip);
	if (!gone && !emulation)
		gone = swbp__find(&d->gone, regs.rip - 1);
	if (gone && !swbp__find_gpa(&d->sw, gone->gpa))
		return reexecute(d, fd, &regs, gone);
	if (byte_at(d, fd, regs.rip, &byte) || byte != X86_INT3)
		return VM_HOOK_UNHANDLED;	/* not an int3: a real error */
	return reinject_bp(fd, &regs, emulation);
}

static enum vm_hook_ret on_db(struct debug *d, int vcpu, struct kvm_run *run)
{
	uint64_t dr6 = run->debug.arch.dr6;
	int slot = x86_hw__hit(&d->hw, dr6);
	const struct x86_hw_slot *s = slot >= 0 ? &d->hw.slot[slot] : NULL;

	if (!d->attached)
		return VM_HOOK_CONTINUE;	/* stale: debugging is off now */
	if (s && s->type == X86_HW_EXEC)
		return stop(d, vcpu, GDB_STOP_HWBREAK, 0);
	if (s && s->type == X86_HW_WRITE)
		return stop(d, vcpu, GDB_STOP_WATCH, s->addr);
	if (s)
		return stop(d, vcpu, GDB_STOP_AWATCH, s->addr);
	/* Single-step done (DR6.BS), or a #DB we cannot attribute. */
	return stop(d, vcpu, GDB_STOP_SIGNAL, 0);
}

enum vm_hook_ret debug_exit__on_exit(void *ctx, struct vm *vm, int vcpu,
				     struct kvm_run *run)
{
	struct debug *d = ctx;
	enum vm_hook_ret ret = VM_HOOK_UNHANDLED;

	(void)vm;
	pthread_mutex_lock(&d->lock);
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		ret = on_mmio(d, vcpu, run);
		break;
	case KVM_EXIT_DEBUG:
		if (run->debug.arch.exception == BP_VECTOR)
			ret = on_int3(d, vcpu, false);
		else
			ret = on_db(d, vcpu, run);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		/*
		 * Host quirk (docs/debugging.md): on the CPL0-emulating KVM of our
		 * test hosts an int3 under KVM_GUESTDBG_USE_SW_BP comes back
		 * as an emulation failure with RIP on the int3, not as
		 * KVM_EXIT_DEBUG. On one of our int3s that is a breakpoint
		 * hit; anything else stays an internal error.
		 */
		if (d->sw.n || d->gone.n)
			ret = on_int3(d, vcpu, true);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* A triple fault is the guest's own unhandled fault; an internal error an
 * instruction KVM could not run; the rest (failed entry, ...) a bus error.
 */
static int crash_signal(int status)
{
	switch (status - VM_STATUS_CRASH) {
	case KVM_EXIT_SHUTDOWN:
		return GDB_SIGSEGV;
	case KVM_EXIT_INTERNAL_ERROR:
		return GDB_SIGILL;
	default:
		return GDB_SIGBUS;
	}
}

bool debug_exit__on_crash(void *ctx, struct vm *vm, int vcpu, const char *why,
			  int status)
{
	struct debug *d = ctx;
	bool hold;

	(void)vm;
	pthread_mutex_lock(&d->lock);
	hold = d->attached;
	if (hold && !d->crashed) {
		/* The first crash names the status; later ones are held too. */
		d->crashed = true;
		d->crash_vcpu = vcpu;
		d->crash_status = status;
		snprintf(d->crash_why, sizeof(d->crash_why), "%s", why);
	}
	if (hold) {
		stop(d, vcpu, GDB_STOP_SIGNAL, 0);
		d->vcpus[vcpu].pending.signal = crash_signal(status);
	}
	pthread_mutex_unlock(&d->lock);
	return hold;
}

bool debug_exit__end_crash(struct debug *d, bool reported)
{
	int status = 0;
	bool end;

	pthread_mutex_lock(&d->lock);
	end = d->crashed &&
	      (!reported || !d->vcpus[d->crash_vcpu].has_pending);
	if (end) {
		status = d->crash_status;
		d->resumed = true;	/* the client hears the exit */
	}
	pthread_mutex_unlock(&d->lock);
	if (end)
		vm__kill(d->vm, status);
	return end;
}

void debug_exit__info_crash(struct debug *d, gdb_print_fn print, void *out)
{
	pthread_mutex_lock(&d->lock);
	if (d->crashed)
		print(out, "%s; the guest ends with status %d when you continue, kill or detach\n",
		      d->crash_why, d->crash_status);
	else
		print(out, "no crash\n");
	pthread_mutex_unlock(&d->lock);
}
