/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gdb_server: the socket transport for a gdb_stub. Listens on TCP or a
 * unix socket, serves one client at a time, and after a client leaves
 * (detach or unexpected disconnect) accepts the next one.
 */
#ifndef KVMDBG_GDBSTUB_SERVER_H
#define KVMDBG_GDBSTUB_SERVER_H

#include <stddef.h>

#include "gdbstub/gdbstub.h"

struct gdb_server;

/*
 * Parse @spec ("PORT", "HOST:PORT" or "unix:PATH") and start listening.
 * "PORT" alone means 127.0.0.1:PORT (loopback only); port 0 picks a free
 * port (see gdb_server_addr()); "[::1]:PORT" for IPv6. A stale unix
 * socket file at PATH is replaced; a live one is EADDRINUSE, any other
 * file EEXIST.
 * Returns NULL with errno set (EADDRINUSE when the port is taken, EINVAL
 * for a malformed spec, ...). The listener exists once this returns, so a
 * client may connect right away.
 */
struct gdb_server *gdb_server_new(const char *spec);

/* "127.0.0.1:1234" or "unix:/path", for messages. */
const char *gdb_server_addr(const struct gdb_server *srv);

/*
 * Serve clients of @stub until gdb_server_shutdown(). Runs on the calling
 * thread (the VM's gdb thread). @event_fd is the backend's notification
 * fd: whenever it is readable, on_event(ctx) runs on this thread (it
 * typically drains the fd and calls gdb_stub_stopped()). on_connect(ctx)
 * runs when a client has been accepted, before any of its bytes are fed
 * to the stub (the backend stops the target there if it is running).
 * Returns 0 after shutdown, -errno on a fatal error.
 */
int gdb_server_run(struct gdb_server *srv, struct gdb_stub *stub,
		   int event_fd, void (*on_event)(void *ctx),
		   void (*on_connect)(void *ctx), void *ctx);

/* The connected client's fd, or -1: for a restart that hands it over. */
int gdb_server_client_fd(const struct gdb_server *srv);

/*
 * Before gdb_server_run(): serve @fd, a client already connected (handed
 * over by the process this one replaced, see gdb_target_ops.restart), as
 * the first client, its protocol state taken back from @session. Takes
 * @fd (made non-blocking and close-on-exec). 0, -EBUSY if a client is
 * connected, -errno.
 */
int gdb_server_adopt(struct gdb_server *srv, int fd, const char *session);

/*
 * Before gdb_server_run(): after serving a client's packets, look for its
 * next bytes without sleeping for up to @ns nanoseconds (yielding the CPU
 * between looks) before blocking in poll(). 0 (the default) never spins.
 */
void gdb_server_set_rx_spin(struct gdb_server *srv, long ns);

/* Thread-safe: makes gdb_server_run() return soon, even while it waits to
 * write to a client that stopped reading. A connected client is closed
 * without ops->detach (the caller is tearing the target down).
 */
void gdb_server_shutdown(struct gdb_server *srv);

/* Close the listener (and a unix socket's path). Not while running. */
void gdb_server_free(struct gdb_server *srv);

#endif /* KVMDBG_GDBSTUB_SERVER_H */
