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

#include <signal.h>
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

/*
 * Where a core's vCPU state and RAM come from: the launcher's own VM
 * (core__write()) or a VM another process runs (user/attach/). The writer
 * calls hold, then held(fn) and, inside fn, capture, layout and ram, then
 * release; the file is laid out and written the same way for every
 * source (one PT_LOAD per RAM range).
 */
#define CORE_PAGE	4096ULL
#define CORE_CHUNK	(2ULL << 20)	/* RAM read per ram() call */

struct kvmdbg_vcpu_state;

struct core_source_ops {
	/* Stop every vCPU and keep it stopped: 0, or -errno. */
	int (*hold)(void *ctx);
	/* After hold, whether it succeeded or not. */
	void (*release)(void *ctx);
	/* Held: fn(arg), guest memory as the guest wrote it (no debugger int3). */
	int (*held)(void *ctx, int (*fn)(void *arg), void *arg);
	/* Held: every vCPU's state, nr_vcpus entries. */
	int (*capture)(void *ctx, struct kvmdbg_vcpu_state *st);
	/* Held: the p_vaddr and note (struct vm_core_layout); st: every vCPU. */
	void (*layout)(void *ctx, const struct kvmdbg_vcpu_state *st,
		       struct vm_core_layout *l);
	/*
	 * Held: RAM [gpa, gpa + len) inside one range, len <= CORE_CHUNK: a
	 * pointer to it where the source maps it, else a copy in @buf; NULL
	 * and *err = -errno when it cannot be read.
	 */
	const uint8_t *(*ram)(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf,
			      int *err);
	/*
	 * Optional, held, called before ram() for the same chunk: clear
	 * maybe[i] for each of the @n pages from @gpa that cannot hold data
	 * (never touched), so it is not read at all; maybe[] comes all true.
	 */
	void (*touched)(void *ctx, uint64_t gpa, uint64_t n, bool *maybe);
};

struct core_source {
	const struct core_source_ops *ops;
	void *ctx;
	int nr_vcpus;
	int nr_ranges;			/* one PT_LOAD each, in gpa order */
	const struct vm_core_range *ranges;
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

/*
 * core__write() for any source: the same target checks, atomic write and
 * messages (o->stopped is the launcher's VM's alone).
 */
int core__write_from(const struct core_source *src, const char *path,
		     const struct core_opts *o, struct core_result *res, char *err,
		     size_t err_len);

/* "core written to PATH: N vCPUs, S bytes (H sparse), VMCOREINFO ..." */
void core__summary(const char *path, const struct core_result *r, char *buf,
		   size_t len);

/*
 * Find a Linux VMCOREINFO note in the guest RAM of @m: a page-aligned ELF
 * note named "VMCOREINFO" whose text starts with "OSRELEASE=". Its gpa,
 * or -1 if none. For the Linux kind's hook.
 */
int64_t core__find_vmcoreinfo(const struct vm_core_mem *m);
/* The whole VMCOREINFO note at @gpa into @note: its length, or 0. */
uint32_t core__read_vmcoreinfo(const struct vm_core_mem *m, uint64_t gpa,
			       uint8_t note[VM_CORE_NOTE_MAX]);
/* Bytes from @gpa to the end of the range of @m holding it; 0: none. */
uint64_t core_mem__avail(const struct vm_core_mem *m, uint64_t gpa);
/*
 * Check that @note (at most @max bytes) is a whole VMCOREINFO note:
 * its length, or 0 when it is not one.
 */
uint32_t core__vmcoreinfo_len(const uint8_t *note, uint64_t max);

/*
 * The triggers of one VM (user/core/core_service.c): "monitor dump FILE",
 * with crash_path a core written when the guest crashes, and with
 * signal_path one written (replaced atomically) on each CORE_DUMP_SIGNAL
 * while the guest runs on. SIGUSR2: the launcher's SIGUSR1 writes
 * snapshots, SIGRTMIN+1 kicks its vCPUs and SIGRTMIN+2 breaks leases.
 */
#define CORE_DUMP_SIGNAL	SIGUSR2

struct core_service_cfg {
	const char *crash_path;	/* --dump-on-crash FILE, or NULL */
	const char *signal_path;	/* --dump-on-signal FILE, or NULL */
	const char *image;
	const char *symbols;
};

struct core_service;

/* Between vm__create() and vm__start() (installs the crash hook). */
int core_service__start(struct vm *vm, const struct core_service_cfg *c,
			struct core_service **out);
/*
 * Before vm__create() with signal_path: threads made there (a Linux
 * guest's UART input thread) inherit the mask, so SIGUSR2 cannot take
 * its default action (the end of the process) on one of them.
 */
void core_service__block_signal(void);
/* After vm__wait(): the crash core's result (0, or its -errno). */
int core_service__result(struct core_service *s);
/* The cores SIGUSR2 wrote, and the last one's error (0: none failed). */
int core_service__signal_result(struct core_service *s, int *nr_written);
void core_service__stop(struct core_service *s);
/* debug_monitor_fn for debug__add_monitor(): "dump FILE". */
int core_service__monitor(void *ctx, const char *cmd, bool help,
			  void (*print)(void *out, const char *fmt, ...), void *out);

#endif /* KVMDBG_USER_CORE_H */
