/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/core/: guest core dumps. Owns the ELF64 core format
 * (docs/core-format.md), its writer and its triggers (monitor dump,
 * --dump-on-crash; the CLI's --resume --dump). Calls user/vmm/ (the
 * kind's core_layout hook through machine.h), user/lib/ and the pure x86
 * helpers of user/debug/x86_regs.h; called by user/cli/.
 */
/*
 * A core is what gdb, crash and drgn open: ET_CORE, EM_X86_64, one
 * PT_NOTE (NT_PRSTATUS per vCPU, NT_PRPSINFO, a Linux guest's VMCOREINFO)
 * and one PT_LOAD over guest RAM, sparse (zero pages are holes). Written
 * atomically under the snapshot path rules (user/lib/atomic_file.h).
 * Library code: -errno with a one-line reason in err.
 */
#ifndef KVMDBG_USER_CORE_H
#define KVMDBG_USER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "user/vmm/machine.h"

struct vm;

struct core_opts {
	const char *image;	/* the guest's image, for NT_PRPSINFO; may be NULL */
	const char *symbols;	/* a Linux vmlinux (finds vmcoreinfo_note); may be NULL */
	/*
	 * No vCPU thread runs (before vm__start(), or after vm__wait()'s
	 * threads ended): the state is read as it is, without a hold.
	 */
	bool stopped;
	/* The vCPU that crashed (its NT_PRSTATUS comes first), or -1. */
	int crash_vcpu;
};

struct core_result {
	int nr_vcpus;
	uint64_t size;		/* st_size of the core */
	uint64_t sparse;	/* bytes of it that are holes (zero pages) */
	bool note;		/* a VMCOREINFO note went in */
	char note_what[160];	/* where it was found, or why not */
};

/* A core may be written to @path (afile__check_target, "core PATH: ..."). */
int core__check_target(const char *path, char *err, size_t err_len);

/*
 * Hold the world (unless o->stopped), capture every vCPU and write the
 * core of @vm to @path atomically. On failure nothing is left at @path
 * but what was there before. Not on a vCPU thread.
 */
int core__write(struct vm *vm, const char *path, const struct core_opts *o,
		struct core_result *res, char *err, size_t err_len);

/* "core written to PATH: N vCPUs, S bytes (H sparse), VMCOREINFO ..." */
void core__summary(const char *path, const struct core_result *r, char *buf,
		   size_t len);

/*
 * Find a Linux VMCOREINFO note in [mem, mem+size) (guest RAM at gpa 0):
 * a page-aligned ELF note named "VMCOREINFO" whose text starts with
 * "OSRELEASE=". Its gpa, or -1 if none. Pure, for the Linux kind's hook.
 */
int64_t core__find_vmcoreinfo(const uint8_t *mem, uint64_t size);
/*
 * Check that @note (at most @max bytes) is a whole VMCOREINFO note:
 * its length, or 0 when it is not one.
 */
uint32_t core__vmcoreinfo_len(const uint8_t *note, uint64_t max);

/*
 * The triggers of one VM (user/core/core_service.c): "monitor dump FILE"
 * and, with crash_path, a core written when the guest crashes.
 */
struct core_service_cfg {
	const char *crash_path;	/* --dump-on-crash FILE, or NULL */
	const char *image;
	const char *symbols;
};

struct core_service;

/* Between vm__create() and vm__start() (installs the crash hook). */
int core_service__start(struct vm *vm, const struct core_service_cfg *c,
			struct core_service **out);
/* After vm__wait(): the crash core's result (0, or its -errno). */
int core_service__result(struct core_service *s);
void core_service__stop(struct core_service *s);
/* debug_monitor_fn for debug__add_monitor(): "dump FILE". */
int core_service__monitor(void *ctx, const char *cmd, bool help,
			  void (*print)(void *out, const char *fmt, ...), void *out);

#endif /* KVMDBG_USER_CORE_H */
