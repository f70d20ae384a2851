/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/vmm/: the VMM core. Owns VMs and vCPU threads, memslots, the
 * guest-kind table (machine.h) and the ELF/flat machine, port dispatch,
 * vCPU-state capture and guest-debug programming. Calls user/lib/ only;
 * other kinds (user/linux/) plug in through struct vm_machine.
 */
/*
 * The kvmdbg VMM core: one struct vm per guest, any number per process.
 * A guest is a static ELF64 or flat binary started in 64-bit long mode on
 * every vCPU (identity-mapped paging over all RAM, RSP = top of the
 * vCPU's own stack, RDI = vCPU index, RSI = number of vCPUs).
 *
 * Threads. vm__start() spawns one thread per vCPU. Every other entry point
 * is called from non-vCPU threads (main thread, a gdb thread) unless it
 * says otherwise; the debug hooks run on vCPU threads.
 *
 * vCPU states. A vCPU thread is either in the guest (inside KVM_RUN),
 * handling an exit, or *parked*: blocked in the VMM, outside KVM_RUN, and
 * it will not re-enter until allowed. A vCPU enters the guest only when
 *   - the world is not paused (vm__pause / a hook's VM_HOOK_STOP), and
 *   - the debugger lets it run (vm__resume's run[] set; true at start), and
 *   - it has not halted (HLT; see vm__vcpu_wake), and
 *   - the guest has not exited.
 * While a vCPU is parked its state is architecturally consistent (a
 * pending port-I/O or MMIO completion has been applied, so RIP is past the
 * instruction) and other threads may use KVM_GET_* / KVM_SET_* (regs,
 * sregs, debugregs, guest debug, ...) on vm__vcpu_fd().
 *
 * Errors: functions returning int return 0 (or a count) or -errno.
 */
#ifndef KVMDBG_USER_VM_H
#define KVMDBG_USER_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

struct vm;
struct vm_machine;

/*
 * Guest-physical layout. [0, VM_RESERVED_END) belongs to the VMM:
 *   0x0000           not present (catches NULL dereferences)
 *   0x1000           GDT
 *   0x2000           PML4
 *   0x3000           PDPT
 *   0x4000           page table of the first 2 MiB (4 KiB pages)
 *   0x5000           TSS
 *   0x6000..         one page directory per GiB of RAM (2 MiB pages)
 *   0x80000..        per-vCPU stacks, vm__stack_size() bytes each
 * VM_RESERVED_END is 1 MiB for up to 128 vCPUs and grows above that (see
 * vm__reserved_end()). Images must load at or above it.
 */
#define VM_RESERVED_END		0x100000ULL
#define VM_MEM_MIN		(2ULL << 20)
#define VM_MEM_MAX		(64ULL << 30)
#define VM_MEM_DEFAULT		(64ULL << 20)

/* Well-known I/O ports (default handling, see vm__start). */
#define VM_PORT_DEBUGCON	0xE9	/* write: byte to the console */
#define VM_PORT_EXIT		0xF4	/* write: guest exits with the value */
#define VM_PORT_COM1		0x3F8	/* THR at +0, LSR at +5 */
#define VM_PORT_SNAPSHOT	0xF5	/* write: request a snapshot (vm__set_port_hook) */

/*
 * Exit status of a guest that crashed (an unclaimed KVM_EXIT_SHUTDOWN,
 * KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_FAIL_ENTRY or an unexpected exit):
 * VM_STATUS_CRASH + the KVM exit reason, e.g. 136 for a triple fault.
 */
#define VM_STATUS_CRASH		128

struct vm_config {
	const char *name;	/* for messages; defaults to the image path */
	const char *image;	/* path of the ELF64 or flat binary */
	bool flat;		/* image is a flat binary: */
	uint64_t load_addr;	/*   guest-physical load address */
	uint64_t entry;		/*   entry point (0: load_addr) */
	int nr_cpus;		/* 1 .. vm__max_cpus(); 0 means 1 */
	uint64_t mem_size;	/* bytes, multiple of 4 KiB; 0: default */
	bool start_paused;	/* vCPUs wait at the entry point for vm__resume */
	int console_fd;		/* guest console output goes here */
	bool verbose;		/* report ignored port I/O etc. on stderr */
	/*
	 * Optional: on failure vm__create() writes a one-line reason here
	 * (no "kvmdbg-launch:" prefix, no newline), e.g. "hello.elf: not an
	 * ELF file (bad magic)". The caller prints it.
	 */
	char *err;
	size_t err_len;
	/*
	 * Optional (resume from a snapshot): when set, no image is loaded and
	 * no boot tables are built; once RAM and every vCPU exist (CPUID set),
	 * restore() fills RAM (e.g. vm__map_file) and every vCPU's state, or
	 * returns -errno with a reason in err. image may then be NULL.
	 */
	int (*restore)(void *ctx, struct vm *vm, char *err, size_t err_len);
	void *restore_ctx;
	/*
	 * The guest kind (user/vmm/machine.h); NULL: the bare ELF/flat
	 * machine (image). On a resume it creates its devices (e.g. the
	 * Linux machine's irqchip, PIT and UART) before the vCPUs, for
	 * restore() to fill in.
	 */
	const struct vm_machine *machine;
	/*
	 * For the Linux machine (user/linux/linux.h): a bzImage or an ELF
	 * vmlinux, an optional initrd and command line. The VM gets an
	 * in-kernel irqchip and PIT, ACPI tables, a COM1 UART reading stdin;
	 * a reboot or poweroff ends it with status 0, HLT does not.
	 */
	const char *kernel, *initrd, *cmdline;
	/*
	 * Optional: why this VM must never enter the guest (a resumed
	 * snapshot of another VMM's VM, for inspection). It then needs
	 * start_paused, and vm__resume() refuses with -EPERM.
	 */
	const char *inspect_only;
};

/* Build a VM: open KVM, check capabilities, allocate RAM, load the image,
 * create and set up every vCPU (registers at the entry point). No guest
 * code runs yet. Returns 0 and *out, or -errno (and cfg->err).
 */
int vm__create(const struct vm_config *cfg, struct vm **out);

/*
 * Spawn the vCPU threads. Without start_paused they enter the guest at
 * once; with it every vCPU stays parked at the entry point, before its
 * first instruction, until vm__resume() (no stop is reported). Before
 * vm__start(), vm__pause() / vm__resume() set or cancel that initial
 * paused state (e.g. resume when the debugger could not listen).
 */
int vm__start(struct vm *vm);

/*
 * Block until the guest is over: a write to port 0xF4 (*status = the
 * value), every vCPU halted (*status = 0), a crash (VM_STATUS_CRASH +
 * reason) or vm__kill() (its status). Joins every vCPU thread, then calls
 * the on_vm_exit hook on the caller's thread. Returns 0, or -EINVAL if
 * the VM was never started. Call once.
 */
int vm__wait(struct vm *vm, int *status);

/* End the guest with @status. Any thread, including a vCPU thread (from a
 * hook); returns without waiting. The first end (exit, crash, kill) wins.
 */
void vm__kill(struct vm *vm, int status);

/* Kill if still running, join threads, free everything. NULL is a no-op. */
void vm__destroy(struct vm *vm);

int vm__nr_vcpus(struct vm *vm);
int vm__vm_fd(struct vm *vm);
int vm__vcpu_fd(struct vm *vm, int i);
/*
 * After a KVM_SET_SREGS on parked vCPU i: without an in-kernel LAPIC (ELF
 * and flat guests) KVM_RUN reloads CR8 from run->cr8 on entry, which
 * still holds the value of the last exit; this makes @cr8 stick.
 */
void vm__vcpu_set_cr8(struct vm *vm, int i, uint64_t cr8);
uint64_t vm__entry(struct vm *vm);	/* RIP every vCPU starts at */
/* vm_config.inspect_only: why the VM never runs, or NULL. */
const char *vm__inspect_only(struct vm *vm);

/*
 * Stop the world from userspace: sets run->immediate_exit and sends the
 * kick signal (vm__kick_signal()) with pthread_kill() to every vCPU
 * thread, and returns once every vCPU is parked. Callable from any
 * non-vCPU thread; idempotent. Does not call on_stopped. Returns 0, or
 * -ESRCH once the guest is over.
 */
int vm__pause(struct vm *vm);

/*
 * Release the world: vCPU i may re-enter the guest if run[i] (run == NULL:
 * all of them); the others stay parked until a later vm__resume(). A
 * halted vCPU stays halted (vm__vcpu_wake() first). Returns 0, or -ESRCH
 * once the guest is over.
 */
int vm__resume(struct vm *vm, const bool *run);
/*
 * vm__resume(), but only vCPU @first starts now; the others of @run wait
 * for vm__resume_rest(). If the world stops before that (a single step
 * of @first that ended at once), they never ran, as if the host had not
 * scheduled their threads yet, and stopping the world costs nothing for
 * them. The caller must call vm__resume_rest() soon, or they starve.
 */
int vm__resume_first(struct vm *vm, const bool *run, int first);
/* Start the vCPUs vm__resume_first() held back, unless stopped since. */
void vm__resume_rest(struct vm *vm);

/* True while every vCPU is parked by vm__pause() or a reported stop. */
bool vm__paused(struct vm *vm);

/* vCPU i executed HLT and is parked for good unless woken. */
bool vm__vcpu_halted(struct vm *vm, int i);
/* Clear vCPU i's halted state (e.g. after a debugger moved its RIP). */
void vm__vcpu_wake(struct vm *vm, int i);

/*
 * The realtime signal used to kick vCPU threads out of KVM_RUN (handler
 * installed once per process, without SA_RESTART). For a kernel-side
 * stop-the-world that must signal the vCPU threads itself.
 */
int vm__kick_signal(void);

/*
 * Debug hooks: up to VM_MAX_DEBUG_HOOKS sets (e.g. the snapshot service's
 * --snapshot-at and the debugger), added before vm__start() and called in
 * the order they were added; every pointer may be NULL.
 *
 * on_exit: on the vCPU thread, for KVM_EXIT_DEBUG, KVM_EXIT_INTERNAL_ERROR,
 * KVM_EXIT_SHUTDOWN, KVM_EXIT_FAIL_ENTRY and KVM_EXIT_MMIO (e.g. a store
 * into a page vm__protect_page() made read-only), before the VMM's own
 * handling. Each set's on_exit in turn until one claims the exit (returns
 * anything but VM_HOOK_UNHANDLED); a set claims only what is its own (a
 * KVM_EXIT_DEBUG by its DR6 bits, user/vmm/guest_debug.h).
 *   VM_HOOK_UNHANDLED: the VMM handles the exit as if no hook existed
 *     (MMIO to RAM: apply the store; the rest: crash the guest);
 *   VM_HOOK_CONTINUE: claimed; the vCPU re-enters the guest (for an MMIO
 *     store the hook has applied it, e.g. via vm__gpa_to_hva());
 *   VM_HOOK_STOP: claimed (same contract as CONTINUE for the exit itself)
 *     and stop the world (all-stop).
 *
 * on_stopped: only the set that owns the stop (its on_exit returned
 * VM_HOOK_STOP, or its on_crash held the guest): after that stop, once
 * every other vCPU is parked, on
 * the vCPU thread that stopped (which counts as parked during the call,
 * so vm__resume() may already run concurrently). If two vCPUs stop at
 * once, only the first is reported; the other is parked and its exit is
 * lost: re-executing the instruction on resume reproduces a breakpoint.
 * A stop that races with vm__resume() is dropped the same way.
 *
 * on_vm_exit: the guest is over; every set's, in order, once from
 * vm__wait() after every vCPU thread has ended.
 *
 * on_crash: on the vCPU thread, when the guest crashed (an exit above that
 * on_exit left unhandled and that ends the guest, an unexpected exit, a
 * failed KVM_RUN), after the one-line reason went to stderr. @why is that
 * line without the program name and the status ("NAME: vCPU 0:
 * KVM_EXIT_SHUTDOWN (triple fault) at RIP 0x100000"), @status what the
 * guest ends with (VM_STATUS_CRASH + reason). Each set's in turn until
 * one returns true: it holds the guest for inspection instead: the world
 * stops as after VM_HOOK_STOP (its on_stopped follows) and it later ends
 * it with vm__kill(vm, status). None holds: the guest ends now.
 */
enum vm_hook_ret { VM_HOOK_UNHANDLED, VM_HOOK_CONTINUE, VM_HOOK_STOP };

#define VM_MAX_DEBUG_HOOKS	4

struct vm_debug_hooks {
	enum vm_hook_ret (*on_exit)(void *ctx, struct vm *vm, int vcpu,
				    struct kvm_run *run);
	void (*on_stopped)(void *ctx, struct vm *vm, int vcpu);
	void (*on_vm_exit)(void *ctx, struct vm *vm, int status);
	bool (*on_crash)(void *ctx, struct vm *vm, int vcpu, const char *why,
			 int status);
	/*
	 * on_capture: vm__capture_held() on the snapshot writer's thread, every
	 * vCPU held: call capture(arg) and return its result, with guest
	 * memory as the guest wrote it meanwhile (a debugger's int3s out).
	 * Sets nest: the first set's on_capture wraps the second's, and so
	 * on; the innermost @capture is the writer's.
	 */
	int (*on_capture)(void *ctx, struct vm *vm, int (*capture)(void *arg),
			  void *arg);
};

/*
 * Copies *h and appends it with @ctx. -EBUSY once started, -ENOSPC when
 * VM_MAX_DEBUG_HOOKS sets are there.
 */
int vm__add_debug_hooks(struct vm *vm, const struct vm_debug_hooks *h,
			void *ctx);
/* Removes the set added with @ctx. -EBUSY once started, -ENOENT: none. */
int vm__remove_debug_hooks(struct vm *vm, void *ctx);

/* Guest memory. RAM is one range [0, vm__mem_size()); the host mapping
 * stays writable whatever KVM_MEM_READONLY says.
 */
void *vm__gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
uint64_t vm__mem_size(struct vm *vm);

/*
 * Make the 4 KiB page at @gpa read-only for the guest (or writable again)
 * by splitting RAM's memslots. Guest stores to it exit as KVM_EXIT_MMIO
 * with RIP past the store; unless on_exit claims them the VMM applies them
 * to RAM and continues. Any thread; the VMM briefly parks the vCPUs itself
 * while it rewrites the memslots. Returns -EOPNOTSUPP without
 * KVM_CAP_READONLY_MEM, -EINVAL outside RAM.
 */
int vm__protect_page(struct vm *vm, uint64_t gpa, bool readonly);

/*
 * VMM-internal holds (snapshots): park every vCPU without touching the
 * debugger's paused state or run set. vm__hold() returns once every vCPU is
 * parked (-ESRCH once the guest is over); each hold is undone by one
 * vm__release(). vm__hold_async() is for a vCPU thread (a hook, a port
 * handler): it takes a hold that the calling vCPU itself honours at its
 * next exit check, and returns at once; the thread that later waits with
 * vm__hold() then releases both.
 */
int vm__hold(struct vm *vm);
void vm__hold_async(struct vm *vm);
void vm__release(struct vm *vm);
/* Under a hold: fn(arg) through the on_capture hook, if any. */
int vm__capture_held(struct vm *vm, int (*fn)(void *arg), void *arg);

/*
 * A guest write to @port (only VM_PORT_SNAPSHOT is supported) calls fn on
 * the writing vCPU's thread, the write's RIP already past the OUT once
 * the vCPU parks. Before vm__start(); fn NULL removes it.
 */
typedef void (*vm_port_fn)(void *ctx, struct vm *vm, int vcpu, uint32_t value);
int vm__set_port_hook(struct vm *vm, uint16_t port, vm_port_fn fn, void *ctx);

/*
 * Replace guest RAM [gpa, gpa+len) by a private (copy-on-write) mapping of
 * @fd at @off. Page-aligned arguments; before vm__start() (restore()).
 */
int vm__map_file(struct vm *vm, uint64_t gpa, uint64_t len, int fd, uint64_t off);

/* Mark vCPU i halted before vm__start() (a restored HLT state). */
void vm__vcpu_set_halted(struct vm *vm, int i);

/* Reserved low region and stack size for @nr_cpus (layout above). */
uint64_t vm__reserved_end(int nr_cpus);
uint64_t vm__stack_size(int nr_cpus);

/*
 * Does guest-physical [gpa, gpa+len) touch a structure the VMM built and
 * the guest runs on: the page tables, GDT and TSS above (an ELF or flat
 * guest has no IDT), and for a Linux guest also its boot_params, command
 * line and ACPI tables (the kind's regions, user/vmm/machine.h)? true and *what (may be NULL)
 * names the first one, e.g. "page table (PML4)"; a debugger refuses to
 * write there unless told to. The stacks are not in it: only their place
 * is the VMM's, their contents are the guest's (locals, return addresses).
 */
bool vm__gpa_reserved(struct vm *vm, uint64_t gpa, uint64_t len,
		      const char **what);

/*
 * Facts about the host's KVM, for --info and option checking. Opens the
 * device named by $KVMDBG_KVM_DEV (default /dev/kvm). -errno, with a
 * one-line reason in err when given.
 */
struct vm_kvm_info {
	int api_version;
	int max_cpus;		/* KVM_CAP_MAX_VCPUS (or NR_VCPUS) */
	int recommended_cpus;	/* KVM_CAP_NR_VCPUS */
	const char *device;	/* path actually opened */
};
int vm__kvm_info(struct vm_kvm_info *info, char *err, size_t err_len);
/* Print API version, capability table (required/optional, yes/no), vCPU
 * limits and the stop-the-world path, for `kvmdbg-launch --info`.
 */
int vm__kvm_print_info(FILE *out, char *err, size_t err_len);

#endif /* KVMDBG_USER_VM_H */
