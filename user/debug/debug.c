// SPDX-License-Identifier: GPL-2.0
/*
 * The debug backend's life cycle: one struct debug per VM, its listener
 * and gdb thread, and the path of a stop report from a vCPU thread to the
 * client (vCPU thread -> d->report + eventfd -> gdb thread ->
 * gdb_stub_stopped()). The stub is only ever driven from the gdb thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "user/debug/debug_priv.h"
#include "user/lib/elf.h"

/* How long debug__stop() lets the gdb thread tell a client the guest exited. */
#define DEBUG_EXIT_REPORT_S	5

int debug__set_kernel_symbols(struct debug *d, const char *vmlinux)
{
	char why[256];
	uint64_t link, seg;
	int r = elf__symbol(vmlinux, "entry_SYSCALL_64", &link, why, sizeof(why));

	if (!r)
		r = elf__first_load(vmlinux, &seg);
	if (r)
		return r;
	if (!d)
		return -ESRCH;
	pthread_mutex_lock(&d->lock);
	d->syscall_link = link;
	d->seg_link = seg;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int debug__add_monitor(struct debug *d, debug_monitor_fn fn, void *ctx)
{
	if (!d)
		return -ESRCH;
	if (d->nr_monitors == DEBUG_MAX_MONITORS)
		return -ENOSPC;
	d->monitors[d->nr_monitors].fn = fn;
	d->monitors[d->nr_monitors].ctx = ctx;
	d->nr_monitors++;
	return 0;
}

void debug__log(struct debug *d, const char *fmt, ...)
{
	va_list ap;

	(void)d;
	fputs("gdb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* lock held. Hand @stop to the gdb thread; the owed stop is now paid. */
void debug__report(struct debug *d, const struct gdb_stop *stop)
{
	uint64_t one = 1;

	d->report = *stop;
	/* Atomic: debug_run.c's spin after a step reads it without the lock. */
	__atomic_store_n(&d->report_ready, true, __ATOMIC_RELEASE);
	d->resumed = false;
	if (stop->reason == GDB_STOP_EXITED)
		d->exit_owed = true;
	/* Cannot fail short of counter overflow: it is readable then. */
	if (write(d->event_fd, &one, sizeof(one)) < 0)
		return;
}

/* gdb thread: the event fd is readable. */
static void on_event(void *ctx)
{
	struct debug *d = ctx;
	struct gdb_stop stop;
	uint64_t n;
	bool ready;

	if (read(d->event_fd, &n, sizeof(n)) < 0)
		return;		/* EAGAIN: drained already */
	pthread_mutex_lock(&d->lock);
	ready = d->report_ready;
	stop = d->report;
	d->report_ready = false;
	pthread_mutex_unlock(&d->lock);
	if (!ready)
		return;
	gdb_stub_stopped(d->stub, &stop);
	if (stop.reason != GDB_STOP_EXITED)
		return;
	pthread_mutex_lock(&d->lock);
	d->exit_owed = false;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* Hook, on vm__wait()'s thread: the guest is over. */
static void on_vm_exit(void *ctx, struct vm *vm, int status)
{
	struct debug *d = ctx;
	struct gdb_stop stop = {
		.reason = GDB_STOP_EXITED, .thread = 1, .exit_code = status,
	};

	(void)vm;
	pthread_mutex_lock(&d->lock);
	d->vm_over = true;
	d->exit_status = status;
	if (d->attached && d->resumed && !d->report_ready)
		debug__report(d, &stop);
	pthread_cond_broadcast(&d->cond);	/* a step_off() waiting */
	pthread_mutex_unlock(&d->lock);
}

static void *debug__thread(void *arg)
{
	struct debug *d = arg;
	int r = gdb_server_run(d->srv, d->stub, d->event_fd, on_event,
			       debug_run__on_connect, d);

	if (r < 0)
		debug__log(d, "%s: server stopped: %s", gdb_server_addr(d->srv),
			   strerror(-r));
	return NULL;
}

static void debug__free(struct debug *d)
{
	gdb_stub_free(d->stub);
	gdb_server_free(d->srv);
	if (d->event_fd >= 0)
		close(d->event_fd);
	swbp__free(&d->sw);
	debug_regs__free(d);
	swbp__free(&d->gone);
	for (size_t i = 0; i < d->nr_watches; i++)
		free(d->watches[i].gpa);
	free(d->watches);
	free(d->ro);
	free(d->vcpus);
	free(d->run);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/*
 * Spins, in us, from the environment, for measuring what they save
 * (bench/stepi_bench.sh); 0 turns one off:
 * KVMDBG_STEP_SPIN_US  how long a step's resume spins for the stop
 *                      (debug_run.c), default DEBUG_STEP_SPIN_US;
 * KVMDBG_RX_SPIN_US    how long the server looks for gdb's next packet
 *                      before it sleeps in poll() (gdb_server_set_rx_spin),
 *                      default DEBUG_RX_SPIN_US.
 */
static long env_spin_ns(const char *name, long def_us)
{
	const char *e = getenv(name);
	char *end;
	long us = e ? strtol(e, &end, 10) : def_us;

	if (e && (!*e || *end || us < 0 || us > 100000)) {
		fprintf(stderr, "kvmdbg-launch: %s=%s ignored: want 0..100000 (microseconds)\n",
			name, e);
		us = def_us;
	}
	return us * 1000;
}

static struct debug *debug__alloc(struct vm *vm)
{
	struct debug *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return NULL;
	d->vm = vm;
	d->nr_vcpus = vm__nr_vcpus(vm);
	d->step_vcpu = -1;
	d->step_spin_ns = env_spin_ns("KVMDBG_STEP_SPIN_US", DEBUG_STEP_SPIN_US);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->vcpus = calloc(d->nr_vcpus, sizeof(*d->vcpus));
	d->run = calloc(d->nr_vcpus, sizeof(*d->run));
	d->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->vcpus || !d->run || d->event_fd < 0 || debug_regs__init(d)) {
		debug__free(d);
		return NULL;
	}
	/* Optional guest-debug flags (BLOCKIRQ: no stepping into IRQs). */
	r = ioctl(vm__vm_fd(vm), KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	d->dbg_flags = r > 0 ? (uint32_t)r : 0;
	return d;
}

/* "1234" listens on 127.0.0.1:1234; the other forms say where already. */
static void spec_addr(const char *spec, char *buf, size_t len)
{
	if (strchr(spec, ':'))
		snprintf(buf, len, "%s", spec);
	else
		snprintf(buf, len, "127.0.0.1:%s", spec);
}

static bool allow_restart;

void debug__allow_restart(void)
{
	allow_restart = true;
}

/*
 * The client of the process this one replaced (debug_run__restart), if
 * any: its fd and protocol state, and the address it listened on (the
 * same, even for a port 0 spec). The variables go: no child inherits them.
 */
struct handover {
	int fd;
	char session[160];
	char addr[128];	/* gdb_server_addr()'s size */
};

static bool take_handover(struct handover *h)
{
	const char *fd = getenv(DEBUG_ENV_FD), *session = getenv(DEBUG_ENV_SESSION);
	const char *addr = getenv(DEBUG_ENV_ADDR);
	char *end = NULL;
	long v = fd ? strtol(fd, &end, 10) : -1;
	bool ok = allow_restart && fd && session && addr && *fd && !*end &&
		  v > STDERR_FILENO && v < 65536 &&
		  strlen(session) < sizeof(h->session) &&
		  strlen(addr) < sizeof(h->addr);

	if (ok) {
		h->fd = (int)v;
		snprintf(h->session, sizeof(h->session), "%s", session);
		snprintf(h->addr, sizeof(h->addr), "%s", addr);
	} else if (fd || session || addr) {
		fprintf(stderr, "gdb: ignoring a malformed restart hand-over (%s=%s)\n",
			DEBUG_ENV_FD, fd ? fd : "(unset)");
	}
	unsetenv(DEBUG_ENV_FD);
	unsetenv(DEBUG_ENV_SESSION);
	unsetenv(DEBUG_ENV_ADDR);
	return ok;
}

static int debug__listen(struct debug *d, const char *spec)
{
	char addr[256];
	int e;

	d->srv = gdb_server_new(spec);
	if (d->srv) {
		gdb_server_set_rx_spin(d->srv, env_spin_ns("KVMDBG_RX_SPIN_US",
							   DEBUG_RX_SPIN_US));
		return 0;
	}
	e = errno;
	spec_addr(spec, addr, sizeof(addr));
	if (e == EADDRINUSE) {
		debug__log(d, "%s in use; running without a debugger", addr);
		return -EADDRINUSE;
	}
	debug__log(d, "cannot listen on %s: %s", addr, strerror(e));
	return -e;
}

static const struct vm_debug_hooks debug_hooks = {
	.on_exit = debug_exit__on_exit,
	.on_stopped = debug_run__on_stopped,
	.on_vm_exit = on_vm_exit,
	.on_crash = debug_exit__on_crash,
	.on_capture = debug_bp__capture,
};

static int debug__setup(struct debug *d)
{
	int r;

	d->stub = gdb_stub_new(&debug_target_ops, d);
	if (!d->stub)
		return -errno;
	r = vm__add_debug_hooks(d->vm, &debug_hooks, d);
	if (r)
		return r;
	/* Parked at the entry point until a client resumes it, whatever
	 * the VM's config said (vm__pause before vm__start is a no-op wait).
	 */
	r = vm__pause(d->vm);
	if (r)
		vm__remove_debug_hooks(d->vm, d);
	return r;
}

int debug__start(struct vm *vm, const char *gdb_spec, struct debug **out)
{
	struct handover h;
	bool handed;
	struct debug *d;
	int r;

	*out = NULL;
	/* gdb would see (and resume) only the stub's first threads. */
	if (vm__nr_vcpus(vm) > GDB_MAX_THREADS) {
		fprintf(stderr, "gdb: --gdb serves at most %d vCPUs (this VM has %d): use --cpus %d or fewer\n",
			GDB_MAX_THREADS, vm__nr_vcpus(vm), GDB_MAX_THREADS);
		return -E2BIG;
	}
	d = debug__alloc(vm);
	if (!d) {
		fprintf(stderr, "gdb: out of memory\n");
		return -ENOMEM;
	}
	d->restartable = allow_restart;
	handed = take_handover(&h);
	r = debug__listen(d, handed ? h.addr : gdb_spec);
	if (!r && handed) {
		r = gdb_server_adopt(d->srv, h.fd, h.session);
		if (r)
			debug__log(d, "cannot take the client back after a restart: %s",
				   strerror(-r));
	}
	if (handed && (r || !d->srv))
		close(h.fd);	/* else the server owns it now */
	if (r == -EADDRINUSE) {
		debug__free(d);
		/* The VM was created to wait for a client: let it run. */
		return vm__resume(vm, NULL) == -ESRCH ? -ESRCH : 0;
	}
	if (!r)
		r = debug__setup(d);
	if (!r) {
		r = -pthread_create(&d->thread, NULL, debug__thread, d);
		if (r)
			vm__remove_debug_hooks(vm, d);
	}
	if (r) {
		if (d->srv && r != -EADDRINUSE)
			debug__log(d, "cannot serve %s: %s",
				   gdb_server_addr(d->srv), strerror(-r));
		debug__free(d);
		return r;
	}
	d->thread_started = true;
	*out = d;
	if (handed)
		debug__log(d, "guest restarted at its entry point; still serving the client on %s",
			   gdb_server_addr(d->srv));
	else
		debug__log(d, "listening on %s; the guest waits for a client",
			   gdb_server_addr(d->srv));
	return 0;
}

/* Give the gdb thread a moment to send an owed exit report ('W'). */
static void wait_exit_report(struct debug *d)
{
	struct timespec deadline;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DEBUG_EXIT_REPORT_S;
	pthread_mutex_lock(&d->lock);
	while (d->exit_owed && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&d->cond, &d->lock, &deadline);
	pthread_mutex_unlock(&d->lock);
}

void debug__stop(struct debug *d)
{
	if (!d)
		return;
	wait_exit_report(d);
	gdb_server_shutdown(d->srv);
	if (d->thread_started)
		pthread_join(d->thread, NULL);
	debug__free(d);
}
