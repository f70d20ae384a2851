// SPDX-License-Identifier: GPL-2.0
/*
 * Life cycle of a gdb_stub. All buffers are allocated here, once, at
 * fixed sizes; nothing a client sends changes how much memory the stub
 * holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/internal.h"

static bool ops_complete(const struct gdb_target_ops *ops)
{
	/* nr_threads, thread_info, offsets, monitor, reg_sets, hold, end
	 * and restart are optional.
	 */
	return ops && ops->read_regs && ops->write_regs && ops->read_mem &&
	       ops->write_mem && ops->insert_bp && ops->remove_bp &&
	       ops->resume && ops->interrupt && ops->detach && ops->kill;
}

struct gdb_stub *gdb_stub_new(const struct gdb_target_ops *ops, void *ctx)
{
	struct gdb_stub *stub;

	if (!ops_complete(ops)) {
		errno = EINVAL;
		return NULL;
	}
	stub = calloc(1, sizeof(*stub));
	if (!stub)
		return NULL;
	stub->ops = ops;
	stub->ctx = ctx;
	stub->rx = malloc(GDB_PACKET_SIZE + 1);
	stub->tx = malloc(GDB_TX_SIZE);
	stub->scratch = malloc(GDB_SCRATCH_SIZE);
	stub->text = malloc(GDB_TEXT_SIZE + 1);
	stub->xml = malloc(GDB_XML_SIZE);
	stub->threads_xml = malloc(GDB_THREADS_XML_SIZE);
	if (!stub->rx || !stub->tx || !stub->scratch || !stub->text ||
	    !stub->xml || !stub->threads_xml)
		goto err_free;
	stub->last_stop.reason = GDB_STOP_SIGNAL;
	stub->last_stop.thread = 1;
	stub->last_stop.signal = 5;
	gdb_stub_reset(stub);
	return stub;

err_free:
	gdb_stub_free(stub);
	errno = ENOMEM;
	return NULL;
}

void gdb_stub_free(struct gdb_stub *stub)
{
	if (!stub)
		return;
	free(stub->rx);
	free(stub->tx);
	free(stub->scratch);
	free(stub->text);
	free(stub->xml);
	free(stub->threads_xml);
	free(stub);
}

void gdb_stub_set_output(struct gdb_stub *stub, gdb_output_fn fn, void *arg)
{
	stub->out = fn;
	stub->out_arg = arg;
}

/* A new client: protocol state starts over, the target's state does not. */
void gdb_stub_reset(struct gdb_stub *stub)
{
	gdb_rx_reset(stub);
	stub->tx_last = 0;
	gdb_reply_clear(stub);
	stub->threads_xml_len = 0;
	stub->ack_pending = false;
	stub->no_ack = false;
	stub->g_thread = 0;
	stub->c_thread = 0;
	stub->pkt_thread = 0;
	stub->phys = false;
	stub->client_swbreak = false;
	stub->client_hwbreak = false;
	stub->thread_suffix = false;
	stub->list_threads = false;
	stub->x_lldb = false;
	stub->detached = false;
	stub->extended = false;
	stub->await_stop = false;
}

void gdb_stub_disconnected(struct gdb_stub *stub)
{
	if (stub->detached)
		return;		/* 'D' or 'k' already let go of the target */
	stub->await_stop = false;
	stub->detached = true;
	if (stub->killed)
		return;		/* ended: nothing left to let go */
	if (!stub->started && stub->ops->hold) {
		/* Nobody ever let it run: it still waits for a debugger. */
		stub->ops->hold(stub->ctx);
		return;
	}
	stub->ops->detach(stub->ctx);
	stub->started = true;
	stub->running = stub->last_stop.reason != GDB_STOP_EXITED;
}
