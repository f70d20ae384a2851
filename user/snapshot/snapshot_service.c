// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot service of one VM: a thread that writes snapshots when
 * asked by SIGUSR1 (signalfd; the signal is blocked in every thread of
 * the process from snapshot_service__start() on), by a guest write to
 * port 0xF5, by a vCPU reaching --snapshot-at (a HW breakpoint on every
 * vCPU, in a debug-register slot reserved from user/vmm/guest_debug.c, so
 * a debugger keeps the others), or by the gdb backend's "monitor
 * snapshot FILE".
 *
 * Triggers on vCPU threads cannot wait for the world to stop (they are
 * part of it): they take an asynchronous hold (vm__hold_async), so the
 * triggering vCPU parks right after its exit, and hand the request to the
 * service thread, which writes the snapshot and releases the holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "user/lib/atomic_file.h"
#include "user/vmm/guest_debug.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vcpu_state.h"

struct snap_service {
	struct vm *vm;
	struct snapshot_service_cfg cfg;
	char *path, *image;
	int efd, sfd;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	/* Under lock. */
	bool stop, pending, at_armed, warned_port;
	int at_slot;			/* our DR slot while reserved, else -1 */
	int pending_holds;		/* vm__hold_async() holds to release */
	enum snap_trigger pending_trigger;
	int nr_written, last_err;
};

/* vCPU thread or any: hand a request to the service thread. */
static void service__post(struct snap_service *s, enum snap_trigger t, bool held)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	s->pending = true;
	s->pending_trigger = t;
	s->pending_holds += held;
	pthread_mutex_unlock(&s->lock);
	if (write(s->efd, &one, sizeof(one)) < 0)
		return;	/* only on counter overflow: it is readable then */
}

/*
 * Under the hold (or before the start): once the breakpoint was hit (or
 * @always), our slot goes back to the pool.
 */
static void service__disarm(struct snap_service *s, bool always)
{
	int slot = -1;

	pthread_mutex_lock(&s->lock);
	if (always || !s->at_armed) {
		slot = s->at_slot;
		s->at_slot = -1;
	}
	pthread_mutex_unlock(&s->lock);
	if (slot >= 0)
		guest_debug__release(s->vm, slot);
}

static void service__report(struct snap_service *s, enum snap_trigger t,
			    const struct timespec *t0, const struct timespec *t1)
{
	double ms = (t1->tv_sec - t0->tv_sec) * 1e3 + (t1->tv_nsec - t0->tv_nsec) / 1e6;
	struct stat st;

	fprintf(stderr, "%s: snapshot written to %s (%s)", program_invocation_short_name,
		s->path, snapshot__trigger_name(t));
	/* --verbose: what bench/snapshot_bench.sh measures. */
	if (s->cfg.verbose && !stat(s->path, &st))
		fprintf(stderr, ": %lld bytes in %.3f ms, captured through %s",
			(long long)st.st_size, ms,
			vm__uses_module(s->vm) ? "kvmdbg.ko" : "userspace");
	fputc('\n', stderr);
}

static void service__snapshot(struct snap_service *s, enum snap_trigger t,
			      int holds)
{
	struct snapshot_meta m = s->cfg.meta;
	struct timespec t0, t1;
	char err[512];
	int r;

	m.trigger = t;
	m.trigger_addr = t == SNAP_TRIG_ADDR ? s->cfg.at_addr : 0;
	/* Whatever trigger this request now names (a port write may have
	 * followed the hit): a spent breakpoint goes, once.
	 */
	if (holds && vm__hold(s->vm) == 0)
		service__disarm(s, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = s->path ? snapshot__write(s->vm, s->path, &m, err, sizeof(err)) : -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r && s->path)
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, err);
	else if (!r)
		service__report(s, t, &t0, &t1);
	pthread_mutex_lock(&s->lock);
	s->nr_written += !r;
	s->last_err = r;
	pthread_mutex_unlock(&s->lock);
	/* A failed write ends the guest too: the caller's status says so. */
	if (s->cfg.exit_after)
		vm__kill(s->vm, 0);
	if (holds)
		vm__release(s->vm);	/* the hold taken just above */
	while (holds--)
		vm__release(s->vm);	/* the vCPU threads' async holds */
}

static bool service__event(struct snap_service *s)
{
	enum snap_trigger t;
	bool stop, pending;
	uint64_t n;
	int holds;

	if (read(s->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return true;
	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pending = s->pending;
	t = s->pending_trigger;
	holds = s->pending_holds;
	s->pending = false;
	s->pending_holds = 0;
	pthread_mutex_unlock(&s->lock);
	if (pending)
		service__snapshot(s, t, holds);
	return stop;
}

static void *service__thread(void *arg)
{
	struct snap_service *s = arg;
	struct pollfd pfd[2] = { { .fd = s->efd, .events = POLLIN },
				 { .fd = s->sfd, .events = POLLIN } };

	for (;;) {
		if (poll(pfd, s->sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd[0].revents & POLLIN) && service__event(s))
			break;
		if (s->sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(s->sfd, &si, sizeof(si)) == sizeof(si))
				service__snapshot(s, SNAP_TRIG_SIGUSR1, 0);
		}
	}
	return NULL;
}

/* Port hook, on the writing vCPU's thread. */
static void service__on_port(void *ctx, struct vm *vm, int vcpu, uint32_t value)
{
	struct snap_service *s = ctx;

	(void)vcpu;
	(void)value;
	if (!s->path) {
		pthread_mutex_lock(&s->lock);
		if (!s->warned_port)
			fprintf(stderr, "%s: guest wrote port 0xf5 (snapshot) but no --snapshot FILE was given; ignored\n",
				program_invocation_short_name);
		s->warned_port = true;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	vm__hold_async(vm);
	service__post(s, SNAP_TRIG_PORT, true);
}

/*
 * Debug hook, added before the debugger's: our --snapshot-at breakpoint,
 * known by our slot's DR6 bit. Anything else (a debugger's breakpoint,
 * a single-step) is not ours. A debugger breakpoint at the same address
 * sets its own bit too: we take the exit, and once the snapshot is
 * written and our slot released the vCPU re-executes the instruction and
 * hits the debugger's breakpoint alone.
 */
static enum vm_hook_ret service__on_exit(void *ctx, struct vm *vm, int vcpu,
					 struct kvm_run *run)
{
	struct snap_service *s = ctx;
	bool hit, ours;

	(void)vcpu;
	if (run->exit_reason != KVM_EXIT_DEBUG)
		return VM_HOOK_UNHANDLED;
	pthread_mutex_lock(&s->lock);
	ours = s->at_slot >= 0 && (run->debug.arch.dr6 & (1ull << s->at_slot));
	hit = ours && s->at_armed;
	if (ours)
		s->at_armed = false;
	pthread_mutex_unlock(&s->lock);
	if (!ours)
		return VM_HOOK_UNHANDLED;
	/* A second vCPU at the address before the first's hold parked it:
	 * it parks too (quiesce) and runs on once the breakpoint is gone.
	 */
	if (hit) {
		vm__hold_async(vm);
		service__post(s, SNAP_TRIG_ADDR, true);
	}
	return VM_HOOK_CONTINUE;
}

static void service__free(struct snap_service *s)
{
	if (s->efd >= 0)
		close(s->efd);
	if (s->sfd >= 0)
		close(s->sfd);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s->image);
	free(s);
}

void snapshot_service__block_sigusr1(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int service__signals(struct snap_service *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	/* Blocked here, before any vCPU thread exists, so they inherit it
	 * and the signal waits for the signalfd (threads vm__create() makes
	 * need snapshot_service__block_sigusr1() before it).
	 */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return s->sfd < 0 ? -errno : 0;
}

static int service__hooks(struct snap_service *s)
{
	static const struct vm_debug_hooks hooks = { .on_exit = service__on_exit };
	int r = vm__set_port_hook(s->vm, VM_PORT_SNAPSHOT, service__on_port, s);

	if (r || !s->cfg.at_set)
		return r;
	r = vm__add_debug_hooks(s->vm, &hooks, s);
	if (r)
		return r;
	r = guest_debug__reserve_exec(s->vm, s->cfg.at_addr);
	if (r < 0) {
		vm__remove_debug_hooks(s->vm, s);
		return r;
	}
	s->at_slot = r;
	s->at_armed = true;
	return 0;
}

int snapshot_service__start(struct vm *vm, const struct snapshot_service_cfg *c,
			    struct snap_service **out)
{
	struct snap_service *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->cfg = *c;
	s->sfd = -1;
	s->at_slot = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->path = c->path ? strdup(c->path) : NULL;
	s->image = c->meta.image ? strdup(c->meta.image) : NULL;
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->cfg.path = s->path;
	s->cfg.meta.image = s->image;
	if ((c->path && !s->path) || (c->meta.image && !s->image) || s->efd < 0)
		goto fail;
	r = c->sigusr1 ? service__signals(s) : 0;
	if (!r)
		r = service__hooks(s);
	if (!r)
		r = -pthread_create(&s->thread, NULL, service__thread, s);
	if (r)
		goto fail;
	s->thread_started = true;
	*out = s;
	return 0;
fail:
	vm__set_port_hook(vm, VM_PORT_SNAPSHOT, NULL, NULL);
	vm__remove_debug_hooks(vm, s);
	service__disarm(s, true);
	service__free(s);
	return r;
}

void snapshot_service__stop(struct snap_service *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	if (write(s->efd, &one, sizeof(one)) == sizeof(one) && s->thread_started)
		pthread_join(s->thread, NULL);
	service__free(s);
}

int snapshot_service__result(struct snap_service *s, int *nr_written)
{
	int r;

	*nr_written = 0;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	*nr_written = s->nr_written;
	r = s->last_err;
	pthread_mutex_unlock(&s->lock);
	return r;
}

bool snapshot_service__at_reached(struct snap_service *s)
{
	bool r = false;

	if (s) {
		pthread_mutex_lock(&s->lock);
		r = s->cfg.at_set && !s->at_armed;
		pthread_mutex_unlock(&s->lock);
	}
	return r;
}

/* "snapshot FILE" from gdb: the world is stopped already. */
static int monitor_snapshot(struct snap_service *s, const char *file,
			    void (*print)(void *out, const char *fmt, ...), void *out)
{
	struct snapshot_meta m = s->cfg.meta;
	char err[512];
	int r;

	r = afile__monitor_file("snapshot", "snapshot", file, print, out);
	if (r)
		return r;
	m.trigger = SNAP_TRIG_MONITOR;
	r = snapshot__write(s->vm, file, &m, err, sizeof(err));
	if (r) {
		/* The stub sends the message, then an E reply: gdb's monitor
		 * command fails and a batch script stops there. Not -ENOENT
		 * (a missing directory): that means "not our command".
		 */
		print(out, "%s\n", err);
		return r == -ENOENT ? -EIO : r;
	}
	pthread_mutex_lock(&s->lock);
	s->nr_written++;
	pthread_mutex_unlock(&s->lock);
	print(out, "snapshot written to %s\n", file);
	return 0;
}

/* The VM's map (vm__describe_memory(), from the layout), then our CoW mapping. */
static void monitor_info_memory(struct snap_service *s,
				void (*print)(void *out, const char *fmt, ...), void *out)
{
	vm__describe_memory(s->vm, print, out);
	if (s->cfg.meta.from)
		print(out, "  %" PRIu64 " pages mapped copy-on-write from %s\n",
		      snapshot__nr_pages(s->cfg.meta.from), snapshot__path(s->cfg.meta.from));
}

static int monitor_info_snapshot(struct snap_service *s, const char *arg,
				 void (*print)(void *out, const char *fmt, ...), void *out)
{
	(void)arg;
	if (s->cfg.meta.from)
		snapshot__describe(s->cfg.meta.from, print, out);
	else
		print(out, "not resumed from a snapshot (started from %s)\n",
		      s->image ? s->image : "an image");
	pthread_mutex_lock(&s->lock);
	print(out, "written:   %d snapshot(s) this session%s%s\n", s->nr_written,
	      s->path ? "; triggers write " : "", s->path ? s->path : "");
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int monitor_memory(struct snap_service *s, const char *arg,
			  void (*print)(void *out, const char *fmt, ...), void *out)
{
	(void)arg;
	monitor_info_memory(s, print, out);
	return 0;
}

/* The service's monitor commands: @name alone, or with an argument. */
static const struct {
	const char *name;
	bool arg;
	int (*fn)(struct snap_service *s, const char *arg,
		  void (*print)(void *out, const char *fmt, ...), void *out);
	const char *help;
} snap_cmds[] = {
	{ "snapshot", true, monitor_snapshot,
	  "snapshot FILE  write a snapshot of the stopped VM to FILE (an absolute path)\n" },
	{ "info snapshot", false, monitor_info_snapshot,
	  "info snapshot  the snapshot this VM was resumed from, and ones written\n" },
	{ "info memory", false, monitor_memory,
	  "info memory    the guest-physical memory map\n" },
};

int snapshot_service__monitor(void *ctx, const char *cmd, bool help,
			      void (*print)(void *out, const char *fmt, ...), void *out)
{
	struct snap_service *s = ctx;

	for (size_t i = 0; i < sizeof(snap_cmds) / sizeof(snap_cmds[0]); i++) {
		size_t n = strlen(snap_cmds[i].name);

		if (help) {
			print(out, "%s", snap_cmds[i].help);
			continue;
		}
		if (strncmp(cmd, snap_cmds[i].name, n) ||
		    (cmd[n] && (!snap_cmds[i].arg || cmd[n] != ' ')))
			continue;
		return snap_cmds[i].fn(s, cmd + n + strspn(cmd + n, " "), print, out);
	}
	return help ? 0 : -ENOENT;
}
