// SPDX-License-Identifier: GPL-2.0
/*
 * qRcmd: "monitor CMD" in gdb. The stub handles help and phys itself and
 * hands everything else to ops->monitor. Output is collected (capped at
 * GDB_TEXT_SIZE) and sent hex encoded as the final reply, one packet;
 * "OK" when there is no output. A failing command sends its output as an
 * 'O' packet and then an E reply, so scripted gdb sessions see the error.
 * The backend's commands need a stopped target: while it runs they are
 * refused (E16, with a line saying so); help and phys work any time.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/internal.h"

#define MONITOR_CMD_MAX		1024

static void monitor_print(void *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void monitor_print(void *out, const char *fmt, ...)
{
	struct gdb_stub *stub = out;
	size_t room = GDB_TEXT_SIZE - stub->text_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stub->text + stub->text_len, room + 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		stub->text_len += (size_t)n < room ? (size_t)n : room;
}

static const char stub_help[] =
	"help           this list\n"
	"phys [on|off]  memory packets use guest-physical (on) or\n"
	"               guest-virtual (off, the default) addresses\n";

static int monitor_help(struct gdb_stub *stub)
{
	monitor_print(stub, "%s", stub_help);
	if (stub->ops->monitor)
		return stub->ops->monitor(stub->ctx, "help", true,
					  monitor_print, stub);
	return 0;
}

static int monitor_phys(struct gdb_stub *stub, const char *arg)
{
	if (!strcmp(arg, "on"))
		stub->phys = true;
	else if (!strcmp(arg, "off"))
		stub->phys = false;
	else if (*arg) {
		monitor_print(stub, "usage: phys [on|off]\n");
		return -EINVAL;
	}
	monitor_print(stub, "phys %s: memory packets use guest-%s addresses\n",
		      stub->phys ? "on" : "off",
		      stub->phys ? "physical" : "virtual");
	return 0;
}

bool gdb_stub_phys(const struct gdb_stub *stub)
{
	return stub->phys;
}

static int monitor_run(struct gdb_stub *stub, const char *cmd)
{
	int ret = -ENOENT;

	if (!*cmd || !strcmp(cmd, "help"))
		return monitor_help(stub);
	if (!strcmp(cmd, "phys"))
		return monitor_phys(stub, "");
	if (!strncmp(cmd, "phys ", 5))
		return monitor_phys(stub, cmd + 5 + strspn(cmd + 5, " \t"));
	if (stub->running) {
		/* The backend's commands read vCPU state: all-stop only. */
		monitor_print(stub, "monitor %s: the target is running; stop it first (Ctrl-C)\n",
			      cmd);
		return -EBUSY;
	}
	if (stub->ops->monitor)
		ret = stub->ops->monitor(stub->ctx, cmd, false, monitor_print,
					 stub);
	if (ret == -ENOENT) {
		/* Like QEMU: say so, but it is not a protocol error. */
		monitor_print(stub, "unknown monitor command '%s' (try 'monitor help')\n",
			      cmd);
		return 0;
	}
	return ret;
}

/* The command as text: no NULs, surrounding blanks and newline trimmed. */
static int monitor_command(const struct gdb_args *a, char *cmd)
{
	size_t len = a->len;
	const char *s = (const char *)a->data;

	if (len >= MONITOR_CMD_MAX || memchr(s, '\0', len))
		return -EINVAL;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	memcpy(cmd, s, len);
	cmd[len] = '\0';
	return 0;
}

static int handle_monitor(struct gdb_stub *stub, const struct gdb_args *a)
{
	char cmd[MONITOR_CMD_MAX];
	int ret = monitor_command(a, cmd);

	if (ret)
		return ret;
	stub->text_len = 0;
	ret = monitor_run(stub, cmd);
	if (ret < 0 && stub->text_len) {
		size_t n = stub->text_len;

		/* 'O' plus hex must fit one packet. */
		if (n > (GDB_PACKET_SIZE - 1) / 2)
			n = (GDB_PACKET_SIZE - 1) / 2;
		gdb_reply_str(stub, "O");
		gdb_reply_hex(stub, stub->text, n);
		gdb_send_reply(stub);
		gdb_reply_begin(stub);
	}
	if (ret < 0)
		return ret;
	if (stub->text_len)
		gdb_reply_hex(stub, stub->text, stub->text_len);
	else
		gdb_reply_str(stub, "OK");
	return 0;
}

const struct gdb_cmd gdb_monitor_cmds[] = {
	{ "qRcmd,", GDB_PREFIX, "X", handle_monitor, 0 },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
