// SPDX-License-Identifier: GPL-2.0
/*
 * Memory packets: m (hex read), x (binary read), M (hex write), X (binary
 * write). Addresses are guest-virtual through the current thread's page
 * tables, or guest-physical after "monitor phys on".
 */
#include <errno.h>
#include <stdbool.h>

#include "gdbstub/internal.h"

/* Reads @len bytes (> 0) into scratch: a count, or -errno (-EFAULT when
 * nothing could be read).
 */
static int read_mem(struct gdb_stub *stub, uint64_t addr, size_t len)
{
	int n = stub->ops->read_mem(stub->ctx, gdb_current_thread(stub),
				    stub->phys, addr, stub->scratch, len);

	if (n < 0)
		return n;
	if (n == 0)
		return -EFAULT;
	return (size_t)n > len ? (int)len : n;	/* a backend overrunning */
}

/*
 * A read reply is hex, two characters a byte, so one 'm' returns at most
 * GDB_HEX_READ_MAX bytes; gdb takes a shorter reply as a partial read.
 */
static int handle_read_mem(struct gdb_stub *stub, const struct gdb_args *a)
{
	uint64_t addr = a->num[0], len = a->num[1];
	int n;

	if (len > GDB_HEX_READ_MAX)
		len = GDB_HEX_READ_MAX;
	if (len == 0)
		return 0;	/* zero bytes: the empty hex string */
	n = read_mem(stub, addr, (size_t)len);
	if (n < 0)
		return n;
	gdb_reply_hex_rle(stub, stub->scratch, (size_t)n);
	return 0;
}

static bool is_hex(uint8_t c)
{
	return gdb_hexval(c) >= 0;
}

/*
 * lldb before 20 reads an 'x' reply without the 'b' and classifies it
 * like any reply first: "OK", "+", "-", "Exx" and "Exx;<hex>" are not
 * data to it (StringExtractorGDBRemote::GetResponseType). How many of
 * the @n bytes at @d can go in one reply; lldb asks for the rest, as
 * after any short read. 0: a single '+' or '-', which needs a second
 * byte after it (lldb drops bytes past what it asked for).
 */
static size_t lldb_data_len(const uint8_t *d, size_t n)
{
	if (n == 1 && (d[0] == '+' || d[0] == '-'))
		return 0;
	if (n == 2 && d[0] == 'O' && d[1] == 'K')
		return 1;
	if (n >= 3 && d[0] == 'E' && is_hex(d[1]) && is_hex(d[2])) {
		size_t i = 4;

		if (n > 3 && d[3] != ';')
			return n;
		while (i < n && is_hex(d[i]))
			i++;
		return i < n ? n : 2;
	}
	return n;
}

/* lldb's dialect of an 'x' reply: the data alone, never mistaken. */
static int reply_lldb_data(struct gdb_stub *stub, uint64_t addr, int n)
{
	size_t sent = gdb_reply_binary(stub, stub->scratch, (size_t)n);
	size_t keep = lldb_data_len(stub->scratch, sent);

	if (keep == 0) {
		/* One '+' or '-': read a second byte, if there is one. */
		if (read_mem(stub, addr, 2) < 2)
			return -EFAULT;
		keep = 2;
	}
	if (keep != sent) {
		gdb_reply_clear(stub);
		gdb_reply_binary(stub, stub->scratch, keep);
	}
	return 0;
}

/*
 * "x addr,length": the bytes as binary data, '}'-escaped, after a 'b'
 * (GDB's manual; gdb 16 and lldb 20 use it when qSupported says
 * binary-upload+), as many as fit a packet: a shorter reply is a partial
 * read. "b" alone for length 0, E14 when nothing is readable. lldb
 * before 20 does not know binary-upload: it probes with "x0,0", wants
 * "OK", and then reads replies without the 'b'; that probe switches the
 * session to its dialect (zero lengths answered "OK", as lldb-server
 * does). gdb never reads zero bytes at 0, so nothing else is mistaken
 * for the probe.
 */
static int handle_read_mem_bin(struct gdb_stub *stub,
			       const struct gdb_args *a)
{
	uint64_t addr = a->num[0], len = a->num[1];
	size_t max = GDB_PACKET_SIZE - (stub->x_lldb ? 0 : 1);
	int n;

	if (addr == 0 && len == 0)
		stub->x_lldb = true;
	if (len == 0) {
		gdb_reply_str(stub, stub->x_lldb ? "OK" : "b");
		return 0;
	}
	if (len > max)
		len = max;
	n = read_mem(stub, addr, (size_t)len);
	if (n < 0)
		return n;
	if (stub->x_lldb)
		return reply_lldb_data(stub, addr, n);
	gdb_reply_str(stub, "b");
	gdb_reply_binary(stub, stub->scratch, (size_t)n);
	return 0;
}

static int write_mem(struct gdb_stub *stub, uint64_t addr, uint64_t len,
		     const struct gdb_args *a)
{
	int n;

	if (len != a->len)
		return -EINVAL;
	if (len) {
		n = stub->ops->write_mem(stub->ctx, gdb_current_thread(stub),
					 stub->phys, addr, a->data, a->len);
		if (n < 0)
			return n;
		if ((uint64_t)n < len)
			return -EFAULT;	/* partly written: still a fault */
	}
	gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_write_mem_hex(struct gdb_stub *stub,
				const struct gdb_args *a)
{
	return write_mem(stub, a->num[0], a->num[1], a);
}

/* "X addr,0:" is gdb's probe for binary download support: answer OK. */
static int handle_write_mem_bin(struct gdb_stub *stub,
				const struct gdb_args *a)
{
	return write_mem(stub, a->num[0], a->num[1], a);
}

const struct gdb_cmd gdb_memory_cmds[] = {
	{ "m", GDB_PREFIX, "L,L", handle_read_mem, GDB_CMD_STOPPED },
	{ "x", GDB_PREFIX, "L,L", handle_read_mem_bin, GDB_CMD_STOPPED },
	{ "M", GDB_PREFIX, "L,L:X", handle_write_mem_hex, GDB_CMD_STOPPED },
	{ "X", GDB_PREFIX, "L,L:B", handle_write_mem_bin, GDB_CMD_STOPPED },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
