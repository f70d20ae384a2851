/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/attach/: debugging a VM that another process runs (kvmdbg-launch
 * --attach PID), through kvmdbg.ko. Owns finding the VMM's KVM fds, its
 * kick signal, the foreign session and what is served over it. Calls
 * user/vmm/ (the module), user/debug/ (x86 helpers), user/snapshot/,
 * user/core/ (the core writer), user/linux/ (the Linux kind's core
 * layout) and user/lib/.
 */
#ifndef KVMDBG_USER_ATTACH_H
#define KVMDBG_USER_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "user/lib/errf.h"
#include "user/core/core.h"

/*
 * The VMM process and the VM it runs, as this process sees them: a pidfd
 * on it and a copy of its VM fd (pidfd_getfd(2), which needs
 * PTRACE_MODE_ATTACH on it: the permission check of --attach).
 */
struct foreign_proc {
	pid_t pid;
	char comm[17];		/* /proc/PID/comm */
	int pidfd;
	int vm_fd;		/* ours */
	int vm_fd_nr;		/* the VMM's number for it */
	int nr_vcpu_fds;	/* its "kvm-vcpu:N" fds, copied too: */
	int *vcpu_fds;		/* the module captures through them */
	bool vcpu_fds_ours;	/* vcpu_fds are our copies (else its numbers) */
	int kick_signal;	/* a signal the VMM catches */
	const char *kick_why;	/* "QEMU's SIG_IPI", "--kick-signal", ... */
};

/*
 * Parse "PID" or "PID:FD" (FD: which of its VM fds, when it has several).
 * 0, or -EINVAL with a one-line reason in err.
 */
int foreign__parse(const char *arg, pid_t *pid, int *vm_fd_nr, char *err,
		   size_t err_len);

/*
 * Find @pid's KVM VM fd (@vm_fd_nr, or -1: the only one), copy it, and
 * choose the kick signal: @kick_signal when non-zero, else the known one
 * of its VMM (QEMU: SIGUSR1; kvmdbg-launch: SIGRTMIN+1; Firecracker,
 * cloud-hypervisor, crosvm: SIGRTMIN), refused unless the process has a
 * handler for it (a default action would kill it). 0, or -errno with a
 * one-line reason that says what to do.
 */
int foreign__open(pid_t pid, int vm_fd_nr, int kick_signal,
		  struct foreign_proc *fp, char *err, size_t err_len);
void foreign__close(struct foreign_proc *fp);


/* "SIGUSR1", "SIGRTMIN+1" for @sig. */
const char *foreign__signame(int sig, char *buf, size_t len);
/* "SIGUSR1", "USR1", "SIGRTMIN+2", "10": 0 and *sig, or -EINVAL. */
int foreign__parse_signal(const char *s, int *sig);

/*
 * --attach PID --snapshot FILE (user/attach/foreign_snapshot.c): freeze
 * the VM, write a snapshot of every vCPU (what kvmdbg.ko captures) and
 * all guest RAM of its memslots to @path atomically, as
 * snapshot__write() does for the launcher's own VM, thaw. 0, or -errno
 * with one line in err; the VM runs on either way.
 */
struct fvm;

struct foreign_snap_result {
	int nr_vcpus, nr_slots;
	uint64_t bytes;		/* the file's size */
	uint64_t pause_ns;	/* freeze to thaw: the pause the guest saw */
};

int foreign__snapshot(struct fvm *v, const char *path, struct foreign_snap_result *res,
		      char *err, size_t err_len);

/*
 * --attach PID --dump FILE and the attach session's "monitor dump FILE"
 * (user/attach/foreign_core.c): an ELF core of the VM (docs/core-format.md,
 * one PT_LOAD per memslot), by the launcher's core writer. A VM frozen
 * already (a gdb stop) is written as it stands and stays frozen; else it
 * is frozen for the dump and thawed once RAM is read. @symbols: a Linux
 * vmlinux (VMCOREINFO by vmcoreinfo_note), or NULL (found by a scan).
 * 0, or -errno with one line in err; nothing is left at @path on failure.
 */
struct foreign_dump_result {
	struct core_result core;
	int nr_slots;
	uint64_t pause_ns;	/* freeze to thaw (0: it was frozen before) */
};

int foreign__dump(struct fvm *v, const char *path, const char *symbols,
		  struct foreign_dump_result *res, char *err, size_t err_len);

#endif /* KVMDBG_USER_ATTACH_H */
