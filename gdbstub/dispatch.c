// SPDX-License-Identifier: GPL-2.0
/*
 * Packet dispatch: find the table entry for a payload, parse its arguments
 * per the entry's schema (see struct gdb_cmd), then run the handler. A
 * handler only ever sees well-formed arguments; unknown packets get the
 * empty reply, malformed ones E22, those that need a stopped target
 * (GDB_CMD_STOPPED) E16 while it runs.
 */
#include <errno.h>
#include <string.h>

#include "gdbstub/internal.h"

static const struct gdb_cmd *const tables[] = {
	gdb_run_cmds,
	gdb_regs_cmds,
	gdb_memory_cmds,
	gdb_threads_cmds,
	gdb_breakpoint_cmds,
	gdb_monitor_cmds,
	gdb_query_cmds,
};

static bool cmd_matches(const struct gdb_cmd *cmd, const char *pkt,
			size_t len)
{
	size_t n = strlen(cmd->name);

	if (cmd->match == GDB_EXACT)
		return n == len && !memcmp(cmd->name, pkt, n);
	return n <= len && !memcmp(cmd->name, pkt, n);
}

static const struct gdb_cmd *find_cmd(const char *pkt, size_t len)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct gdb_cmd *c = tables[t]; c->name; c++) {
			if (cmd_matches(c, pkt, len))
				return c;
		}
	}
	return NULL;
}

static int parse_word(const char **p, const char *end, char stop,
		      struct gdb_args *a)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s != stop)
		s++;
	n = (size_t)(s - *p);
	if (n == 0 || n >= sizeof(a->word) || memchr(*p, '\0', n))
		return -EINVAL;
	memcpy(a->word, *p, n);
	a->word[n] = '\0';
	*p = s;
	return 0;
}

static int parse_hex_rest(struct gdb_stub *stub, const char **p,
			  const char *end, struct gdb_args *a)
{
	int n = gdb_hex_decode(stub->scratch, GDB_SCRATCH_SIZE, *p,
			       (size_t)(end - *p));

	if (n < 0)
		return n;
	a->data = stub->scratch;
	a->len = (size_t)n;
	*p = end;
	return 0;
}

static int parse_field(struct gdb_stub *stub, const char *sc,
		       const char **p, const char *end, struct gdb_args *a)
{
	switch (*sc) {
	case 'L':
		if (a->nnum >= (int)(sizeof(a->num) / sizeof(a->num[0])))
			return -EINVAL;
		return gdb_parse_hex64(p, end, &a->num[a->nnum++]);
	case 'T':
		return gdb_parse_thread_id(p, end, &a->tid);
	case 'X':
		return parse_hex_rest(stub, p, end, a);
	case 'B':
		a->data = (const uint8_t *)*p;
		a->len = (size_t)(end - *p);
		*p = end;
		return 0;
	case 'S':
		a->str = *p;
		a->str_len = (size_t)(end - *p);
		*p = end;
		return 0;
	case 'W':
		return parse_word(p, end, sc[1], a);
	default:
		if (*p >= end || **p != *sc)
			return -EINVAL;
		(*p)++;
		return 0;
	}
}

int gdb_parse_args(struct gdb_stub *stub, const char *schema,
		   const char *p, const char *end, struct gdb_args *a)
{
	memset(a, 0, sizeof(*a));
	for (const char *sc = schema; *sc; sc++) {
		int ret;

		if (*sc == ']')
			continue;
		if (*sc == '[') {
			if (p == end)
				return 0;
			continue;
		}
		ret = parse_field(stub, sc, &p, end, a);
		if (ret)
			return ret;
	}
	return p == end ? 0 : -EINVAL;
}

/*
 * lldb's QThreadSuffixSupported: register packets carry ";thread:N;" at
 * the end instead of a preceding Hg. When the part before it is such a
 * packet, cut the suffix off and remember N for the handler.
 */
static const struct gdb_cmd *find_suffixed_cmd(struct gdb_stub *stub,
					       const char *pkt, size_t *len)
{
	static const char key[] = ";thread:";
	const char *end = pkt + *len, *s, *p;
	const struct gdb_cmd *cmd;
	int tid;

	s = memmem(pkt, *len, key, sizeof(key) - 1);
	if (!s)
		return NULL;
	cmd = find_cmd(pkt, (size_t)(s - pkt));
	if (!cmd || !(cmd->flags & GDB_CMD_THREAD_SUFFIX))
		return NULL;
	p = s + sizeof(key) - 1;
	if (gdb_parse_thread_id(&p, end, &tid))
		tid = -2;	/* malformed: gdb_regs_thread() says E22 */
	if (p < end && *p == ';')
		p++;
	if (p != end)
		tid = -2;
	stub->pkt_thread = tid;
	*len = (size_t)(s - pkt);
	return cmd;
}

void gdb_dispatch(struct gdb_stub *stub, char *pkt, size_t len)
{
	const struct gdb_cmd *cmd = NULL;
	struct gdb_args args;
	int ret;

	gdb_reply_begin(stub);
	stub->pkt_thread = 0;
	if (stub->thread_suffix)
		cmd = find_suffixed_cmd(stub, pkt, &len);
	if (!cmd)
		cmd = find_cmd(pkt, len);
	if (!cmd) {
		gdb_send_reply(stub);	/* empty: "not supported" */
		return;
	}
	if ((cmd->flags & GDB_CMD_STOPPED) && stub->running) {
		gdb_reply_error(stub, -EBUSY);
		gdb_send_reply(stub);
		return;
	}
	ret = gdb_parse_args(stub, cmd->schema, pkt + strlen(cmd->name),
			     pkt + len, &args);
	if (!ret)
		ret = cmd->handler(stub, &args);
	if (ret < 0) {
		gdb_reply_error(stub, ret);
		stub->reply_deferred = false;
	}
	if (!stub->reply_deferred)
		gdb_send_reply(stub);
}
