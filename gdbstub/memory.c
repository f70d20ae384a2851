// SPDX-License-Identifier: GPL-2.0
/*
 * Memory packets: m (hex read), M (hex write), X (binary write). Addresses
 * are guest-virtual through the current thread's page tables, or
 * guest-physical after "monitor phys on".
 */
#include <errno.h>

#include "gdbstub/internal.h"

/*
 * A read reply is hex, two characters a byte, so one 'm' returns at most
 * GDB_SCRATCH_SIZE bytes; gdb takes a shorter reply as a partial read.
 */
static int handle_read_mem(struct gdb_stub *stub, const struct gdb_args *a)
{
	uint64_t addr = a->num[0], len = a->num[1];
	int n;

	if (len > GDB_SCRATCH_SIZE)
		len = GDB_SCRATCH_SIZE;
	if (len == 0)
		return 0;	/* zero bytes: the empty hex string */
	n = stub->ops->read_mem(stub->ctx, gdb_current_thread(stub),
				stub->phys, addr, stub->scratch, (size_t)len);
	if (n < 0)
		return n;
	if (n == 0)
		return -EFAULT;
	if ((uint64_t)n > len)
		n = (int)len;	/* a backend overrunning its count */
	gdb_reply_hex_rle(stub, stub->scratch, (size_t)n);
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
	{ "M", GDB_PREFIX, "L,L:X", handle_write_mem_hex, GDB_CMD_STOPPED },
	{ "X", GDB_PREFIX, "L,L:B", handle_write_mem_bin, GDB_CMD_STOPPED },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
