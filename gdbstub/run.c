// SPDX-License-Identifier: GPL-2.0
/*
 * Execution control: resume (vCont and legacy c/s/C/S), stop replies, '?',
 * Ctrl-C, detach and kill, and extended mode's kill and restart.
 *
 * All-stop: after a resume the client waits for exactly one stop reply,
 * which gdb_stub_stopped() sends (await_stop). The backend may report the
 * stop from inside ops->resume (an instant single-step): await_stop is
 * therefore set before ops->resume is called.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

static void reply_stop_reason(struct gdb_stub *stub, const struct gdb_stop *s)
{
	switch (s->reason) {
	case GDB_STOP_SWBREAK:
		/* Only a client that asked for it knows the PC is not past
		 * the int3 (qSupported swbreak+); others get a plain T05.
		 */
		if (stub->client_swbreak)
			gdb_reply_str(stub, "swbreak:;");
		break;
	case GDB_STOP_HWBREAK:
		if (stub->client_hwbreak)
			gdb_reply_str(stub, "hwbreak:;");
		break;
	case GDB_STOP_WATCH:
		gdb_reply_printf(stub, "watch:%" PRIx64 ";", s->addr);
		break;
	case GDB_STOP_RWATCH:
		gdb_reply_printf(stub, "rwatch:%" PRIx64 ";", s->addr);
		break;
	case GDB_STOP_AWATCH:
		gdb_reply_printf(stub, "awatch:%" PRIx64 ";", s->addr);
		break;
	default:
		break;
	}
}

/*
 * "T05thread:1;swbreak:;10:<rip>;07:<rsp>;06:<rbp>;" - the registers are
 * expedited so gdb shows the stop location without reading them again.
 */
static void reply_stop(struct gdb_stub *stub)
{
	const struct gdb_stop *s = &stub->last_stop;
	struct gdb_x86_regs regs;
	int sig = s->signal > 0 && s->signal < 256 ? s->signal : GDB_SIGTRAP;
	int tid = gdb_thread_valid(stub, s->thread) ? s->thread : 1;

	if (stub->killed) {
		gdb_reply_str(stub, "X09");
		return;
	}
	if (s->reason == GDB_STOP_EXITED) {
		gdb_reply_printf(stub, "W%02x", (unsigned int)s->exit_code & 0xff);
		return;
	}
	gdb_reply_printf(stub, "T%02xthread:%x;", sig, tid);
	reply_stop_reason(stub, s);
	memset(&regs, 0, sizeof(regs));
	if ((stub->ops->read_stop_regs ?
	     stub->ops->read_stop_regs(stub->ctx, tid, &regs) :
	     stub->ops->read_regs(stub->ctx, tid, &regs)) == 0)
		gdb_reply_expedited(stub, &regs);
	if (stub->list_threads) {
		/* lldb's QListThreadsInStopReply: saves a qfThreadInfo. */
		gdb_reply_str(stub, "threads:");
		for (int t = 1; t <= gdb_nr_threads(stub); t++)
			gdb_reply_printf(stub, t > 1 ? ",%x" : "%x", t);
		gdb_reply_str(stub, ";");
	}
}

/*
 * A stop no thread caused (Ctrl-C) names a thread that really ran, as
 * QEMU does: gdb takes a stop of a thread it did not resume (say thread
 * 1 while it steps thread 2 with scheduler-locking) for an event it never
 * asked for, and gdb 13 then fails an internal assertion.
 */
static int stop_thread(struct gdb_stub *stub, int thread)
{
	if (gdb_thread_valid(stub, thread))
		return thread;
	if (gdb_thread_valid(stub, stub->resume_thread))
		return stub->resume_thread;
	return gdb_current_thread(stub);
}

void gdb_stub_stopped(struct gdb_stub *stub, const struct gdb_stop *stop)
{
	stub->last_stop = *stop;
	stub->last_stop.thread = stop_thread(stub, stop->thread);
	stop = &stub->last_stop;
	stub->running = false;
	/* gdb assumes the stopped thread becomes the Hg thread. */
	if (gdb_thread_valid(stub, stop->thread))
		stub->g_thread = stop->thread;
	if (!stub->await_stop)
		return;
	stub->await_stop = false;
	gdb_reply_begin(stub);
	reply_stop(stub);
	gdb_send_reply(stub);
}

bool gdb_stub_running(const struct gdb_stub *stub)
{
	return stub->running;
}

/* 0x03 outside a packet. A target already stopped has nothing to do. */
void gdb_interrupt(struct gdb_stub *stub)
{
	if (stub->running && !stub->detached)
		stub->ops->interrupt(stub->ctx);
}

static int handle_stop_query(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	if (stub->running) {
		/* Answered by the stop the backend was asked for. */
		stub->await_stop = true;
		stub->reply_deferred = true;
		return 0;
	}
	reply_stop(stub);
	return 0;
}

/* The thread a later Ctrl-C stop names (see stop_thread()). */
static int resumed_thread(struct gdb_stub *stub, const struct gdb_resume *r)
{
	int n = gdb_nr_threads(stub), cur = gdb_current_thread(stub);

	for (int t = 1; t <= n; t++)
		if (r->action[t - 1] == GDB_ACT_STEP)
			return t;
	if (r->action[cur - 1] != GDB_ACT_NONE)
		return cur;
	for (int t = 1; t <= n; t++)
		if (r->action[t - 1] != GDB_ACT_NONE)
			return t;
	return cur;
}

static int do_resume(struct gdb_stub *stub, const struct gdb_resume *r)
{
	int ret;

	if (stub->killed)
		return -ESRCH;	/* ended: only vRun brings it back */
	stub->resume_thread = resumed_thread(stub, r);
	stub->started = true;
	stub->running = true;
	stub->await_stop = true;
	stub->reply_deferred = true;
	ret = stub->ops->resume(stub->ctx, r);
	if (ret < 0 && stub->await_stop) {
		stub->running = false;
		stub->await_stop = false;
		stub->reply_deferred = false;
	}
	return ret < 0 ? ret : 0;
}

/* ---- vCont ------------------------------------------------------------- */

static int handle_vcont_query(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	gdb_reply_str(stub, "vCont;c;C;s;S;t");
	return 0;
}

static int parse_action(const char **p, const char *end,
			enum gdb_action *act, int *sig)
{
	uint64_t v = 0;
	char c = *(*p)++;

	if (c == 'C' || c == 'S') {
		if (gdb_parse_hex64(p, end, &v) || v > 0xff)
			return -EINVAL;
	} else if (c != 'c' && c != 's' && c != 't') {
		return -EINVAL;
	}
	*sig = (int)v;
	*act = c == 'c' || c == 'C' ? GDB_ACT_CONT :
	       c == 's' || c == 'S' ? GDB_ACT_STEP : GDB_ACT_NONE;
	return 0;
}

/* The leftmost action naming a thread (or none: every thread) wins. */
static int apply_action(struct gdb_stub *stub, struct gdb_resume *r,
			bool *set, int tid, enum gdb_action act, int sig)
{
	int n = gdb_nr_threads(stub);

	if (tid == 0)
		tid = gdb_current_thread(stub);
	if (tid > n)
		return -ESRCH;
	for (int t = 1; t <= n; t++) {
		if ((tid == -1 || tid == t) && !set[t - 1]) {
			set[t - 1] = true;
			r->action[t - 1] = act;
			r->signal[t - 1] = sig;
		}
	}
	return 0;
}

/* "s:2;c", "c", "C05:1;t" ... (threads without an action stay stopped) */
static int parse_vcont(struct gdb_stub *stub, const char *p, const char *end,
		       struct gdb_resume *r)
{
	bool set[GDB_MAX_THREADS] = { false };
	enum gdb_action act;
	int sig, tid, ret;

	memset(r, 0, sizeof(*r));
	if (p == end)
		return -EINVAL;
	while (p < end) {
		tid = -1;
		if (parse_action(&p, end, &act, &sig))
			return -EINVAL;
		if (p < end && *p == ':') {
			p++;
			if (gdb_parse_thread_id(&p, end, &tid))
				return -EINVAL;
		}
		if (p < end) {
			/* Actions are ';'-separated; no trailing ';'. */
			if (*p != ';' || ++p == end)
				return -EINVAL;
		}
		ret = apply_action(stub, r, set, tid, act, sig);
		if (ret)
			return ret;
	}
	return 0;
}

static int handle_vcont(struct gdb_stub *stub, const struct gdb_args *a)
{
	struct gdb_resume r;
	int n = gdb_nr_threads(stub), ret;
	bool any = false;

	ret = parse_vcont(stub, a->str, a->str + a->str_len, &r);
	if (ret)
		return ret;
	for (int t = 0; t < n; t++)
		any |= r.action[t] != GDB_ACT_NONE;
	if (!any)
		return -EINVAL;	/* "t" alone: nothing to wait for */
	return do_resume(stub, &r);
}

/* ---- legacy c / s / C / S ---------------------------------------------- */

/*
 * As gdbserver: with an Hc thread, only that thread moves; otherwise the
 * current thread takes the action and every other thread continues.
 */
static int legacy_resume(struct gdb_stub *stub, enum gdb_action act,
			 int sig, bool has_addr, uint64_t addr)
{
	struct gdb_resume r;
	bool only = gdb_thread_valid(stub, stub->c_thread);
	int tid = only ? stub->c_thread : gdb_current_thread(stub);
	int n = gdb_nr_threads(stub);

	if (has_addr) {
		struct gdb_x86_regs regs;
		int ret = stub->ops->read_regs(stub->ctx, tid, &regs);

		regs.rip = addr;
		if (!ret)
			ret = stub->ops->write_regs(stub->ctx, tid, &regs);
		if (ret < 0)
			return ret;
	}
	memset(&r, 0, sizeof(r));
	for (int t = 1; t <= n; t++)
		r.action[t - 1] = only ? GDB_ACT_NONE : GDB_ACT_CONT;
	r.action[tid - 1] = act;
	r.signal[tid - 1] = sig;
	return do_resume(stub, &r);
}

static int handle_continue(struct gdb_stub *stub, const struct gdb_args *a)
{
	return legacy_resume(stub, GDB_ACT_CONT, 0, a->nnum == 1, a->num[0]);
}

static int handle_step(struct gdb_stub *stub, const struct gdb_args *a)
{
	return legacy_resume(stub, GDB_ACT_STEP, 0, a->nnum == 1, a->num[0]);
}

static int handle_continue_sig(struct gdb_stub *stub, const struct gdb_args *a)
{
	if (a->num[0] > 0xff)
		return -EINVAL;
	return legacy_resume(stub, GDB_ACT_CONT, (int)a->num[0], a->nnum == 2,
			     a->num[1]);
}

static int handle_step_sig(struct gdb_stub *stub, const struct gdb_args *a)
{
	if (a->num[0] > 0xff)
		return -EINVAL;
	return legacy_resume(stub, GDB_ACT_STEP, (int)a->num[0], a->nnum == 2,
			     a->num[1]);
}

/* ---- extended mode ----------------------------------------------------- */

/*
 * '!': this client may kill and restart the target and stay (vKill, vRun,
 * R). Accepted only when the backend can do both; gdb ignores the reply
 * (it then finds vKill and vRun unsupported).
 */
static int handle_extended(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	if (!stub->ops->end || !stub->ops->restart)
		return 0;
	stub->extended = true;
	gdb_reply_str(stub, "OK");
	return 0;
}

/* The target is over, the session is not: '?' now answers X09. */
static void end_target(struct gdb_stub *stub)
{
	stub->ops->end(stub->ctx);
	stub->killed = true;
	stub->started = true;
	stub->running = false;
	stub->await_stop = false;
}

/* Outside extended mode: unsupported, so gdb falls back to 'k'. */
static int handle_vkill(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	if (!stub->extended)
		return 0;
	end_target(stub);
	gdb_reply_str(stub, "OK");
	return 0;
}

/* What a new process's stub needs to go on with this client (";xlldb=1"
 * only after lldb's 'x' probe, so older strings still parse).
 */
static void session_string(const struct gdb_stub *stub, bool reply,
			   char *buf, size_t len)
{
	snprintf(buf, len, "ack=%d;noack=%d;ext=%d;swbreak=%d;hwbreak=%d;"
		 "tsuffix=%d;lthreads=%d;reply=%d%s", stub->ack_pending,
		 stub->no_ack, stub->extended, stub->client_swbreak,
		 stub->client_hwbreak, stub->thread_suffix, stub->list_threads,
		 reply, stub->x_lldb ? ";xlldb=1" : "");
}

/* A target started over: as a new stub finds it (stopped at entry). */
static void fresh_target(struct gdb_stub *stub)
{
	stub->killed = false;
	stub->started = false;
	stub->running = false;
	stub->await_stop = false;
	stub->last_stop = (struct gdb_stop){ .reason = GDB_STOP_SIGNAL,
		.thread = 1, .signal = GDB_SIGTRAP };
	stub->g_thread = 1;
}

static int restart(struct gdb_stub *stub, bool reply)
{
	char session[160];
	int ret;

	if (!stub->extended)
		return 0;	/* unsupported outside extended mode */
	session_string(stub, reply, session, sizeof(session));
	ret = stub->ops->restart(stub->ctx, session);
	if (ret < 0)
		return ret;
	fresh_target(stub);
	if (reply)
		reply_stop(stub);
	else
		gdb_send_ack(stub);	/* R has no reply */
	stub->reply_deferred = !reply;
	return 0;
}

/* "vRun;FILE;ARGS...": the guest is the launcher's own; both are ignored. */
static int handle_vrun(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	return restart(stub, true);
}

static int handle_restart(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	return restart(stub, false);
}

static int session_flag(const char **p, const char *name, bool *val)
{
	size_t n = strlen(name);

	if (strncmp(*p, name, n) || (*p)[n] != '=' ||
	    ((*p)[n + 1] != '0' && (*p)[n + 1] != '1'))
		return -EINVAL;
	*val = (*p)[n + 1] == '1';
	*p += n + 2;
	if (**p == ';')
		(*p)++;
	return 0;
}

int gdb_stub_resume_session(struct gdb_stub *stub, const char *session)
{
	bool ack, noack, ext, swb, hwb, tsuf, lthr, reply, xlldb = false;
	const char *p = session;

	if (!p || session_flag(&p, "ack", &ack) ||
	    session_flag(&p, "noack", &noack) || session_flag(&p, "ext", &ext) ||
	    session_flag(&p, "swbreak", &swb) ||
	    session_flag(&p, "hwbreak", &hwb) ||
	    session_flag(&p, "tsuffix", &tsuf) ||
	    session_flag(&p, "lthreads", &lthr) ||
	    session_flag(&p, "reply", &reply) ||
	    (*p && session_flag(&p, "xlldb", &xlldb)) || *p)
		return -EINVAL;
	stub->no_ack = noack;
	stub->extended = ext;
	stub->client_swbreak = swb;
	stub->client_hwbreak = hwb;
	stub->thread_suffix = tsuf;
	stub->list_threads = lthr;
	stub->x_lldb = xlldb;
	fresh_target(stub);
	stub->ack_pending = ack;
	if (!reply) {
		if (ack)
			gdb_send_ack(stub);
		return 0;
	}
	gdb_reply_begin(stub);
	reply_stop(stub);
	gdb_send_reply(stub);
	return 0;
}

/* ---- leaving ----------------------------------------------------------- */

static int handle_detach(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	stub->ops->detach(stub->ctx);
	stub->started = true;
	stub->running = stub->last_stop.reason != GDB_STOP_EXITED;
	stub->await_stop = false;
	stub->detached = true;
	gdb_reply_str(stub, "OK");
	return 0;
}

/*
 * 'k' has no reply in gdb's protocol (gdb sends it and hangs up), but
 * lldb waits for the process's end: "X09", killed by SIGKILL, as
 * gdbserver and debugserver answer. gdb ignores it.
 */
static int handle_kill(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	if (stub->extended && stub->ops->end) {
		end_target(stub);
		gdb_reply_str(stub, "X09");
		return 0;
	}
	stub->ops->kill(stub->ctx);
	stub->running = false;
	stub->await_stop = false;
	stub->detached = true;
	gdb_reply_str(stub, "X09");
	return 0;
}

const struct gdb_cmd gdb_run_cmds[] = {
	{ "?", GDB_EXACT, "", handle_stop_query, 0 },
	{ "vCont?", GDB_EXACT, "", handle_vcont_query, 0 },
	{ "vCont;", GDB_PREFIX, "S", handle_vcont, GDB_CMD_STOPPED },
	{ "c", GDB_PREFIX, "[L]", handle_continue, GDB_CMD_STOPPED },
	{ "s", GDB_PREFIX, "[L]", handle_step, GDB_CMD_STOPPED },
	{ "C", GDB_PREFIX, "L[;L]", handle_continue_sig, GDB_CMD_STOPPED },
	{ "S", GDB_PREFIX, "L[;L]", handle_step_sig, GDB_CMD_STOPPED },
	{ "D", GDB_PREFIX, "[;L]", handle_detach, 0 },
	{ "k", GDB_EXACT, "", handle_kill, 0 },
	{ "!", GDB_EXACT, "", handle_extended, 0 },
	{ "vKill;", GDB_PREFIX, "L", handle_vkill, 0 },
	{ "vRun;", GDB_PREFIX, "S", handle_vrun, GDB_CMD_STOPPED },
	{ "R", GDB_PREFIX, "[L]", handle_restart, GDB_CMD_STOPPED },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
