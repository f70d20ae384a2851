// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch --attach PID: debug a VM another VMM runs. Finds the VM
 * (user/attach/), opens a foreign kvmdbg.ko session on it, then --info
 * describes it, --snapshot FILE writes one snapshot of it (for
 * inspection: --resume FILE under gdb), --dump FILE one ELF core of it
 * (for gdb, crash and drgn), or --gdb serves gdb and lldb on it until the launcher is
 * stopped (SIGINT, SIGTERM) or the VMM exits. The VM is left running as
 * it was in every case.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gdbstub/server.h"
#include "user/attach/attach.h"
#include "user/attach/foreign_target.h"
#include "user/attach/foreign_vm.h"
#include "user/cli/builtin.h"
#include "user/cli/driver.h"
#include "user/lib/elf.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/kvmdbg_mod.h"

static void print_stdout(void *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void print_stdout(void *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

/* KVM refuses another process's vCPU ioctls: only the module can do this. */
static int attach__module(const char *target)
{
	char err[512];

	if (kvmdbg_mod__init(false, err, sizeof(err)) < 0) {
		cli_error("--attach %s: %s", target, err);
		return -1;
	}
	if (kvmdbg_mod__active())
		return 0;
	cli_error("--attach %s: kvmdbg.ko is not usable (%s); KVM refuses vCPU access from any process but the VM's creator, so only the module can stop and read another VMM's VM",
		  target, kvmdbg_mod__why());
	return -1;
}

/* --symbols vmlinux (or the one the driver found): the KASLR slide. */
static void attach__kernel(const char *symbols, struct foreign_kernel *k)
{
	char why[256];

	memset(k, 0, sizeof(*k));
	if (!symbols || elf__symbol(symbols, "entry_SYSCALL_64", &k->syscall_link, why,
				    sizeof(why)) || elf__first_load(symbols, &k->seg_link))
		memset(k, 0, sizeof(*k));
	k->path = symbols;
}

/*
 * The end of a --gdb session: SIGINT or SIGTERM to the launcher, or the
 * VMM's exit (its pidfd turns readable). Either stops the server; the
 * caller then thaws the VM.
 */
struct watch {
	struct gdb_server *srv;
	int sfd, pidfd;
	bool vmm_exited;
};

static void *watch__thread(void *arg)
{
	struct watch *w = arg;
	struct pollfd p[2] = { { .fd = w->sfd, .events = POLLIN },
			       { .fd = w->pidfd, .events = POLLIN } };

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	w->vmm_exited = p[1].revents != 0;
	gdb_server_shutdown(w->srv);
	return NULL;
}

static int attach__serve(struct fvm *vm, const struct attach_args *a)
{
	const struct foreign_proc *fp = fvm__proc(vm);
	struct watch w = { .pidfd = fp->pidfd };
	struct foreign_kernel kernel;
	struct foreign_target t;
	pthread_t thread;
	sigset_t set;
	int r;

	w.srv = gdb_server_new(a->gdb);
	if (!w.srv) {
		cli_error("--gdb %s: %s%s", a->gdb, strerror(errno),
			  errno == EADDRINUSE ? " (pick another port, or stop what listens there)" : "");
		return EXIT_SETUP;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	w.sfd = signalfd(-1, &set, SFD_CLOEXEC);
	attach__kernel(a->symbols, &kernel);
	r = foreign_target__init(&t, vm, &kernel);
	if (r || w.sfd < 0 || pthread_create(&thread, NULL, watch__thread, &w)) {
		cli_error("--gdb %s: cannot serve: %s", a->gdb, strerror(r ? -r : errno));
		gdb_server_free(w.srv);
		return EXIT_SETUP;
	}
	fprintf(stderr, "%s: gdb: serving the VM of process %d (%s) on %s; the VM runs until a client connects\n",
		program_invocation_short_name, (int)fp->pid, fp->comm, gdb_server_addr(w.srv));
	r = foreign_target__serve(&t, w.srv);
	gdb_server_shutdown(w.srv);
	pthread_kill(thread, SIGTERM);
	pthread_join(thread, NULL);
	foreign_target__fini(&t);
	gdb_server_free(w.srv);
	close(w.sfd);
	if (w.vmm_exited)
		fprintf(stderr, "%s: process %d (%s) exited; the session is over\n",
			program_invocation_short_name, (int)fp->pid, fp->comm);
	return r < 0 ? EXIT_SETUP : 0;
}

/* --snapshot FILE: one snapshot, one line; the VM runs on. */
static int attach__snapshot(struct fvm *vm, const struct attach_args *a)
{
	const struct foreign_proc *fp = fvm__proc(vm);
	struct foreign_snap_result res;
	char err[512];

	if (foreign__snapshot(vm, a->snapshot, &res, err, sizeof(err))) {
		cli_error("--attach %s: %s", a->target, err);
		return EXIT_SETUP;
	}
	printf("snapshot %s: process %d (%s), %d vCPUs, %d memslots, %" PRIu64 " bytes; the guest was paused %" PRIu64 ".%03" PRIu64 " ms\n",
	       a->snapshot, (int)fp->pid, fp->comm, res.nr_vcpus, res.nr_slots, res.bytes,
	       res.pause_ns / 1000000, res.pause_ns / 1000 % 1000);
	return 0;
}

/* --dump FILE: one core, one line; the VM runs on. */
static int attach__dump(struct fvm *vm, const struct attach_args *a)
{
	const struct foreign_proc *fp = fvm__proc(vm);
	struct foreign_dump_result res;
	char err[768], sum[768];

	if (foreign__dump(vm, a->dump, a->symbols, &res, err, sizeof(err))) {
		cli_error("--attach %s: %s", a->target, err);
		return EXIT_SETUP;
	}
	core__summary(a->dump, &res.core, sum, sizeof(sum));
	printf("%s; process %d (%s), %d memslot%s; the guest was paused %" PRIu64 ".%03" PRIu64 " ms\n",
	       sum, (int)fp->pid, fp->comm, res.nr_slots, res.nr_slots == 1 ? "" : "s",
	       res.pause_ns / 1000000, res.pause_ns / 1000 % 1000);
	return 0;
}

/* ---- The gdb driver (--gdb-session, --gdb-exec, --gdb-script) ----------- */

struct attach_backend {
	struct fvm *vm;
	struct foreign_kernel kernel;
	struct foreign_target t;
	struct gdb_server *srv;
	pthread_t thread;
	bool started;
};

static void *ab__thread(void *arg)
{
	struct attach_backend *b = arg;

	foreign_target__serve(&b->t, b->srv);
	return NULL;
}

static int ab__serve(void *ctx, const char *spec, const char *symbols)
{
	struct attach_backend *b = ctx;
	int r;

	attach__kernel(symbols, &b->kernel);
	b->srv = gdb_server_new(spec);
	if (!b->srv)
		return -errno;
	r = foreign_target__init(&b->t, b->vm, &b->kernel);
	if (!r)
		r = -pthread_create(&b->thread, NULL, ab__thread, b);
	if (r) {
		foreign_target__fini(&b->t);
		gdb_server_free(b->srv);
		return r;
	}
	b->started = true;
	return 0;
}

static void ab__context(void *ctx, FILE *out)
{
	struct attach_backend *b = ctx;
	const struct foreign_proc *fp = fvm__proc(b->vm);
	uint64_t mem = 0;

	for (int i = 0; i < fvm__nr_slots(b->vm); i++)
		mem += fvm__slot(b->vm, i)->size;
	fprintf(out, "  attached to:    process %d (%s), a VM it runs\n", (int)fp->pid, fp->comm);
	fprintf(out, "  memory:         %" PRIu64 " MiB in %d memslot(s)\n", mem >> 20,
		fvm__nr_slots(b->vm));
	fprintf(out, "  vCPUs:          %d, frozen while gdb holds them (no breakpoints or steps)\n",
		fvm__nr_vcpus(b->vm));
	fprintf(out, "  stop the world: kvmdbg.ko, foreign session\n");
}

static int ab__start(void *ctx)
{
	(void)ctx;
	return 0;	/* it runs already; gdb's connection freezes it */
}

static void ab__stop(void *ctx)
{
	struct attach_backend *b = ctx;

	if (!b->started)
		return;
	gdb_server_shutdown(b->srv);
	pthread_join(b->thread, NULL);
	foreign_target__fini(&b->t);
	gdb_server_free(b->srv);
	fvm__thaw(b->vm);
	b->started = false;
}

static const struct driver_backend attach_backend = {
	.serve = ab__serve,
	.context = ab__context,
	.start = ab__start,
	.stop = ab__stop,
};

static int attach__driver(struct fvm *vm, const struct attach_args *a)
{
	struct attach_backend b = { .vm = vm };
	struct driver_cfg dc = {
		.symbols = a->symbols, .exec = a->exec, .nr_exec = a->nr_exec,
		.script = a->script, .verbose = a->verbose,
	};
	char err[512];
	int r = driver__run_backend(&attach_backend, &b, &dc, err, sizeof(err));

	if (r < 0) {
		cli_error("gdb driver: %s", err);
		return EXIT_SETUP;
	}
	return r;
}

int cmd_attach(const struct attach_args *a)
{
	struct foreign_proc fp;
	int vm_fd_nr, kick = 0, r;
	struct fvm *vm;
	char err[512];
	pid_t pid;

	if (foreign__parse(a->target, &pid, &vm_fd_nr, err, sizeof(err))) {
		cli_error("%s", err);
		return EXIT_USAGE;
	}
	if (a->kick_signal && foreign__parse_signal(a->kick_signal, &kick)) {
		cli_error("--kick-signal %s: not a signal (e.g. SIGUSR1, USR1, SIGRTMIN+1 or 10)",
			  a->kick_signal);
		return EXIT_USAGE;
	}
	if ((a->snapshot || a->dump) && (a->info || a->gdb || a->session || a->nr_exec || a->script)) {
		cli_error("--attach %s: --%s FILE writes one %s and detaches; --info, --gdb and the gdb driver are separate runs: pick one",
			  a->target, a->snapshot ? "snapshot" : "dump", a->snapshot ? "snapshot" : "core");
		return EXIT_USAGE;
	}
	if (a->snapshot && a->dump) {
		cli_error("--attach %s: --snapshot FILE and --dump FILE are separate runs (or convert the snapshot: --resume FILE --dump CORE)",
			  a->target);
		return EXIT_USAGE;
	}
	/* Before anything is attached, as for the launcher's own --snapshot. */
	if (a->snapshot && snapshot__check_target(a->snapshot, err, sizeof(err))) {
		cli_error("--%s", err);
		return EXIT_USAGE;
	}
	if (a->dump && core__check_target(a->dump, err, sizeof(err))) {
		cli_error("--dump: %s", err);
		return EXIT_USAGE;
	}
	if (a->dump && a->symbols && access(a->symbols, R_OK)) {
		cli_error("--symbols %s: %s", a->symbols, strerror(errno));
		return EXIT_USAGE;
	}
	if (!a->info && !a->gdb && !a->session && !a->nr_exec && !a->script && !a->snapshot &&
	    !a->dump) {
		cli_error("--attach %s: say what to do: --info, --snapshot FILE, --dump FILE, --gdb SPEC or the gdb driver (--gdb-session, --gdb-exec, --gdb-script)",
			  a->target);
		return EXIT_USAGE;
	}
	if (foreign__open(pid, vm_fd_nr, kick, &fp, err, sizeof(err))) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	r = EXIT_SETUP;
	if (attach__module(a->target))
		goto close;
	if (fvm__open(&fp, &vm, err, sizeof(err))) {
		cli_error("--attach %s: %s", a->target, err);
		goto close;
	}
	if (a->info) {
		foreign__describe(vm, print_stdout, stdout);
		r = 0;
	} else if (a->snapshot) {
		r = attach__snapshot(vm, a);
	} else if (a->dump) {
		r = attach__dump(vm, a);
	} else if (a->gdb) {
		r = attach__serve(vm, a);
	} else {
		r = attach__driver(vm, a);
	}
	fvm__close(vm);
close:
	foreign__close(&fp);
	return r;
}
