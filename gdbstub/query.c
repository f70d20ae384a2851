// SPDX-License-Identifier: GPL-2.0
/*
 * General queries and settings: qSupported, no-ack mode, qOffsets,
 * qAttached, and what lldb asks before it trusts a gdb stub (qHostInfo,
 * qProcessInfo, thread suffixes).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "gdbstub/internal.h"

/* lldb wants a triple; a freestanding x86-64 target is what a guest is. */
#define GDB_TRIPLE	"x86_64-unknown-none-elf"

static bool has_feature(const char *s, size_t len, const char *feat)
{
	size_t n = strlen(feat);

	if (!s)
		return false;	/* bare "qSupported" */
	for (const char *end = s + len; s < end;) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		size_t flen = semi ? (size_t)(semi - s) : (size_t)(end - s);

		if (flen == n && !memcmp(s, feat, n))
			return true;
		s += flen + 1;
	}
	return false;
}

static int handle_supported(struct gdb_stub *stub, const struct gdb_args *a)
{
	stub->client_swbreak = has_feature(a->str, a->str_len, "swbreak+");
	stub->client_hwbreak = has_feature(a->str, a->str_len, "hwbreak+");
	gdb_reply_printf(stub, "PacketSize=%x;qXfer:features:read+;"
			 "qXfer:threads:read+;QStartNoAckMode+;"
			 "vContSupported+;swbreak+;hwbreak+;QNonStop+;"
			 "binary-upload+",
			 GDB_PACKET_SIZE);
	return 0;
}

/* The OK itself is still acked; every later packet is not. */
static int handle_no_ack(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	stub->no_ack = true;
	gdb_reply_str(stub, "OK");
	return 0;
}

/*
 * gdb's "set non-stop on" sends QNonStop:1 before anything else and
 * gives up on an error, showing the text: say why and what to do.
 */
static int handle_non_stop(struct gdb_stub *stub, const struct gdb_args *a)
{
	if (a->num[0] > 1)
		return -EINVAL;
	if (a->num[0] == 1)
		gdb_reply_error_text(stub, "non-stop mode is not supported: "
				     "kvmdbg-launch is an all-stop stub; "
				     "use 'set non-stop off'");
	else
		gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_offsets(struct gdb_stub *stub, const struct gdb_args *a)
{
	uint64_t text = 0, data = 0;
	int ret = 0;

	(void)a;
	if (stub->ops->offsets)
		ret = stub->ops->offsets(stub->ctx, &text, &data);
	if (ret < 0)
		return ret;
	if (ret == GDB_OFFSETS_SEGMENT)
		gdb_reply_printf(stub, "TextSeg=%" PRIx64, text);
	else
		gdb_reply_printf(stub, "Text=%" PRIx64 ";Data=%" PRIx64 ";Bss=%" PRIx64,
				 text, data, data);
	return 0;
}

/* "1": we attached to an existing target, so quitting gdb detaches. */
static int handle_attached(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	gdb_reply_str(stub, "1");
	return 0;
}

static void reply_triple(struct gdb_stub *stub)
{
	gdb_reply_str(stub, "triple:");
	gdb_reply_hex(stub, GDB_TRIPLE, strlen(GDB_TRIPLE));
	gdb_reply_str(stub, ";ptrsize:8;endian:little;");
}

static int handle_host_info(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	reply_triple(stub);
	return 0;
}

static int handle_process_info(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	gdb_reply_str(stub, "pid:1;");
	reply_triple(stub);
	return 0;
}

static int handle_thread_suffix(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	stub->thread_suffix = true;
	gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_list_threads(struct gdb_stub *stub, const struct gdb_args *a)
{
	(void)a;
	stub->list_threads = true;
	gdb_reply_str(stub, "OK");
	return 0;
}

const struct gdb_cmd gdb_query_cmds[] = {
	{ "qSupported", GDB_PREFIX, "[:S]", handle_supported, 0 },
	{ "QStartNoAckMode", GDB_EXACT, "", handle_no_ack, 0 },
	{ "QNonStop:", GDB_PREFIX, "L", handle_non_stop, 0 },
	{ "qOffsets", GDB_EXACT, "", handle_offsets, GDB_CMD_STOPPED },
	{ "qAttached", GDB_PREFIX, "[:S]", handle_attached, 0 },
	{ "qHostInfo", GDB_EXACT, "", handle_host_info, 0 },
	{ "qProcessInfo", GDB_EXACT, "", handle_process_info, 0 },
	{ "QThreadSuffixSupported", GDB_EXACT, "", handle_thread_suffix, 0 },
	{ "QListThreadsInStopReply", GDB_EXACT, "", handle_list_threads, 0 },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
