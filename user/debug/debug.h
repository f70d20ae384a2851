/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/debug/: the gdb back end. Owns breakpoints, registers, memory,
 * stops and resumes of one VM under gdbstub/. Calls user/vmm/ (vm.h),
 * user/lib/ and gdbstub/; never user/snapshot/ (see debug__add_monitor).
 */
/*
 * The debug backend: a gdb stub (gdbstub/) serving one VM, with its own
 * listener and gdb thread, implemented on the VMM core (user/vmm/vm.h).
 * State is per VM; any number of VMs in one process may be debugged at
 * once, each on its own socket.
 */
#ifndef KVMDBG_USER_DEBUG_H
#define KVMDBG_USER_DEBUG_H

#include <stdbool.h>

struct vm;
struct debug;

/*
 * Between vm__create() and vm__start(): listen on @gdb_spec ("PORT",
 * "HOST:PORT" or "unix:PATH"), install the VM's debug hooks and start its
 * gdb thread. The VM then starts paused: every vCPU waits at the entry
 * point until a client attaches and resumes it.
 *
 * *out is the backend's handle for the calls below.
 *
 * When the address is in use the VM runs without a debugger: one line
 * "gdb: 127.0.0.1:1234 in use; running without a debugger" goes to
 * stderr, *out is NULL and 0 is returned. Other failures print one line to stderr
 * ("gdb: ...") and return -errno; the VM is left as it was.
 */
int debug__start(struct vm *vm, const char *gdb_spec, struct debug **out);

/*
 * Before debug__start(), in a process that runs this one VM and no gdb
 * driver: let an extended-remote client restart the guest (gdb's "run",
 * packets vRun and R). The launcher then re-executes itself with the
 * same command line and hands the connected client to the new process,
 * whose debug__start() takes it back (environment KVMDBG_GDB_FD,
 * KVMDBG_GDB_SESSION, KVMDBG_GDB_ADDR; see docs/debugging.md).
 */
void debug__allow_restart(void);

/*
 * After vm__wait() has returned (the guest is over): tell an attached
 * client the guest exited, close the connection and the listener, join
 * the gdb thread and free the backend. A no-op for a VM without one.
 * Must not be called while the VM still runs (its hooks point here).
 * NULL is a no-op.
 */
void debug__stop(struct debug *d);

/*
 * After debug__start(), before a client attaches: the gdb driver's
 * symbol file. When it is a Linux vmlinux (has entry_SYSCALL_64), the
 * backend reports the guest kernel's KASLR slide, MSR_LSTAR minus that
 * symbol's link address, in qOffsets and "monitor info kaslr".
 * 0, or -errno when the file has no such symbol (then no slide: 0).
 */
int debug__set_kernel_symbols(struct debug *d, const char *vmlinux);

/*
 * "monitor" commands of another part of the VMM (the snapshot service):
 * fn(ctx, cmd, false, ...) answers @cmd, 0 handled, -ENOENT not its own,
 * else -errno (an error to the client); with help true it prints its
 * lines of "monitor help". After debug__start(), before vm__start().
 */
typedef int (*debug_monitor_fn)(void *ctx, const char *cmd, bool help,
				void (*print)(void *out, const char *fmt, ...),
				void *out);
int debug__add_monitor(struct debug *d, debug_monitor_fn fn, void *ctx);

#endif /* KVMDBG_USER_DEBUG_H */
