// SPDX-License-Identifier: GPL-2.0
/*
 * The core triggers of one VM: gdb's "monitor dump FILE" (the world is
 * stopped by the debugger and held while the core is written),
 * --dump-on-signal FILE (SIGUSR2, read by a service thread from a
 * signalfd: the world is held for the core and runs on after), and
 * --dump-on-crash FILE. A crash is noted on the crashing vCPU's thread
 * (on_crash, which lets the guest end, or a debugger hold it); the core
 * is written from vm__wait()'s thread once every vCPU thread has ended
 * (on_vm_exit), before the VM is destroyed: no vCPU runs then, so the
 * state read is the one each vCPU stopped in, the crashed one's RIP on
 * the faulting instruction.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "user/lib/atomic_file.h"
#include "user/core/core.h"
#include "user/vmm/vm.h"

struct core_service {
	struct vm *vm;
	struct core_service_cfg cfg;
	pthread_mutex_t lock;
	int crash_vcpu;		/* under lock: -1 until a crash */
	int result;
	int sfd, efd;		/* CORE_DUMP_SIGNAL's signalfd; eventfd: stop */
	pthread_t thread;
	bool thread_started;
	int nr_signal_dumps, signal_err;	/* by the service thread only */
};

void core_service__block_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, CORE_DUMP_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* One SIGUSR2: the live VM's core, held while written; one line. */
static void service__signal_dump(struct core_service *s)
{
	struct core_opts o = { .image = s->cfg.image, .symbols = s->cfg.symbols,
			       .crash_vcpu = -1 };
	struct core_result res;
	char msg[768];
	int r = core__write(s->vm, s->cfg.signal_path, &o, &res, msg, sizeof(msg));

	if (r == -ESRCH) {
		snprintf(msg, sizeof(msg), "core %s: the guest is over; no core written",
			 s->cfg.signal_path);
	} else if (!r) {
		core__summary(s->cfg.signal_path, &res, msg, sizeof(msg));
		s->nr_signal_dumps++;
	}
	if (r)
		s->signal_err = r;
	fprintf(stderr, "%s: --dump-on-signal: %s\n", program_invocation_short_name, msg);
}

static void *service__thread(void *arg)
{
	struct core_service *s = arg;
	struct pollfd p[2] = { { .fd = s->efd, .events = POLLIN },
			       { .fd = s->sfd, .events = POLLIN } };

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if ((p[1].revents & POLLIN) && read(s->sfd, &si, sizeof(si)) == sizeof(si))
			service__signal_dump(s);
	}
	return NULL;
}

/* Blocked here too (core_service__block_signal() covers earlier threads). */
static int service__signal_start(struct core_service *s)
{
	sigset_t set;

	core_service__block_signal();
	sigemptyset(&set);
	sigaddset(&set, CORE_DUMP_SIGNAL);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->sfd < 0 || s->efd < 0)
		return -errno;
	if (pthread_create(&s->thread, NULL, service__thread, s))
		return -EAGAIN;
	s->thread_started = true;
	return 0;
}

static void service__signal_stop(struct core_service *s)
{
	uint64_t one = 1;

	if (s->thread_started && write(s->efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	s->thread_started = false;
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->efd >= 0)
		close(s->efd);
	s->sfd = s->efd = -1;
}

static bool service__on_crash(void *ctx, struct vm *vm, int vcpu, const char *why,
			      int status)
{
	struct core_service *s = ctx;

	(void)vm;
	(void)why;
	(void)status;
	pthread_mutex_lock(&s->lock);
	if (s->crash_vcpu < 0)
		s->crash_vcpu = vcpu;
	pthread_mutex_unlock(&s->lock);
	return false;	/* a debugger may still hold it; it ends either way */
}

static void service__on_vm_exit(void *ctx, struct vm *vm, int status)
{
	struct core_service *s = ctx;
	struct core_opts o = { .image = s->cfg.image, .symbols = s->cfg.symbols,
			       .stopped = true, .crash_vcpu = s->crash_vcpu };
	struct core_result res;
	char msg[768];

	(void)status;
	if (s->crash_vcpu < 0)
		return;
	s->result = core__write(vm, s->cfg.crash_path, &o, &res, msg, sizeof(msg));
	if (!s->result)
		core__summary(s->cfg.crash_path, &res, msg, sizeof(msg));
	fprintf(stderr, "%s: --dump-on-crash: %s\n", program_invocation_short_name, msg);
}

int core_service__start(struct vm *vm, const struct core_service_cfg *c,
			struct core_service **out)
{
	static const struct vm_debug_hooks hooks = {
		.on_crash = service__on_crash, .on_vm_exit = service__on_vm_exit,
	};
	struct core_service *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->cfg = *c;
	s->crash_vcpu = -1;
	s->sfd = s->efd = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = c->crash_path ? vm__add_debug_hooks(vm, &hooks, s) : 0;
	if (!r && c->signal_path)
		r = service__signal_start(s);
	if (r) {
		service__signal_stop(s);
		if (c->crash_path)
			vm__remove_debug_hooks(vm, s);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

int core_service__result(struct core_service *s)
{
	return s ? s->result : 0;
}

int core_service__signal_result(struct core_service *s, int *nr_written)
{
	*nr_written = s ? s->nr_signal_dumps : 0;
	return s ? s->signal_err : 0;
}

void core_service__stop(struct core_service *s)
{
	if (!s)
		return;
	service__signal_stop(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* "dump FILE" from gdb: the world is stopped already. */
static int monitor_dump(struct core_service *s, const char *file,
			void (*print)(void *out, const char *fmt, ...), void *out)
{
	struct core_opts o = { .image = s->cfg.image, .symbols = s->cfg.symbols,
			       .crash_vcpu = -1 };
	struct core_result res;
	char msg[768];
	int r;

	r = afile__monitor_file("dump", "core", file, print, out);
	if (r)
		return r;
	r = core__write(s->vm, file, &o, &res, msg, sizeof(msg));
	if (!r)
		core__summary(file, &res, msg, sizeof(msg));
	print(out, "%s\n", msg);
	/* Not -ENOENT (a missing directory): that means "not our command". */
	return r == -ENOENT ? -EIO : r;
}

int core_service__monitor(void *ctx, const char *cmd, bool help,
			  void (*print)(void *out, const char *fmt, ...), void *out)
{
	if (help) {
		print(out, "dump FILE      write an ELF core of the stopped VM to FILE (an\n"
		      "               absolute path), for gdb, crash and drgn\n");
		return 0;
	}
	if (strcmp(cmd, "dump") && strncmp(cmd, "dump ", 5))
		return -ENOENT;
	return monitor_dump(ctx, cmd + 4 + strspn(cmd + 4, " "), print, out);
}
