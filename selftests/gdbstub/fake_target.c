// SPDX-License-Identifier: GPL-2.0
/*
 * fake_target: a gdb server over the fake backend, for driving the stub
 * with real gdb and lldb (clients_test.sh) before any VMM exists.
 *
 *   fake_target [SPEC]     SPEC as gdb_server_new(), default "0" (a free
 *                          loopback port); prints "listening on ADDR"
 *
 * Two threads, the fake registers and memory of fake_backend.h (with
 * "push %rbp; mov %rsp,%rbp" at 0x401000, thread 1's rip). Stops are
 * asynchronous, as a VMM's are: the backend queues one and signals an
 * eventfd, and gdb_server_run() calls on_event, which reports it.
 *   - a step moves the stepping thread's rip by one byte;
 *   - a continue with a breakpoint inserted stops thread 1 on the first
 *     one (swbreak or hwbreak), else on a watchpoint (watch:ADDR), else
 *     it "runs" until Ctrl-C;
 *   - after a detach or disconnect it runs; a new client stops it.
 * 'k' ends the program. Events are logged to stdout, one line each
 * (connect, running, interrupt, detach, kill), for scripts to wait on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gdbstub/server.h"
#include "selftests/gdbstub/fake_backend.h"

#define MAX_BPS		64

struct target {
	struct fake f;		/* first: the fake ops take the same ctx */
	struct gdb_stub *stub;
	struct gdb_server *srv;
	int efd;
	bool running;
	bool have_pending;
	struct gdb_stop pending;
	int nbp;
	struct { enum gdb_bp_type type; uint64_t addr; } bp[MAX_BPS];
};

static void event(const char *what)
{
	printf("%s\n", what);
	fflush(stdout);
}

static void queue_stop(struct target *t, enum gdb_stop_reason reason,
		       int thread, int sig, uint64_t addr)
{
	uint64_t one = 1;

	t->pending = (struct gdb_stop){ reason, thread, sig, addr, 0 };
	t->have_pending = true;
	if (write(t->efd, &one, sizeof(one)) != sizeof(one))
		perror("fake_target: eventfd");
}

static void on_event(void *ctx)
{
	struct target *t = ctx;
	uint64_t n;

	if (read(t->efd, &n, sizeof(n)) != sizeof(n) || !t->have_pending)
		return;
	t->have_pending = false;
	t->running = false;
	gdb_stub_stopped(t->stub, &t->pending);
}

static void on_connect(void *ctx)
{
	struct target *t = ctx;

	event("connect");
	if (t->running)
		queue_stop(t, GDB_STOP_SIGNAL, 1, 5, 0);
}

static int target_insert_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
			    uint64_t kind)
{
	struct target *t = ctx;
	int hw = 0;

	(void)kind;
	for (int i = 0; i < t->nbp; i++)
		hw += t->bp[i].type != GDB_BP_SW;
	if ((type != GDB_BP_SW && hw >= 4) || t->nbp >= MAX_BPS)
		return -ENOSPC;		/* four debug registers, as on x86 */
	t->bp[t->nbp].type = type;
	t->bp[t->nbp++].addr = addr;
	return 0;
}

static int target_remove_bp(void *ctx, enum gdb_bp_type type, uint64_t addr,
			    uint64_t kind)
{
	struct target *t = ctx;

	(void)kind;
	for (int i = 0; i < t->nbp; i++) {
		if (t->bp[i].type == type && t->bp[i].addr == addr) {
			t->bp[i] = t->bp[--t->nbp];
			return 0;
		}
	}
	return -ENOENT;
}

/* The first breakpoint, else the first watchpoint; -1 if none. */
static int first_hit(struct target *t)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < t->nbp; i++) {
			bool is_bp = t->bp[i].type <= GDB_BP_HW;

			if (is_bp == (pass == 0))
				return i;
		}
	}
	return -1;
}

static void continue_to_hit(struct target *t, int i)
{
	static const enum gdb_stop_reason reason[] = {
		[GDB_BP_SW] = GDB_STOP_SWBREAK, [GDB_BP_HW] = GDB_STOP_HWBREAK,
		[GDB_WP_WRITE] = GDB_STOP_WATCH, [GDB_WP_READ] = GDB_STOP_RWATCH,
		[GDB_WP_ACCESS] = GDB_STOP_AWATCH,
	};

	if (t->bp[i].type <= GDB_BP_HW) {
		t->f.regs[0].rip = t->bp[i].addr;
		queue_stop(t, reason[t->bp[i].type], 1, 5, 0);
	} else {
		t->f.regs[0].rip += 4;	/* past the "store" */
		queue_stop(t, reason[t->bp[i].type], 1, 5, t->bp[i].addr);
	}
}

static int target_resume(void *ctx, const struct gdb_resume *r)
{
	struct target *t = ctx;
	int hit = first_hit(t);

	t->running = true;
	for (int i = 0; i < t->f.nr_threads; i++) {
		if (r->action[i] == GDB_ACT_STEP) {
			t->f.regs[i].rip += 1;
			queue_stop(t, GDB_STOP_SIGNAL, i + 1, 5, 0);
			return 0;
		}
	}
	if (hit >= 0)
		continue_to_hit(t, hit);
	else
		event("running");
	return 0;
}

static int target_interrupt(void *ctx)
{
	struct target *t = ctx;

	event("interrupt");
	/*
	 * A stop already queued (a step that completed) beats a plain
	 * SIGINT, as in the VMM (debug_run.c): lldb interrupts right after
	 * "vCont;s" when another of its threads wants memory, and the step's
	 * stop must not be lost for it.
	 */
	if (t->running && !t->have_pending)
		queue_stop(t, GDB_STOP_SIGNAL, 1, 2, 0);
	return 0;
}

static void target_detach(void *ctx)
{
	struct target *t = ctx;

	event("detach");
	t->nbp = 0;
	t->running = true;
}

static void target_kill(void *ctx)
{
	struct target *t = ctx;

	event("kill");
	gdb_server_shutdown(t->srv);
}

int main(int argc, char **argv)
{
	static struct target t;
	struct gdb_target_ops ops = fake_ops;
	const char *spec = argc > 1 ? argv[1] : "0";
	int ret;

	fake_init(&t.f, 2);
	/* A slid kernel's qOffsets reply (TextSeg=), for the clients test. */
	if (getenv("FAKE_TEXT_SEG"))
		t.f.text_seg = strtoull(getenv("FAKE_TEXT_SEG"), NULL, 0);
	/* push %rbp; mov %rsp,%rbp at thread 1's rip, for x/i. */
	memcpy(t.f.mem + 0x1000, "\x55\x48\x89\xe5", 4);
	/*
	 * nops at thread 2's rip: a step moves rip by one byte, which must
	 * end on an instruction boundary; lldb, when it has read the code
	 * first (its threads race), steps again from the middle of one.
	 */
	memset(t.f.mem + 0x1100, 0x90, 4);
	/*
	 * Stacks lldb can read (the default rsp is past the fake memory):
	 * zeroed, so its unwinder ends at a null frame. When it could not
	 * read the stack, lldb at times judged a finished step unfinished
	 * and stepped again.
	 */
	for (int i = 0; i < t.f.nr_threads; i++) {
		uint64_t sp = FAKE_VBASE + 0x1f000 - 0x1000 * (uint64_t)i;

		t.f.regs[i].gpr[7] = sp;		/* rsp */
		t.f.regs[i].gpr[6] = sp + 0x80;		/* rbp */
		memset(t.f.mem + (sp - FAKE_VBASE), 0, 0x100);
	}
	ops.insert_bp = target_insert_bp;
	ops.remove_bp = target_remove_bp;
	ops.resume = target_resume;
	ops.interrupt = target_interrupt;
	ops.detach = target_detach;
	ops.kill = target_kill;
	t.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t.stub = gdb_stub_new(&ops, &t);
	t.srv = gdb_server_new(spec);
	if (t.efd < 0 || !t.stub || !t.srv) {
		fprintf(stderr, "fake_target: %s: %s\n", spec, strerror(errno));
		return 1;
	}
	printf("listening on %s\n", gdb_server_addr(t.srv));
	fflush(stdout);
	ret = gdb_server_run(t.srv, t.stub, t.efd, on_event, on_connect, &t);
	gdb_server_free(t.srv);
	gdb_stub_free(t.stub);
	close(t.efd);
	return ret ? 1 : 0;
}
