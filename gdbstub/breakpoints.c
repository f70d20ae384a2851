// SPDX-License-Identifier: GPL-2.0
/*
 * Z / z: breakpoints and watchpoints, "Ztype,addr,kind". The backend owns
 * them (int3 patching, debug registers, page protection); the stub only
 * validates and maps errors: -ENOSPC (hardware slots exhausted) becomes
 * E28, which gdb reports as a breakpoint it could not insert, and an
 * unsupported type gets the empty reply, so gdb knows not to try again.
 * Z needs a stopped target (E16 while it runs: the backend translates
 * the address through a vCPU's page tables); z may come while it runs
 * (a client removing a breakpoint a vCPU may be hitting right then).
 */
#include <errno.h>

#include "gdbstub/internal.h"

static int breakpoint(struct gdb_stub *stub, const struct gdb_args *a,
		      bool insert)
{
	enum gdb_bp_type type = (enum gdb_bp_type)a->num[0];
	int ret;

	if (a->num[0] > GDB_WP_ACCESS)
		return 0;	/* empty reply: type not supported */
	if (insert)
		ret = stub->ops->insert_bp(stub->ctx, type, a->num[1],
					   a->num[2]);
	else
		ret = stub->ops->remove_bp(stub->ctx, type, a->num[1],
					   a->num[2]);
	if (ret == -EOPNOTSUPP)		/* == -ENOTSUP on Linux */
		return 0;
	if (ret < 0)
		return ret;
	gdb_reply_str(stub, "OK");
	return 0;
}

static int handle_insert_bp(struct gdb_stub *stub, const struct gdb_args *a)
{
	return breakpoint(stub, a, true);
}

static int handle_remove_bp(struct gdb_stub *stub, const struct gdb_args *a)
{
	return breakpoint(stub, a, false);
}

const struct gdb_cmd gdb_breakpoint_cmds[] = {
	{ "Z", GDB_PREFIX, "L,L,L", handle_insert_bp, GDB_CMD_STOPPED },
	{ "z", GDB_PREFIX, "L,L,L", handle_remove_bp, 0 },
	{ NULL, GDB_EXACT, NULL, NULL, 0 },
};
