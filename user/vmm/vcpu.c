// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU threads and the run state: the KVM_RUN loop, exit dispatch,
 * parking, stop-the-world from userspace (vm__pause, a hook's stop,
 * quiesce), resume, halt and guest exit.
 *
 * Kicking: a vCPU spinning in the guest leaves KVM_RUN only on an exit or
 * a pending signal. To stop one we set run->immediate_exit and send the
 * kick signal to its own thread. immediate_exit closes the race where the
 * signal lands just before the thread enters KVM_RUN: the thread clears it
 * under vm->lock only after checking it may run, so a kick that comes
 * later always makes KVM_RUN return -EINTR.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm-priv.h"

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void vcpu__kick_handler(int sig)
{
	(void)sig;	/* its only job is to interrupt KVM_RUN */
}

static void vcpu__install_kick(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu__kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: KVM_RUN must return -EINTR */
	sigaction(vm__kick_signal(), &sa, NULL);
}

int vm__kick_signal(void)
{
	return SIGRTMIN + 1;
}

/* vm->lock held. Parked vCPUs need no kick: they re-check under the lock. */
static void vcpu__kick(struct vcpu *vcpu)
{
	if (!vcpu->started || vcpu->parked)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (!pthread_equal(vcpu->thread, pthread_self()))
		pthread_kill(vcpu->thread, vm__kick_signal());
}

static void vm__kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu__kick(&vm->vcpus[i]);
}

/* vm->lock held (or after a change under it): every parked vCPU re-checks. */
static void vm__wake_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		pthread_cond_broadcast(&vm->vcpus[i].wake);
}

/* vm->lock held. The first end of the guest wins. */
static void vm__end_locked(struct vm *vm, int status)
{
	if (vm->exiting)
		return;
	vm->exiting = true;
	vm->status = status;
	vm__kick_all(vm);
	vm__wake_all(vm);
	pthread_cond_broadcast(&vm->changed);
	pthread_cond_broadcast(&vm->ended);
}

void vm__kill(struct vm *vm, int status)
{
	pthread_mutex_lock(&vm->lock);
	vm__end_locked(vm, status);
	pthread_mutex_unlock(&vm->lock);
}

static bool vcpu__may_run(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	return !vm->exiting && !vm->paused && !vm->quiesce && vcpu->allowed &&
	       !vcpu->halted;
}

/*
 * KVM_RUN, asking KVM to leave regs and sregs in run->s.regs while guest
 * debugging is on (a stepping debugger reads them there instead of two
 * vCPU ioctls, ~6 us each here). KVM stores them on every return from
 * KVM_RUN, -EINTR from immediate_exit or a kick included; other errors
 * may return before that, so only those returns make them valid.
 */
static int vcpu__kvm_run(struct vcpu *vcpu)
{
	bool sync = vcpu->vm->sync_regs &&
		    __atomic_load_n(&vcpu->sync_want, __ATOMIC_RELAXED);
	int r;

	vcpu->run->kvm_valid_regs = sync ? VCPU_SYNC_MASK : 0;
	vcpu->sync_valid = false;
	r = ioctl(vcpu->fd, KVM_RUN, 0);
	vcpu->sync_valid = sync && (r == 0 || errno == EINTR || errno == EAGAIN);
	return r;
}

/*
 * Let KVM finish the last PIO/MMIO exit without running the guest
 * (immediate_exit makes KVM_RUN return -EINTR right after completing it),
 * so a parked vCPU's RIP is past the instruction: what a debugger reads
 * and writes is then the real state.
 */
static void vcpu__complete_io(struct vcpu *vcpu)
{
	if (!vcpu->need_complete)
		return;
	vcpu->need_complete = false;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	vcpu__kvm_run(vcpu);
}

static void vcpu__set_parked(struct vcpu *vcpu, bool parked)
{
	struct vm *vm = vcpu->vm;

	vcpu->parked = parked;
	vm->nr_parked += parked ? 1 : -1;
	if (parked)
		pthread_cond_broadcast(&vm->changed);
}

/*
 * vm->lock held. Returns once the vCPU may enter the guest (true) or the
 * guest is over (false), parking in between.
 */
static bool vcpu__wait_runnable(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (vcpu__may_run(vcpu))
		goto run;
	if (vcpu->need_complete) {
		pthread_mutex_unlock(&vm->lock);
		vcpu__complete_io(vcpu);
		pthread_mutex_lock(&vm->lock);
	}
	vcpu__set_parked(vcpu, true);
	while (!vcpu__may_run(vcpu) && !vm->exiting)
		pthread_cond_wait(&vcpu->wake, &vm->lock);
	vcpu__set_parked(vcpu, false);
	if (vm->exiting)
		return false;
run:
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	return true;
}

/*
 * vm->lock held, vm->paused set: a debugger's all-stop. Through kvmdbg.ko
 * one ioctl sets every immediate_exit, signals every vCPU thread and
 * returns once each is out of KVM_RUN; immediate_exit stays set until
 * vm__resume() thaws, so the threads park without more signals from us.
 * False (kick from here) on the userspace path, before every thread exists
 * (vm__start installs the kick handler first) or if the freeze failed.
 */
static bool vm__freeze(struct vm *vm)
{
	if (!vm->kfrozen && vm->kdbg && vm->nr_started == vm->nr_vcpus)
		vm->kfrozen = kvmdbg_sess__freeze(vm->kdbg) == 0;
	return vm->kfrozen;
}

/* Number of vCPUs that still have to park; vm->lock held. */
static int vm__nr_running(struct vm *vm)
{
	return vm->nr_started - vm->nr_parked;
}

/*
 * A hook asked for all-stop. Runs on the stopping vCPU's thread, which
 * counts as parked from here on. Returns with the lock held; the caller's
 * loop then parks until vm__resume().
 */
static void vcpu__stop_world(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	const struct vm_hook_set *owner;
	unsigned int gen;
	bool report;

	if (vm->paused || vm->exiting)
		return;		/* someone else's stop wins; ours is dropped */
	vm->paused = true;
	gen = ++vm->stop_gen;
	/*
	 * Only this vCPU is out of its parking (a step with the others held
	 * back by vm__resume_first, or the others halted): nothing to stop.
	 * The others cannot leave their parking while vm->paused is set.
	 */
	if (vm__nr_running(vm) > 1 && !vm__freeze(vm))
		vm__kick_all(vm);
	pthread_mutex_unlock(&vm->lock);
	vcpu__complete_io(vcpu);
	pthread_mutex_lock(&vm->lock);
	vcpu__set_parked(vcpu, true);
	while (vm__nr_running(vm) > 0 && vm->paused && vm->stop_gen == gen &&
	       !vm->exiting)
		pthread_cond_wait(&vm->changed, &vm->lock);
	report = vm->paused && vm->stop_gen == gen && !vm->exiting;
	/* Only the set that stopped it hears of it (user/vmm/vm.h). */
	owner = &vm->hooks[vcpu->stop_hooks];
	if (report && owner->h.on_stopped) {
		pthread_mutex_unlock(&vm->lock);
		owner->h.on_stopped(owner->ctx, vm, vcpu->idx);
		pthread_mutex_lock(&vm->lock);
	}
	vcpu__set_parked(vcpu, false);
}

static void vcpu__halt(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (vcpu->halted)
		return;
	vcpu->halted = true;
	if (++vm->nr_halted == vm->nr_vcpus)
		vm__end_locked(vm, 0);
}

/*
 * The guest crashed: one line on stderr, then it ends with VM_STATUS_CRASH
 * + the exit reason, unless a debugger's on_crash hook holds it for its
 * client (which ends it later with that status). Returns true when held.
 */
/* true: the on_crash hook holds the guest (stop the world), else it ended. */
static bool vm__crash(struct vcpu *vcpu, const char *what)
{
	struct vm *vm = vcpu->vm;
	int status = VM_STATUS_CRASH + (int)vcpu->run->exit_reason;
	struct kvm_regs regs;
	unsigned long long rip = 0;
	char why[256];

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		rip = regs.rip;
	snprintf(why, sizeof(why), "%s: vCPU %d: %s at RIP %#llx", vm->name,
		 vcpu->idx, what, rip);
	fprintf(stderr, "%s: %s; the guest ends with status %d\n",
		program_invocation_short_name, why, status);
	for (int i = 0; i < vm->nr_hooks; i++) {
		if (vm->hooks[i].h.on_crash &&
		    vm->hooks[i].h.on_crash(vm->hooks[i].ctx, vm, vcpu->idx, why, status)) {
			vcpu->stop_hooks = i;
			return true;
		}
	}
	vm__kill(vm, status);
	return false;
}

enum vcpu_action { ACT_RUN, ACT_STOP, ACT_HALT, ACT_EXIT };

static enum vcpu_action vcpu__crash_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[128];

	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		snprintf(what, sizeof(what), "KVM_EXIT_SHUTDOWN (triple fault)");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR (suberror %u)",
			 run->internal.suberror);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY (reason %#llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
			 run->exit_reason);
	}
	return vm__crash(vcpu, what) ? ACT_STOP : ACT_EXIT;
}

static enum vm_hook_ret vcpu__call_hook(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	enum vm_hook_ret r = VM_HOOK_UNHANDLED;

	/* In the order added, until one claims the exit. */
	for (int i = 0; i < vm->nr_hooks && r == VM_HOOK_UNHANDLED; i++) {
		if (!vm->hooks[i].h.on_exit)
			continue;
		r = vm->hooks[i].h.on_exit(vm->hooks[i].ctx, vm, vcpu->idx, vcpu->run);
		if (r == VM_HOOK_STOP)
			vcpu->stop_hooks = i;
	}
	return r;
}

static enum vcpu_action vcpu__handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	enum vm_hook_ret h;
	int r;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu->need_complete = true;
		r = ioport__handle(vcpu);
		if (r > 0)
			vm__kill(vcpu->vm, r - 1);
		return r > 0 ? ACT_EXIT : ACT_RUN;
	case KVM_EXIT_HLT:
		return ACT_HALT;
	case KVM_EXIT_INTR:
		return ACT_RUN;
	case KVM_EXIT_MMIO:
		vcpu->need_complete = true;
		h = vcpu__call_hook(vcpu);
		if (h == VM_HOOK_UNHANDLED)
			mmio__handle(vcpu);
		return h == VM_HOOK_STOP ? ACT_STOP : ACT_RUN;
	case KVM_EXIT_DEBUG:
	case KVM_EXIT_INTERNAL_ERROR:
	case KVM_EXIT_SHUTDOWN:
	case KVM_EXIT_FAIL_ENTRY:
		h = vcpu__call_hook(vcpu);
		if (h == VM_HOOK_UNHANDLED && vcpu->vm->machine->reset_ends &&
		    run->exit_reason == KVM_EXIT_SHUTDOWN) {
			/* Linux's reboot=t, or a crash: a reset ends the VM either way. */
			fprintf(stderr, "%s: %s: guest reset (triple fault); the VM ends with status 0\n",
				program_invocation_short_name, vcpu->vm->name);
			vm__kill(vcpu->vm, 0);
			return ACT_EXIT;
		}
		if (h == VM_HOOK_UNHANDLED)
			return vcpu__crash_exit(vcpu);
		return h == VM_HOOK_STOP ? ACT_STOP : ACT_RUN;
	default:
		return vcpu__crash_exit(vcpu);
	}
}

/* KVM_RUN once; an error other than a kick ends the guest. */
static enum vcpu_action vcpu__run_once(struct vcpu *vcpu)
{
	char what[96];

	vcpu->need_complete = false;
	if (vcpu__kvm_run(vcpu) == 0)
		return vcpu__handle_exit(vcpu);
	if (errno == EINTR || errno == EAGAIN)
		return ACT_RUN;
	snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
	return vm__crash(vcpu, what) ? ACT_STOP : ACT_EXIT;
}

static void *vcpu__thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, vm__kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_mutex_lock(&vm->lock);
	vcpu->tid = gettid();
	while (vcpu__wait_runnable(vcpu)) {
		enum vcpu_action act;

		pthread_mutex_unlock(&vm->lock);
		act = vcpu__run_once(vcpu);
		pthread_mutex_lock(&vm->lock);
		if (act == ACT_STOP)
			vcpu__stop_world(vcpu);
		else if (act == ACT_HALT)
			vcpu__halt(vcpu);
	}
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int vm__start(struct vm *vm)
{
	int r = 0;

	pthread_once(&kick_once, vcpu__install_kick);
	pthread_mutex_lock(&vm->lock);
	if (vm->started || (vm->inspect_only && !vm->paused)) {
		r = vm->started ? -EBUSY : -EPERM;
		goto unlock;
	}
	vm->started = true;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		r = -pthread_create(&vcpu->thread, NULL, vcpu__thread, vcpu);
		if (r < 0) {
			vm__end_locked(vm, VM_STATUS_CRASH);
			break;
		}
		vcpu->started = true;
		vm->nr_started++;
	}
unlock:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

int vm__wait(struct vm *vm, int *status)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->started || vm->waited) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	vm->waited = true;
	/* Not vm->changed: that fires on every park, i.e. every debugger
	 * stop and single-step, and would wake this thread for nothing.
	 */
	while (!vm->exiting)
		pthread_cond_wait(&vm->ended, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	if (status)
		*status = vm->status;
	for (int i = 0; i < vm->nr_hooks; i++)
		if (vm->hooks[i].h.on_vm_exit)
			vm->hooks[i].h.on_vm_exit(vm->hooks[i].ctx, vm, vm->status);
	return 0;
}

/*
 * vm->lock held: until every started vCPU is parked (or the guest ends).
 * A frozen VM needs no kicks: no vCPU can enter the guest.
 */
static void vm__wait_parked(struct vm *vm)
{
	if (!vm->kfrozen)
		vm__kick_all(vm);
	while (vm__nr_running(vm) > 0 && !vm->exiting)
		pthread_cond_wait(&vm->changed, &vm->lock);
}

int vm__pause(struct vm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->exiting) {
		r = -ESRCH;
		goto unlock;
	}
	vm->paused = true;
	vm__freeze(vm);
	vm__wait_parked(vm);
	if (vm->exiting)
		r = -ESRCH;
unlock:
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* vm->lock held. Let @run go; with @first >= 0 only it starts now. */
static int vm__resume_locked(struct vm *vm, const bool *run, int first)
{
	if (vm->exiting || vm->inspect_only)
		return vm->exiting ? -ESRCH : -EPERM;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->allowed = run ? run[i] : true;
		v->deferred = first >= 0 && i != first && v->allowed;
		if (v->deferred)
			v->allowed = false;
	}
	if (vm->kfrozen)
		kvmdbg_sess__thaw(vm->kdbg);
	vm->kfrozen = false;
	vm->paused = false;
	return 0;
}

int vm__resume(struct vm *vm, const bool *run)
{
	int r;

	pthread_mutex_lock(&vm->lock);
	r = vm__resume_locked(vm, run, -1);
	pthread_mutex_unlock(&vm->lock);
	/*
	 * After unlocking: woken vCPU threads find the lock free instead of
	 * sleeping on it once more (a stepping debugger resumes per step).
	 * No wakeup is lost: a thread that saw the old state was already
	 * waiting when the lock was released.
	 */
	if (!r)
		vm__wake_all(vm);
	return r;
}

int vm__resume_first(struct vm *vm, const bool *run, int first)
{
	int r = -EINVAL;

	if (first < 0 || first >= vm->nr_vcpus)
		return r;
	pthread_mutex_lock(&vm->lock);
	r = vm__resume_locked(vm, run, first);
	pthread_mutex_unlock(&vm->lock);
	if (!r)
		pthread_cond_broadcast(&vm->vcpus[first].wake);
	return r;
}

void vm__resume_rest(struct vm *vm)
{
	bool go;

	pthread_mutex_lock(&vm->lock);
	/* Stopped again first: they never ran, and stay parked. */
	go = !vm->paused && !vm->exiting;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->deferred && go)
			v->allowed = true;
		v->deferred = false;
	}
	pthread_mutex_unlock(&vm->lock);
	if (go)
		vm__wake_all(vm);
}

bool vm__paused(struct vm *vm)
{
	bool r;

	pthread_mutex_lock(&vm->lock);
	r = vm->paused && vm__nr_running(vm) == 0;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

bool vm__vcpu_halted(struct vm *vm, int i)
{
	bool r;

	if (i < 0 || i >= vm->nr_vcpus)
		return false;
	pthread_mutex_lock(&vm->lock);
	r = vm->vcpus[i].halted;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

void vm__vcpu_wake(struct vm *vm, int i)
{
	if (i < 0 || i >= vm->nr_vcpus)
		return;
	pthread_mutex_lock(&vm->lock);
	if (vm->vcpus[i].halted) {
		vm->vcpus[i].halted = false;
		vm->nr_halted--;
		vm__wake_all(vm);
	}
	pthread_mutex_unlock(&vm->lock);
}

void vm__vcpu_set_halted(struct vm *vm, int i)
{
	if (i < 0 || i >= vm->nr_vcpus)
		return;
	pthread_mutex_lock(&vm->lock);
	if (!vm->vcpus[i].halted) {
		vm->vcpus[i].halted = true;
		vm->nr_halted++;
	}
	pthread_mutex_unlock(&vm->lock);
}

int vm__hold(struct vm *vm)
{
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	vm->quiesce++;
	vm__wait_parked(vm);
	if (vm->exiting)
		r = -ESRCH;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

/* The calling vCPU parks at its next vcpu__wait_runnable(); the others are
 * kicked now. Safe on a vCPU thread: it waits for nobody.
 */
void vm__hold_async(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quiesce++;
	vm__kick_all(vm);
	pthread_mutex_unlock(&vm->lock);
}

void vm__release(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quiesce--;
	vm__wake_all(vm);
	pthread_mutex_unlock(&vm->lock);
}
