// SPDX-License-Identifier: GPL-2.0
/*
 * Execution control: resume (continue/step per vCPU), stepping off a
 * breakpoint, Ctrl-C, the stop reports, detach, kill, extended mode's
 * end and restart, and what happens when a client connects or leaves.
 *
 * All-stop. Every stop parks the whole VM (a hook's VM_HOOK_STOP or
 * vm__pause) and is reported once: d->resumed is true from a resume until
 * its report. The VMM reports only the first of simultaneous stops; the
 * others stay pending on their vCPUs and are reported at the next resume
 * of that vCPU, without running anything, so no breakpoint hit is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "user/debug/debug_priv.h"

/* vm__kill status for the client's 'k': like a process killed by SIGKILL. */
#define DEBUG_KILL_STATUS	(128 + 9)

/* lock held. Report the pending stop of @vcpu. */
static void report_pending(struct debug *d, int vcpu)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];

	v->has_pending = false;
	v->on_reported_bp = v->pending.reason == GDB_STOP_SWBREAK ||
			    v->pending.reason == GDB_STOP_HWBREAK;
	debug__report(d, &v->pending);
}

/* lock held. A vCPU with a pending stop among those @run lets go, or -1. */
static int pending_vcpu(struct debug *d, const bool *run)
{
	for (int i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i].has_pending && (!run || run[i]))
			return i;
	return -1;
}

/*
 * lock held. A breakpoint hit still pending on a vCPU about to run, whose
 * breakpoint the client has removed, is forgotten: RIP is on the restored
 * instruction, which simply runs (gdbserver does the same). Only vCPUs
 * that run now: gdb removes every breakpoint while it steps one thread
 * over its own, and puts them back before the others run.
 */
static void drop_stale(struct debug *d, const bool *run)
{
	for (int i = 0; i < d->nr_vcpus; i++) {
		struct debug_vcpu *v = &d->vcpus[i];
		struct x86_kvm_state *s;
		uint64_t rip;

		if (!run[i] || !v->has_pending || debug_regs__core(d, i, &s))
			continue;
		rip = s->regs.rip;
		if ((v->pending.reason == GDB_STOP_SWBREAK &&
		     !swbp__find(&d->sw, rip)) ||
		    (v->pending.reason == GDB_STOP_HWBREAK &&
		     x86_hw__find_exec(&d->hw, rip) < 0))
			v->has_pending = false;
	}
}

/*
 * A single step is over within microseconds. Sleeping in poll() for its
 * report costs a wakeup of this thread from another core (tens of us in
 * a VM, where an idle core sits in HLT), so spin a little for it first:
 * the stop is then already there when the server loop polls. The client
 * waits for this reply, and between looks the spin yields to any thread
 * that wants this core (the stepping vCPU, on a busy host); a vCPU that
 * does not stop in time (a long instruction, HLT) is waited for in
 * poll() as before.
 */
static bool spin_for_report(struct debug *d)
{
	struct timespec t0, t;
	long ns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (__atomic_load_n(&d->report_ready, __ATOMIC_ACQUIRE))
			return true;
		sched_yield();	/* a thread that needs this core gets it */
		clock_gettime(CLOCK_MONOTONIC, &t);
		ns = (t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec;
	} while (ns < d->step_spin_ns);
	return __atomic_load_n(&d->report_ready, __ATOMIC_ACQUIRE);
}

/* The one vCPU @r steps (the others continue or stay), or -1. */
static int stepper(struct debug *d, const struct gdb_resume *r)
{
	int s = -1;

	for (int i = 0; i < d->nr_vcpus; i++) {
		if (r->action[i] != GDB_ACT_STEP)
			continue;
		if (s >= 0)
			return -1;
		s = i;
	}
	return s;
}

/*
 * gdb's stepi in all-stop with scheduler-locking off is vCont;s:N;c: the
 * others may run while N steps, and stop again with it. Start N alone and
 * the others only if its stop is not there within the spin: a step that
 * ends at once then costs nothing for them, at any vCPU count (they
 * never left their parking; as if the host had not scheduled them yet).
 * On every DEBUG_DEFER_MAX-th step they start with it, so a stepped
 * vCPU that waits for another (a spinlock) still sees it move.
 */
static int resume_step(struct debug *d, const bool *run, int s)
{
	int r;

	if (++d->deferred_steps >= DEBUG_DEFER_MAX) {
		d->deferred_steps = 0;
		r = vm__resume(d->vm, run);
		if (!r)
			spin_for_report(d);
		return r;
	}
	r = vm__resume_first(d->vm, run, s);
	if (r)
		return r;
	if (!spin_for_report(d))
		vm__resume_rest(d->vm);
	return 0;
}

static void run_only(struct debug *d, int vcpu, bool *run)
{
	for (int i = 0; i < d->nr_vcpus; i++)
		run[i] = i == vcpu;
}

/* Wait for the internal single-step of debug_run__step_off to end. */
static bool wait_step(struct debug *d)
{
	struct timespec deadline;
	bool done;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DEBUG_STEP_TIMEOUT_S;
	pthread_mutex_lock(&d->lock);
	while (!d->step_done && !d->vm_over && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&d->cond, &d->lock, &deadline);
	done = d->step_done;
	d->step_vcpu = -1;
	pthread_mutex_unlock(&d->lock);
	return done;
}

/*
 * @vcpu is about to run while sitting on the breakpoint it last reported
 * (the client resumes without taking it out, as gdb and lldb never do but
 * simpler clients may): it would stop there again at once. Take the
 * breakpoint out (the original byte, or the DR slot), single-step this
 * vCPU alone with the others parked, put the breakpoint back. A vCPU that
 * merely stopped on a breakpoint it has not executed yet gets no such
 * help: it hits it, as gdbserver and QEMU do. Returns true when the
 * step ran.
 */
static bool step_off(struct debug *d, int vcpu, bool *run)
{
	struct x86_kvm_state *s;
	struct swbp *b;
	uint8_t *hva = NULL;
	bool sitting;
	int slot;

	pthread_mutex_lock(&d->lock);
	sitting = d->vcpus[vcpu].on_reported_bp;
	pthread_mutex_unlock(&d->lock);
	if (!sitting || debug_regs__core(d, vcpu, &s))
		return false;
	b = swbp__find(&d->sw, s->regs.rip);
	slot = x86_hw__find_exec(&d->hw, s->regs.rip);
	if (!b && slot < 0)
		return false;
	if (b)
		hva = vm__gpa_to_hva(d->vm, b->gpa, 1);
	debug_regs__guest_debug(d, vcpu, true, slot);
	debug_regs__invalidate(d);
	/*
	 * The byte changes under d->lock: a snapshot capture on another
	 * thread (debug_bp__capture) swaps these bytes under it too.
	 */
	pthread_mutex_lock(&d->lock);
	if (hva)
		*hva = b->orig;
	d->step_vcpu = vcpu;
	d->step_done = false;
	pthread_mutex_unlock(&d->lock);
	run_only(d, vcpu, run);
	if (vm__resume(d->vm, run) || !wait_step(d))
		vm__pause(d->vm);	/* halted, or the guest ended */
	pthread_mutex_lock(&d->lock);
	if (hva)
		*hva = X86_INT3;
	pthread_mutex_unlock(&d->lock);
	return true;
}

/*
 * lock held. After stepping @vcpu off a breakpoint: a step the client
 * asked for is done (report it); for a continue, the step's own SIGTRAP
 * is internal, but anything else it hit (a watchpoint) is reported.
 */
static bool after_step_off(struct debug *d, int vcpu, bool client_step,
			   const bool *run)
{
	struct debug_vcpu *v = &d->vcpus[vcpu];
	int p;

	if (!client_step && v->has_pending &&
	    v->pending.reason == GDB_STOP_SIGNAL &&
	    v->pending.signal == GDB_SIGTRAP)	/* not a crash */
		v->has_pending = false;
	if (client_step && !v->has_pending) {
		/* It did not stop by itself (HLT): still a finished step. */
		v->pending = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL,
			.thread = vcpu + 1, .signal = GDB_SIGTRAP };
		v->has_pending = true;
	}
	p = pending_vcpu(d, run);
	if (p < 0 || d->vm_over)
		return false;
	d->resumed = true;
	report_pending(d, p);
	return true;
}

static bool step_off_all(struct debug *d, const struct gdb_resume *r,
			 const bool *run)
{
	bool *tmp = calloc(d->nr_vcpus, sizeof(*tmp));
	bool reported = false;

	for (int i = 0; tmp && i < d->nr_vcpus && !reported; i++) {
		bool stepped;

		if (!run[i])
			continue;
		stepped = step_off(d, i, tmp);
		pthread_mutex_lock(&d->lock);
		d->vcpus[i].on_reported_bp = false;	/* it moves on now */
		if (stepped)
			reported = after_step_off(d, i,
						  r->action[i] == GDB_ACT_STEP, run);
		pthread_mutex_unlock(&d->lock);
	}
	free(tmp);
	return reported;
}

/* lock not held. Report a stop still pending on a vCPU about to run. */
static bool report_if_pending(struct debug *d, const bool *run)
{
	int p;

	pthread_mutex_lock(&d->lock);
	drop_stale(d, run);
	p = pending_vcpu(d, run);
	if (p >= 0) {
		d->resumed = true;
		report_pending(d, p);
	}
	pthread_mutex_unlock(&d->lock);
	return p >= 0;
}

int debug_run__resume(void *ctx, const struct gdb_resume *r)
{
	struct debug *d = ctx;
	bool *run = calloc(d->nr_vcpus, sizeof(*run));
	int ret = 0, s;

	if (!run)
		return -ENOMEM;
	if (vm__inspect_only(d->vm)) {
		debug__log(d, "continue refused: %s", vm__inspect_only(d->vm));
		free(run);
		return -EPERM;
	}
	if (debug_exit__end_crash(d, true))
		goto out;	/* a crashed guest does not run again */
	pthread_mutex_lock(&d->lock);
	for (int i = 0; i < d->nr_vcpus; i++)
		run[i] = d->run[i] = r->action[i] != GDB_ACT_NONE;
	/* Every vCPU is parked: no hit of a removed int3 is in flight. */
	d->gone.n = 0;
	pthread_mutex_unlock(&d->lock);
	if (report_if_pending(d, run) || step_off_all(d, r, run))
		goto out;
	for (int i = 0; i < d->nr_vcpus && !ret; i++)
		ret = debug_regs__guest_debug(d, i, r->action[i] == GDB_ACT_STEP, -1);
	if (ret)
		goto out;
	debug_regs__invalidate(d);
	pthread_mutex_lock(&d->lock);
	d->resumed = true;
	pthread_mutex_unlock(&d->lock);
	/* -ESRCH: the guest is over; on_vm_exit reports that. */
	s = stepper(d, r);
	if (s >= 0)
		resume_step(d, run, s);
	else
		vm__resume(d->vm, run);
out:
	free(run);
	return ret;
}

/*
 * Ctrl-C. The SIGINT names no vCPU (thread 0): the stub reports it for
 * the thread the client last resumed. A real event of a vCPU that was
 * let go beats it; one pending on a vCPU the client kept stopped waits
 * for that vCPU's next resume (gdb never resumed it, and takes a stop
 * there for a protocol error).
 */
int debug_run__interrupt(void *ctx)
{
	struct debug *d = ctx;
	struct gdb_stop stop = {
		.reason = GDB_STOP_SIGNAL, .thread = 0, .signal = GDB_SIGINT,
	};
	int p;

	if (vm__pause(d->vm))
		return 0;	/* the guest is over: on_vm_exit reports it */
	pthread_mutex_lock(&d->lock);
	if (d->resumed && !d->report_ready) {
		p = pending_vcpu(d, d->run);
		if (p >= 0)
			report_pending(d, p);
		else
			debug__report(d, &stop);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Hook, on the vCPU thread that stopped, once every vCPU is parked. */
void debug_run__on_stopped(void *ctx, struct vm *vm, int vcpu)
{
	struct debug *d = ctx;
	struct gdb_stop stop = {
		.reason = GDB_STOP_SIGNAL, .thread = vcpu + 1,
		.signal = GDB_SIGTRAP,
	};
	int p;

	(void)vm;
	pthread_mutex_lock(&d->lock);
	if (d->step_vcpu >= 0) {
		d->step_done = true;	/* step_off() waits for this */
		pthread_cond_broadcast(&d->cond);
	} else if (d->attached && d->resumed && !d->report_ready) {
		p = d->vcpus[vcpu].has_pending ? vcpu : pending_vcpu(d, NULL);
		if (p >= 0)
			report_pending(d, p);
		else
			debug__report(d, &stop);
	}
	pthread_mutex_unlock(&d->lock);
}

/*
 * 'D' or a lost connection, maybe while the guest runs: stop the world,
 * take every breakpoint and watchpoint out, turn guest debugging off and
 * let every vCPU run on as if no debugger had been there. release() does
 * all but the last part; the world is stopped.
 */
static void release(struct debug *d, bool run_on)
{
	debug_bp__remove_all(d);
	pthread_mutex_lock(&d->lock);
	d->attached = false;
	d->resumed = run_on;	/* a next client is owed a stop */
	d->report_ready = false;
	for (int i = 0; i < d->nr_vcpus; i++) {
		d->vcpus[i].has_pending = false;
		d->vcpus[i].on_reported_bp = false;
	}
	pthread_mutex_unlock(&d->lock);
	for (int i = 0; i < d->nr_vcpus; i++)
		debug_regs__guest_debug(d, i, false, -1);
	debug_regs__invalidate(d);
}

void debug_run__detach(void *ctx)
{
	struct debug *d = ctx;
	bool over = vm__pause(d->vm) < 0;

	release(d, true);
	/* A VM that must not run ends instead of running on. */
	if (!over && vm__inspect_only(d->vm))
		vm__kill(d->vm, 0);
	else if (!over && !debug_exit__end_crash(d, false))
		vm__resume(d->vm, NULL);
}

/*
 * The client left without 'D' before it ever let the guest run (gdb
 * refused by the stub, a client that gave up): the guest still waits at
 * its entry point for a debugger, so it keeps waiting for the next one.
 */
void debug_run__hold(void *ctx)
{
	struct debug *d = ctx;

	release(d, false);
	debug__log(d, "client left; guest still held at entry, waiting for "
		   "the next client");
}

/*
 * Extended mode's kill: the guest is over for this client (it never runs
 * again in this process), but the launcher stays to serve a restart or
 * the next client. It is parked, not destroyed: only a restart or the
 * launcher's end frees it.
 */
void debug_run__end(void *ctx)
{
	struct debug *d = ctx;

	vm__pause(d->vm);
	release(d, false);
}

/* argv of this process, from /proc/self/cmdline (NULL-terminated). */
static char **own_argv(char *buf, size_t len, char **argv, int max)
{
	FILE *f = fopen("/proc/self/cmdline", "re");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	int argc = 0;

	if (f)
		fclose(f);
	if (!n || n == len - 1)
		return NULL;	/* unreadable, or too long to trust */
	buf[n] = '\0';
	for (size_t i = 0; i < n && argc < max - 1; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	return argc ? argv : NULL;
}

static void handover_env(struct debug *d, int fd, const char *session)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", fd);
	setenv(DEBUG_ENV_FD, num, 1);
	setenv(DEBUG_ENV_SESSION, session, 1);
	setenv(DEBUG_ENV_ADDR, gdb_server_addr(d->srv), 1);
}

/*
 * vRun / R: start the guest over from its entry point. The simplest
 * complete reset of a VM (memory, every vCPU, devices, the loader's
 * work) is a new launcher: re-execute this one with the same command
 * line and hand it the client's connection and protocol state. The new
 * process answers the vRun with the stop at entry. Returns only on
 * failure; the guest stays as it was then.
 */
int debug_run__restart(void *ctx, const char *session)
{
	static char buf[64 * 1024];
	static char *argv[1024];
	struct debug *d = ctx;
	int fd = gdb_server_client_fd(d->srv), e;

	if (!d->restartable) {
		debug__log(d, "restart refused: this launcher runs the gdb driver or several VMs; "
			   "restart it yourself");
		return -EOPNOTSUPP;
	}
	if (fd < 0 || !own_argv(buf, sizeof(buf), argv, 1024))
		return -EIO;
	if (fcntl(fd, F_SETFD, 0))
		return -errno;
	handover_env(d, fd, session);
	debug__log(d, "restarting the guest from its entry point (client's run)");
	fflush(NULL);
	execv("/proc/self/exe", argv);
	e = errno;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	unsetenv(DEBUG_ENV_FD);
	unsetenv(DEBUG_ENV_SESSION);
	unsetenv(DEBUG_ENV_ADDR);
	debug__log(d, "restart failed: cannot run /proc/self/exe: %s", strerror(e));
	return -e;
}

void debug_run__kill(void *ctx)
{
	struct debug *d = ctx;

	if (!debug_exit__end_crash(d, false))
		vm__kill(d->vm, DEBUG_KILL_STATUS);
}

/*
 * A client was accepted. The first one finds the VM parked at the entry
 * point (it started paused); a later one finds it running since the last
 * client left: stop it, so the new client sees a stopped VM, and report
 * that stop (the stub answers the client's '?' with it).
 */
void debug_run__on_connect(void *ctx)
{
	struct debug *d = ctx;
	struct gdb_stop stop = {
		.reason = GDB_STOP_SIGNAL, .thread = 1, .signal = GDB_SIGTRAP,
	};
	bool over = vm__pause(d->vm) < 0;

	debug_regs__invalidate(d);
	pthread_mutex_lock(&d->lock);
	d->attached = true;
	if (over || d->vm_over) {
		stop.reason = GDB_STOP_EXITED;
		stop.exit_code = d->exit_status;
	}
	if (d->resumed)
		debug__report(d, &stop);
	pthread_mutex_unlock(&d->lock);
}
