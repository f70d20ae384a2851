/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/cli/: the kvmdbg-launch command. Owns options, exit codes and the
 * wiring of VM, debugger and snapshot service, and the gdb driver. Calls
 * every other user/ folder; nothing calls it.
 */
/*
 * The kvmdbg-launch command layer: one builtin-<cmd>.c per command, each
 * with its own option table and usage text. Only this layer prints
 * usage errors and exits.
 */
#ifndef KVMDBG_USER_BUILTIN_H
#define KVMDBG_USER_BUILTIN_H

#include <stdbool.h>

/* Exit statuses of the command itself (the guest's own status otherwise). */
#define EXIT_USAGE	2	/* bad options or arguments */
#define EXIT_SETUP	1	/* the guest could not be started */

/* kvmdbg-launch --attach PID (builtin-attach.c): the run options it takes. */
struct attach_args {
	const char *target;		/* "PID" or "PID:FD" */
	const char *kick_signal;	/* --kick-signal, or NULL */
	bool info;
	const char *gdb, *snapshot, *dump, *symbols, *script;
	bool session, verbose;
	const char *const *exec;
	int nr_exec;
};

int cmd_run(int argc, char **argv);
int cmd_attach(const struct attach_args *a);
int cmd_info(int argc, char **argv);
void usage_run(void);

/* "kvmdbg-launch: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KVMDBG_USER_BUILTIN_H */
