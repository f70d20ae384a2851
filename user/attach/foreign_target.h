/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gdb and lldb on a foreign VM (user/attach/foreign_target.c): the stub's
 * target table over struct fvm, served by a gdb_server on the caller's
 * thread.
 */
#ifndef KVMDBG_USER_FOREIGN_TARGET_H
#define KVMDBG_USER_FOREIGN_TARGET_H

#include <stdint.h>

#include "gdbstub/gdbstub.h"
#include "gdbstub/server.h"

struct fvm;

/* A Linux kernel's symbols (--symbols vmlinux), for the KASLR slide. */
struct foreign_kernel {
	uint64_t syscall_link;	/* entry_SYSCALL_64's link address, 0: none */
	uint64_t seg_link;	/* the first PT_LOAD's p_vaddr */
	const char *path;	/* the vmlinux (monitor dump's VMCOREINFO), or NULL */
};

struct foreign_target {
	struct fvm *vm;
	const struct foreign_kernel *kernel;	/* may be NULL */
	int efd;		/* a freeze for the client to report */
	struct gdb_stub *stub;
};

int foreign_target__init(struct foreign_target *t, struct fvm *vm,
			 const struct foreign_kernel *kernel);
/* Until gdb_server_shutdown(srv); the VM is left thawed. */
int foreign_target__serve(struct foreign_target *t, struct gdb_server *srv);
void foreign_target__fini(struct foreign_target *t);

/* `monitor info` and --info: the VMM, its vCPUs, memslots and kick signal. */
void foreign__describe(struct fvm *vm, gdb_print_fn print, void *out);

#endif /* KVMDBG_USER_FOREIGN_TARGET_H */
