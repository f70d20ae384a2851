/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gdbstub: a GDB remote serial protocol (RSP) server core for x86-64
 * targets. It knows nothing of KVM: a backend implements struct
 * gdb_target_ops, and a transport feeds received bytes in with
 * gdb_stub_input() and sends whatever the stub hands to its output
 * function (gdb_stub_set_output()).
 *
 * Threads are numbered 1..nr_threads (thread N is vCPU N-1). The stub is
 * all-stop: when the backend reports a stop with gdb_stub_stopped(), every
 * thread must already be stopped.
 *
 * Locking: one gdb_stub is driven from one thread at a time (the caller
 * serialises gdb_stub_input(), gdb_stub_stopped() and gdb_stub_reset()).
 * Target ops are called from within those functions.
 */
#ifndef KVMDBG_GDBSTUB_H
#define KVMDBG_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet payload we accept and advertise (qSupported PacketSize). */
#define GDB_PACKET_SIZE		(128 * 1024)
/*
 * Threads the stub serves; a backend with more must refuse to start (the
 * stub would hide the rest). 1024 is x86 KVM's KVM_MAX_VCPUS in Linux 6.1.
 */
#define GDB_MAX_THREADS		1024

/*
 * The one register layout the stub uses from reset on, whatever mode the
 * guest is in (a 64-bit amd64 layout with system registers appended), so
 * the size of a 'g' reply never changes. The fields are in gdb's amd64
 * register order (the order of the 'g' packet and of the regnums in the
 * stub's target.xml): gdb's standard features first, then fs_base and
 * gs_base (org.gnu.gdb.i386.segments), then the system registers (feature
 * org.kvmdbg.x86.sys). Backends fill fields by name; the order is the
 * stub's business. Values are as the guest sees them: 32-bit fields hold
 * zero-extended selectors / eflags, st[] the 80-bit x87 format.
 */
struct gdb_x86_regs {
	uint64_t gpr[16];	/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t rip;
	uint32_t eflags;
	uint32_t seg[6];	/* cs ss ds es fs gs selectors */
	uint8_t st[8][10];	/* x87 registers, 80-bit */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
	/* Upper halves of ymm0-15 (org.gnu.gdb.i386.avx): sent only when
	 * the backend's reg_sets says GDB_REGS_AVX; gdb and lldb show
	 * $ymmN made of xmmN and ymmNh.
	 */
	uint8_t ymmh[16][16];
};

/* Optional register sets (gdb_target_ops.reg_sets). */
#define GDB_REGS_AVX		(1u << 0)

enum gdb_stop_reason {
	GDB_STOP_SIGNAL,	/* plain stop: Ctrl-C, step done, attach */
	GDB_STOP_SWBREAK,	/* hit a software breakpoint we inserted */
	GDB_STOP_HWBREAK,	/* hit a hardware breakpoint */
	GDB_STOP_WATCH,		/* write watchpoint, addr is the data address */
	GDB_STOP_RWATCH,	/* read watchpoint */
	GDB_STOP_AWATCH,	/* access watchpoint */
	GDB_STOP_EXITED,	/* guest exited; exit_code holds its status */
};

/*
 * A stop, as the client will see it: "T<signal>thread:<thread>;" plus
 * "swbreak:;" / "hwbreak:;" (when the client announced it understands
 * them) or "watch:<addr>;" ..., and rip, rsp, rbp of @thread read
 * through ops->read_regs so gdb need not send a 'g'. For GDB_STOP_SWBREAK
 * the thread's rip must already point at the breakpoint address (the
 * int3 undone), as gdb's swbreak feature requires. GDB_STOP_EXITED is
 * "W<exit_code & 0xff>". The stopped thread becomes the current thread.
 */
/* GDB's own signal numbers (gdb/signals.def), not the host's. */
#define GDB_SIGINT	2
#define GDB_SIGILL	4
#define GDB_SIGTRAP	5
#define GDB_SIGBUS	10
#define GDB_SIGSEGV	11

struct gdb_stop {
	enum gdb_stop_reason reason;
	int thread;		/* 1-based thread that stopped; 0 for a stop
				 * no thread caused (Ctrl-C): the stub names
				 * the thread the client last resumed */
	int signal;		/* GDB_SIG*; 0 is reported as GDB_SIGTRAP */
	uint64_t addr;		/* data address for the watch reasons */
	int exit_code;		/* for GDB_STOP_EXITED */
};

enum gdb_bp_type {		/* the Z/z packet type numbers */
	GDB_BP_SW = 0,
	GDB_BP_HW = 1,
	GDB_WP_WRITE = 2,
	GDB_WP_READ = 3,
	GDB_WP_ACCESS = 4,
};

enum gdb_action {
	GDB_ACT_NONE,		/* stay stopped */
	GDB_ACT_CONT,
	GDB_ACT_STEP,
};

struct gdb_resume {
	/* Index i is thread i + 1; entries past nr_threads are unused. */
	enum gdb_action action[GDB_MAX_THREADS];
	int signal[GDB_MAX_THREADS];	/* 0, or a GDB signal to deliver */
};

/* Output callback for monitor commands: appends text to the reply. */
typedef void (*gdb_print_fn)(void *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The backend. Every callback returns 0 (or a count where stated) or a
 * negative errno; the stub turns errors into E replies (E14 for -EFAULT,
 * E22 for -EINVAL, E28 for -ENOSPC, ...). ctx is gdb_stub_new()'s ctx.
 */
struct gdb_target_ops {
	int (*nr_threads)(void *ctx);
	int (*read_regs)(void *ctx, int thread, struct gdb_x86_regs *regs);
	/*
	 * Optional: the registers a stop reply expedites (at least rip, rsp,
	 * rbp; the rest may stay 0), for a backend where they come cheaper
	 * than the whole set (a single step). NULL: read_regs.
	 */
	int (*read_stop_regs)(void *ctx, int thread, struct gdb_x86_regs *regs);
	int (*write_regs)(void *ctx, int thread,
			  const struct gdb_x86_regs *regs);
	/*
	 * Guest memory through @thread's page tables, or guest-physical when
	 * @phys. Returns bytes transferred (a short count at the first
	 * unmapped byte) or -EFAULT when nothing could be.
	 */
	int (*read_mem)(void *ctx, int thread, bool phys, uint64_t addr,
			void *buf, size_t len);
	int (*write_mem)(void *ctx, int thread, bool phys, uint64_t addr,
			 const void *buf, size_t len);
	/* kind is the Z packet's kind (length for watchpoints). -ENOSPC when
	 * the hardware slots are exhausted.
	 */
	int (*insert_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind);
	int (*remove_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind);
	/* Start threads per @r and return at once; a later stop is reported
	 * through gdb_stub_stopped().
	 */
	int (*resume)(void *ctx, const struct gdb_resume *r);
	/* Ask every thread to stop (Ctrl-C); reported via gdb_stub_stopped(). */
	int (*interrupt)(void *ctx);
	/* Client left ('D' or disconnect): remove every breakpoint and
	 * watchpoint, and let every thread run.
	 */
	void (*detach)(void *ctx);
	/*
	 * Client left without 'D' while the target has never been resumed
	 * (held where it started, waiting for its debugger): remove every
	 * breakpoint and watchpoint, but keep every thread stopped for the
	 * next client. May be NULL: detach is called instead.
	 */
	void (*hold)(void *ctx);
	void (*kill)(void *ctx);
	/*
	 * Extended mode ('!') only; both may be NULL (then vKill, vRun and R
	 * are unsupported, and 'k' ends the session as in plain mode).
	 * end: vKill or 'k', maybe while running: end the target for good
	 * (it never runs again, every breakpoint out) but keep serving.
	 * restart: vRun or R: start the target over from its entry point.
	 * Either restart it in place and return 0 (the stub answers as a
	 * new stub would), or replace the process: hand @session (the
	 * client's protocol state, a short string) and the connection to a
	 * new process's stub (gdb_stub_resume_session()) and never return.
	 * -errno on failure (the client gets an error, the target stays).
	 */
	void (*end)(void *ctx);
	int (*restart)(void *ctx, const char *session);
	/* One line for qThreadExtraInfo, e.g. "vCPU 0 halted". Also called
	 * for every thread on each qXfer:threads:read (gdb sends one per
	 * stop), so keep it cheap; may be NULL ("thread N").
	 */
	int (*thread_info)(void *ctx, int thread, char *buf, size_t len);
	/*
	 * qOffsets: returns 0 with the text/data slide (sent as Text=;Data=;
	 * Bss=, which gdb applies to .text, .data and .bss only), or
	 * GDB_OFFSETS_SEGMENT with @text the address the first loadable
	 * segment now has (sent as TextSeg=: gdb moves every section of every
	 * segment by that much, as a slid kernel needs); may be NULL (0).
	 */
	int (*offsets)(void *ctx, uint64_t *text, uint64_t *data);
	/*
	 * qRcmd: a backend monitor command. Returns 0 when handled, -ENOENT
	 * when @cmd is not the backend's (the stub then says so), or -errno.
	 * @help set: print the backend's command list instead.
	 */
	int (*monitor)(void *ctx, const char *cmd, bool help,
		       gdb_print_fn print, void *out);
	/*
	 * The optional register sets the target has (GDB_REGS_* bits),
	 * appended after the fixed layout in 'g', 'p' and target.xml. Must
	 * not change over the stub's life; may be NULL (none).
	 */
	unsigned int (*reg_sets)(void *ctx);
};

#define GDB_OFFSETS_SEGMENT	1

struct gdb_stub;

/*
 * @ops must stay valid for the stub's life. nr_threads, thread_info,
 * offsets, monitor, reg_sets, hold, end and restart may be NULL (one
 * thread, "thread N", zero offsets, no backend monitor commands, no
 * optional registers, detach on every disconnect, no extended mode);
 * every other op is required: NULL with
 * errno EINVAL if one is missing, ENOMEM if the fixed-size buffers
 * (about 800 KiB, never sized by a client) cannot be allocated. The new
 * stub believes the target stopped (SIGTRAP, thread 1), as a VMM that
 * waits for its first client has it.
 */
struct gdb_stub *gdb_stub_new(const struct gdb_target_ops *ops, void *ctx);
void gdb_stub_free(struct gdb_stub *stub);

/* Where replies go: the transport's writer (may block). 0 or -errno. */
typedef int (*gdb_output_fn)(void *arg, const void *buf, size_t len);
void gdb_stub_set_output(struct gdb_stub *stub, gdb_output_fn fn, void *arg);

/*
 * Bytes received from the client. Returns 0, or -EPIPE once the client
 * has detached or killed the target (the transport then closes the
 * connection). Malformed input never fails this call: it is NAKed,
 * answered with an error, or dropped.
 */
int gdb_stub_input(struct gdb_stub *stub, const void *buf, size_t len);

/* The backend's report that all threads have stopped. */
void gdb_stub_stopped(struct gdb_stub *stub, const struct gdb_stop *stop);

/*
 * A new client connected: forget the previous session's protocol state
 * (ack mode, selected threads, phys mode). If the target is running, a
 * '?' from the client is answered when the backend reports the stop it
 * was asked for (the backend stops the target on connect).
 */
void gdb_stub_reset(struct gdb_stub *stub);

/*
 * The connection dropped without 'D': calls ops->detach(), or ops->hold()
 * when no client has resumed the target since gdb_stub_new() (a client
 * that gave up before really attaching does not release it).
 */
void gdb_stub_disconnected(struct gdb_stub *stub);

/*
 * In a process that replaced the one whose ops->restart() got @session,
 * once the connection is this stub's again (after gdb_stub_reset()): take
 * the client's protocol state back and answer the restart packet (the
 * stop at entry for vRun, nothing for R). 0, or -EINVAL for a malformed
 * @session (nothing is sent then).
 */
int gdb_stub_resume_session(struct gdb_stub *stub, const char *session);

/* True between a resume and the matching stop report. */
bool gdb_stub_running(const struct gdb_stub *stub);

/* True after "monitor phys on" (until off or a new client). */
bool gdb_stub_phys(const struct gdb_stub *stub);

#endif /* KVMDBG_GDBSTUB_H */
