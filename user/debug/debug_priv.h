/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the debug backend, shared by user/debug*.c.
 *
 * Threads. The gdb thread runs gdb_server_run() and every target op; the
 * vCPU threads run the on_exit/on_stopped hooks; the VMM's caller runs
 * on_vm_exit. Target ops other than interrupt and detach are only called
 * while the world is stopped (all-stop): the gdb thread alone then
 * changes guest memory, breakpoints and vCPU state.
 *
 * Locking. d->lock protects the breakpoint tables, the watch list, the
 * per-vCPU pending stops and the report state below. It is never held
 * across a vm__*() call that waits for vCPUs (pause, resume,
 * protect_page): a vCPU inside on_exit may be waiting for it. The
 * snapshot writer's thread holds it through a capture (debug_bp__capture,
 * every vCPU held), so breakpoints do not change while it reads memory.
 */
#ifndef KVMDBG_USER_DEBUG_PRIV_H
#define KVMDBG_USER_DEBUG_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/gdbstub.h"
#include "gdbstub/server.h"
#include "user/debug/debug.h"
#include "user/debug/debug_swbp.h"
#include "user/vmm/vm.h"
#include "user/lib/x86_debugreg.h"
#include "user/debug/x86_pagewalk.h"
#include "user/debug/x86_regs.h"

#define DEBUG_PAGE		4096ull
/* A page-protection watchpoint covers at most this many bytes. */
#define DEBUG_WATCH_MAX		(1u << 20)
/* How long an internal single-step (stepping over a breakpoint) may take. */
#define DEBUG_STEP_TIMEOUT_S	10
/* How long a step's resume spins for its stop before it sleeps. */
#define DEBUG_STEP_SPIN_US	200
/* How long the server looks for the next packet before it sleeps. */
#define DEBUG_RX_SPIN_US	100
/* On every this many-th step, the other vCPUs start with the step. */
#define DEBUG_DEFER_MAX		16

/* A write watchpoint kept by page protection (see debug_bp.c). */
struct debug_watch {
	uint64_t addr, len;	/* guest-virtual range, as gdb gave it */
	size_t nr_pages;
	uint64_t *gpa;		/* physical page of each virtual page */
	bool hw;		/* fallback: a DR7 write slot instead */
};

/* A read-only guest page and how many watchpoints need it. */
struct debug_ro_page {
	uint64_t gpa;
	int refs;
};

struct debug_vcpu {
	/* A stop this vCPU hit that has not been reported yet (the VMM
	 * reports only the first of simultaneous stops).
	 */
	bool has_pending;
	struct gdb_stop pending;
	/* Its last reported stop was a breakpoint hit, and it has not run
	 * since: resuming it steps off that breakpoint (debug_run.c).
	 */
	bool on_reported_bp;
	/* Register cache, valid from a stop until the next resume;
	 * fpu_cached for the x87/SSE/AVX part (state.xsave or state.fpu).
	 */
	bool cached;
	bool fpu_cached;
	/* state.regs and state.sregs alone are valid (debug_regs__core). */
	bool core_cached;
	struct x86_kvm_state state;
};

#define DEBUG_MAX_MONITORS	4

struct debug {
	struct vm *vm;
	int nr_vcpus;
	struct gdb_stub *stub;
	struct gdb_server *srv;
	pthread_t thread;
	bool thread_started;
	int event_fd;		/* vCPU threads -> gdb thread: a stop to report */
	uint32_t dbg_flags;	/* optional KVM_GUESTDBG_* flags KVM supports */
	/* XSAVE area size (0: no KVM_CAP_XSAVE, KVM_GET_FPU instead), whether
	 * KVM_GET_XSAVE2 is there, and where AVX sits in it (0: no AVX).
	 */
	uint32_t xsave_size;
	bool xsave2;
	uint32_t avx_offset;
	/* vm__capture()'s records, one per vCPU (gdb thread only). */
	struct kvmdbg_vcpu_state *capture;

	pthread_mutex_t lock;
	pthread_cond_t cond;	/* internal step done, exit report sent */

	/* gdb thread only (world stopped), read by on_exit under lock. */
	struct swbp_table sw;
	/*
	 * Software breakpoints removed since the client's last resume,
	 * maybe while vCPUs ran (z0 is allowed then): a vCPU that fetched
	 * the int3 just before its byte was restored still exits on it.
	 * on_exit re-executes such a spurious hit (debug_exit.c). Under lock.
	 */
	struct swbp_table gone;
	/* Our DR slots; guest_debug__reserved() ones stay free (debug_bp.c). */
	struct x86_hw_slots hw;
	struct debug_watch *watches;
	size_t nr_watches;
	struct debug_ro_page *ro;
	size_t nr_ro;

	/* Under lock. */
	uint64_t syscall_link;	/* entry_SYSCALL_64 in --symbols, 0: none */
	uint64_t seg_link;	/* its first PT_LOAD's p_vaddr */
	struct debug_vcpu *vcpus;
	bool *run;		/* the vCPUs the client's last resume let go */
	bool attached;		/* a client controls the VM */
	bool resumed;		/* running on the client's behalf: a stop is owed */
	bool report_ready;	/* report waits for the gdb thread */
	struct gdb_stop report;
	long step_spin_ns;	/* how long a step's resume spins for its stop */
	int deferred_steps;	/* single steps since the others last started with one */
	int step_vcpu;		/* internal single-step in progress, or -1 */
	bool step_done;
	bool vm_over;		/* on_vm_exit seen */
	/* The guest crashed with a client attached: held for it until it
	 * continues, kills or detaches (debug_exit.c).
	 */
	bool crashed;
	int crash_vcpu;
	int crash_status;
	char crash_why[256];
	int exit_status;
	bool exit_owed;		/* the client waits for an exit report */
	bool restartable;	/* debug__allow_restart(): vRun re-execs */
	/* debug__add_monitor(): other parts' monitor commands, in order. */
	struct {
		debug_monitor_fn fn;
		void *ctx;
	} monitors[DEBUG_MAX_MONITORS];
	int nr_monitors;
};

extern const struct gdb_target_ops debug_target_ops;

/* debug.c */
void debug__report(struct debug *d, const struct gdb_stop *stop); /* lock held */
void debug__log(struct debug *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* debug_regs.c: vCPU state through the register cache. */
int debug_regs__init(struct debug *d);	/* before the vCPUs run */
void debug_regs__free(struct debug *d);
unsigned int debug_regs__sets(void *ctx);	/* gdb_target_ops.reg_sets */
int debug_regs__get(struct debug *d, int vcpu, struct x86_kvm_state **s);
/* Only (*s)->regs and (*s)->sregs valid: a stop's cost is ~0 ioctls. */
int debug_regs__core(struct debug *d, int vcpu, struct x86_kvm_state **s);
int debug_regs__put(struct debug *d, int vcpu, unsigned int dirty);
void debug_regs__invalidate(struct debug *d);
int debug_regs__paging(struct debug *d, int vcpu, struct x86_paging *p);
/* Program KVM_SET_GUEST_DEBUG for @vcpu (skipped when unchanged). */
int debug_regs__guest_debug(struct debug *d, int vcpu, bool step,
			    int skip_hw_slot);

/* debug_mem.c: guest memory as the client sees it. */
int debug_mem__walk(struct debug *d, const struct x86_paging *p,
		    uint64_t addr, struct x86_walk *w);
int debug_mem__translate(struct debug *d, const struct x86_paging *p,
			 uint64_t addr, uint64_t *gpa);
int debug_mem__read(struct debug *d, int vcpu, bool phys, uint64_t addr,
		    void *buf, size_t len);
int debug_mem__write(struct debug *d, int vcpu, bool phys, uint64_t addr,
		     const void *buf, size_t len);
/* -EACCES, with one line naming it, when @gpa.. is the VMM's (vm__gpa_reserved). */
int debug_mem__guard(struct debug *d, const char *op, uint64_t addr,
		     uint64_t gpa, uint64_t len);
/* Store into guest-physical memory, keeping our int3s in place. lock held. */
int debug_mem__store_phys(struct debug *d, uint64_t gpa, const void *buf,
			  size_t len);

/* debug_bp.c */
int debug_bp__insert(void *ctx, enum gdb_bp_type type, uint64_t addr,
		     uint64_t kind);
int debug_bp__remove(void *ctx, enum gdb_bp_type type, uint64_t addr,
		     uint64_t kind);
void debug_bp__remove_all(struct debug *d);
/* on_capture hook: a snapshot's capture with our int3s out. */
int debug_bp__capture(void *ctx, struct vm *vm, int (*capture)(void *arg),
		      void *arg);
/* The watchpoint a trapped store at [gpa, gpa+len) touches. lock held. */
bool debug_bp__watch_hit(struct debug *d, uint64_t gpa, uint64_t len,
			 uint64_t *addr);
bool debug_bp__page_protected(struct debug *d, uint64_t gpa);

/* debug_exit.c: the on_exit and on_crash hooks. */
enum vm_hook_ret debug_exit__on_exit(void *ctx, struct vm *vm, int vcpu,
				     struct kvm_run *run);
bool debug_exit__on_crash(void *ctx, struct vm *vm, int vcpu, const char *why,
			  int status);
/*
 * The client lets go of a crashed guest (resume, detach, kill): end it
 * with the crash's status. @reported: only once the crash stop has been
 * reported (a resume first hears of a crash still pending). Returns true
 * when it ended the guest. Lock not held.
 */
bool debug_exit__end_crash(struct debug *d, bool reported);
void debug_exit__info_crash(struct debug *d, gdb_print_fn print, void *out);

/* Restart hand-over (debug_run.c sets them, debug.c takes them back). */
#define DEBUG_ENV_FD		"KVMDBG_GDB_FD"
#define DEBUG_ENV_SESSION	"KVMDBG_GDB_SESSION"
#define DEBUG_ENV_ADDR		"KVMDBG_GDB_ADDR"

/* debug_run.c */
int debug_run__resume(void *ctx, const struct gdb_resume *r);
int debug_run__interrupt(void *ctx);
void debug_run__detach(void *ctx);
void debug_run__hold(void *ctx);
void debug_run__end(void *ctx);
int debug_run__restart(void *ctx, const char *session);
void debug_run__kill(void *ctx);
void debug_run__on_stopped(void *ctx, struct vm *vm, int vcpu);
void debug_run__on_connect(void *ctx);

#endif /* KVMDBG_USER_DEBUG_PRIV_H */
