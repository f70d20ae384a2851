/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The gdb driver (docs/gdb-driver.md): serve a created VM's gdb stub on a
 * private unix socket, wait until it listens, run gdb on it with a
 * generated init script (bundled macros, symbols, target remote), print a
 * debug-context block, and tear everything down when gdb exits.
 */
#ifndef KVMDBG_USER_DRIVER_H
#define KVMDBG_USER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct vm;
struct snapshot;
struct core_service;

struct driver_cfg {
	const char *image;		/* the image run, or NULL */
	const struct snapshot *snap;	/* the snapshot resumed, or NULL */
	const char *symbols;		/* --symbols FILE, or NULL */
	struct snap_service *service;	/* its monitor commands, or NULL */
	struct core_service *core;	/* its monitor dump, or NULL */
	const char *const *exec;	/* --gdb-exec commands, in order */
	int nr_exec;
	const char *script;		/* --gdb-script FILE, or NULL */
	bool verbose;
};

/*
 * Run the session on @vm (created, not started; the snapshot service, if
 * any, already installed). Returns gdb's exit status (0-255), or -errno
 * with a one-line reason in err when the session could not start. The VM
 * is over and its backend stopped when this returns; the caller destroys it.
 */
int driver__run(struct vm *vm, const struct driver_cfg *c, char *err, size_t err_len);

/*
 * What the session drives: driver__run()'s own VM, or a VM another VMM
 * runs (builtin-attach.c). serve: serve gdb on @spec (a unix socket;
 * @symbols the file the driver found, or NULL), the stub on a thread of
 * the backend's. context: the debug-context lines about the target.
 * start: gdb may connect now (the launcher's VM starts, held). stop: gdb
 * is gone, or the session failed after serve: end the target's side and
 * the stub.
 */
struct driver_backend {
	int (*serve)(void *ctx, const char *spec, const char *symbols);
	void (*context)(void *ctx, FILE *out);
	int (*start)(void *ctx);
	void (*stop)(void *ctx);
};

int driver__run_backend(const struct driver_backend *be, void *ctx,
			const struct driver_cfg *c, char *err, size_t err_len);

#endif /* KVMDBG_USER_DRIVER_H */
