// SPDX-License-Identifier: GPL-2.0
/*
 * Threads: thread N is the backend's thread N (vCPU N-1), 1..nr_threads.
 * Thread ids on the wire are hex; "0" means any thread, "-1" all. The
 * stub is all-stop, so every thread is always "alive" while it exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

int gdb_nr_threads(struct gdb_stub *stub)
{
	int n = stub->ops->nr_threads ? stub->ops->nr_threads(stub->ctx) : 1;

	if (n < 1)
		return 1;
	return n > GDB_MAX_THREADS ? GDB_MAX_THREADS : n;
}

bool gdb_thread_valid(struct gdb_stub *stub, int tid)
{
	return tid >= 1 && tid <= gdb_nr_threads(stub);
}

/* The thread gdb is looking at: its Hg choice, else the one that stopped. */
int gdb_current_thread(struct gdb_stub *stub)
{
	if (gdb_thread_valid(stub, stub->g_thread))
		return stub->g_thread;
	if (gdb_thread_valid(stub, stub->last_stop.thread))
		return stub->last_stop.thread;
	return 1;
}

/* The thread a register packet addresses, or -errno. */
int gdb_regs_thread(struct gdb_stub *stub)
{
	int tid = stub->pkt_thread;

	if (tid == -2)
		return -EINVAL;
	if (tid == 0 || tid == -1)
		return gdb_current_thread(stub);
	return gdb_thread_valid(stub, tid) ? tid : -ESRCH;
}

/* Hg / Hc: 0 and -1 are kept as such; run.c and the above resolve them. */
static int select_thread(struct gdb_stub *stub, int tid, int *slot)
{
	if (tid > 0 && !gdb_thread_valid(stub, tid))
		return -ESRCH;
	*slot = tid;
	gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_set_g_thread(struct gdb_stub *stub, const struct gdb_args *a)
{
	return select_thread(stub, a->tid, &stub->g_thread);
}

static int handle_set_c_thread(struct gdb_stub *stub, const struct gdb_args *a)
{
	return select_thread(stub, a->tid, &stub->c_thread);
}

static int handle_thread_alive(struct gdb_stub *stub, const struct gdb_args *a)
{
	if (!gdb_thread_valid(stub, a->tid))
		return -ESRCH;
	gdb_reply_str(stub, "OK");
	return 0;
}

/* Every thread in one reply: saves gdb a round trip per stop. */
static int handle_first_thread_info(struct gdb_stub *stub,
				    const struct gdb_args *a)
{
	int n = gdb_nr_threads(stub);

	(void)a;
	gdb_reply_str(stub, "m");
	for (int t = 1; t <= n; t++)
		gdb_reply_printf(stub, t > 1 ? ",%x" : "%x", t);
	return 0;
}

static int handle_next_thread_info(struct gdb_stub *stub,
				   const struct gdb_args *a)
{
	(void)a;
	gdb_reply_str(stub, "l");
	return 0;
}

static int handle_current_thread(struct gdb_stub *stub,
				 const struct gdb_args *a)
{
	(void)a;
	gdb_reply_printf(stub, "QC%x", gdb_current_thread(stub));
	return 0;
}

/* The backend's one-line description of @tid (or a default), in @info. */
static int thread_text(struct gdb_stub *stub, int tid, char *info, size_t len)
{
	int ret = 0;

	info[0] = '\0';
	if (stub->ops->thread_info)
		ret = stub->ops->thread_info(stub->ctx, tid, info, len);
	else
		snprintf(info, len, "thread %d", tid);
	info[len - 1] = '\0';	/* whatever the backend did */
	return ret;
}

static int handle_thread_extra_info(struct gdb_stub *stub,
				    const struct gdb_args *a)
{
	char info[256];
	int ret;

	if (!gdb_thread_valid(stub, a->tid))
		return -ESRCH;
	ret = thread_text(stub, a->tid, info, sizeof(info));
	if (ret < 0)
		return ret;
	gdb_reply_hex(stub, info, strlen(info));
	return 0;
}

/* Append @s to the @cap-byte document @x of length *n, escaping XML's
 * special characters when @escape; what does not fit is dropped.
 */
static void xml_append(char *x, size_t cap, size_t *n, const char *s,
		       bool escape)
{
	for (; *s; s++) {
		const char *e = !escape ? NULL : *s == '<' ? "&lt;" :
				*s == '>' ? "&gt;" : *s == '&' ? "&amp;" : NULL;
		size_t len = e ? strlen(e) : 1;

		if (*n + len >= cap)
			return;
		memcpy(x + *n, e ? e : s, len);
		*n += len;
	}
}

/*
 * qXfer:threads:read: every thread and its description in one document,
 * so a stop costs gdb one packet for the thread list (instead of
 * qfThreadInfo + qsThreadInfo) and "info threads" none per thread.
 * GDB_THREADS_XML_SIZE holds GDB_MAX_THREADS fully escaped entries.
 */
static void build_threads_xml(struct gdb_stub *stub)
{
	char *x = stub->threads_xml, info[GDB_THREAD_INFO_MAX], tag[32];
	size_t n = 0;
	int nr = gdb_nr_threads(stub);

	xml_append(x, GDB_THREADS_XML_SIZE, &n,
		   "<?xml version=\"1.0\"?>\n<threads>\n", false);
	for (int t = 1; t <= nr; t++) {
		if (thread_text(stub, t, info, sizeof(info)) < 0)
			info[0] = '\0';
		snprintf(tag, sizeof(tag), "<thread id=\"%x\">", t);
		xml_append(x, GDB_THREADS_XML_SIZE, &n, tag, false);
		xml_append(x, GDB_THREADS_XML_SIZE, &n, info, true);
		xml_append(x, GDB_THREADS_XML_SIZE, &n, "</thread>\n", false);
	}
	xml_append(x, GDB_THREADS_XML_SIZE, &n, "</threads>\n", false);
	stub->threads_xml_len = n;
}

static int handle_read_threads(struct gdb_stub *stub, const struct gdb_args *a)
{
	if (a->num[1] == 0)
		return -EINVAL;
	/* A new read starts at 0; later chunks page through the same copy. */
	if (a->num[0] == 0 || !stub->threads_xml_len)
		build_threads_xml(stub);
	gdb_reply_xfer(stub, stub->threads_xml, stub->threads_xml_len,
		       a->num[0], a->num[1]);
	return 0;
}

const struct gdb_cmd gdb_threads_cmds[] = {
	{ "Hg", GDB_PREFIX, "T", handle_set_g_thread, 0 },
	{ "Hc", GDB_PREFIX, "T", handle_set_c_thread, 0 },
	{ "T", GDB_PREFIX, "T", handle_thread_alive, 0 },
	{ "qfThreadInfo", GDB_EXACT, "", handle_first_thread_info, 0 },
	{ "qsThreadInfo", GDB_EXACT, "", handle_next_thread_info, 0 },
	{ "qC", GDB_EXACT, "", handle_current_thread, 0 },
	{ "qThreadExtraInfo,", GDB_PREFIX, "T", handle_thread_extra_info, 0 },
	{ "qXfer:threads:read::", GDB_PREFIX, "L,L", handle_read_threads, 0 },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
