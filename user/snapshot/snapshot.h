/* SPDX-License-Identifier: GPL-2.0 */
/*
 * user/snapshot/: snapshots. Owns the file format, writing, reading,
 * resuming and the snapshot service's triggers. Calls user/vmm/ (a
 * kind's devices through user/vmm/machine.h) and user/lib/.
 */
/*
 * Snapshots of a running VM (docs/snapshot-format.md): capture every
 * vCPU's state and guest RAM at one point in time, write them atomically
 * to a file, and resume a VM from such a file with RAM mapped from it
 * copy-on-write. Library code: -errno with a one-line reason in err.
 */
#ifndef KVMDBG_USER_SNAPSHOT_H
#define KVMDBG_USER_SNAPSHOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

#include "user/lib/elf.h"
#include "user/snapshot/snapshot_format.h"
#include "user/vmm/machine.h"
#include "user/vmm/vm.h"

/* Everything KVM holds for one vCPU that a resume must put back. */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave *xsave;	/* NULL: no KVM_CAP_XSAVE, fpu used */
	uint32_t xsave_size;
	bool has_xcrs;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_vcpu_events events;
	bool has_mp_state;
	struct kvm_mp_state mp;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[SNAP_MAX_MSRS];
	bool halted;			/* VMM state: parked by HLT */
	bool has_lapic;			/* in-kernel irqchip VMs only */
	struct kvm_lapic_state lapic;
};

struct vm_state {
	int nr_vcpus;
	struct vcpu_state *vcpu;
	uint32_t capture_path;		/* 0: userspace, 1: kvmdbg.ko */
	/* In-kernel devices (SNAP_HDR_IRQCHIP) of a kind that has them. */
	struct vm_devices dev;
};

/*
 * Capture every vCPU's state. Every vCPU must be parked (vm__hold() or a
 * debugger stop). Registers come from vm__capture() (user/vmm/vcpu_state.h:
 * one KVMDBG_SNAPSHOT through kvmdbg.ko, else KVM_GET_* per vCPU), the
 * rest (XSAVE, MSRs, LAPIC, devices) through KVM_GET_* while still held.
 */
int vm__capture_state(struct vm *vm, struct vm_state *st);
/* Put one vCPU's state back (before vm__start()). */
int vm__restore_vcpu(struct vm *vm, int i, const struct vcpu_state *s,
		     char *err, size_t err_len);
void vm_state__free(struct vm_state *st);
/* In-kernel irqchip, PIT, kvmclock and UART back (before vCPU state). */
int vm__restore_devices(struct vm *vm, const struct vm_state *st, char *err,
			size_t err_len);
/* After every vCPU's state: re-raise device interrupts the restore lost. */
void vm__restore_devices_done(struct vm *vm, const struct vm_state *st);

static_assert(SNAP_MAX_BUILD_ID == ELF_MAX_BUILD_ID, "build-id room");
static_assert(SNAP_UART_SIZE == VM_UART_STATE_SIZE, "UART record size");

/* What the writer records about where the VM came from. */
struct snapshot_meta {
	const char *image;		/* may be NULL */
	uint8_t build_id[SNAP_MAX_BUILD_ID];
	uint32_t build_id_len;
	uint64_t entry;
	enum snap_trigger trigger;
	uint64_t trigger_addr;
	/* Resumed VM: RAM ranges still mapped from this snapshot file (not
	 * anonymous), so the writer must read them instead of assuming
	 * untouched pages are zero.
	 */
	const struct snapshot *from;
};

/*
 * Hold the world (vm__hold), capture vCPU state and RAM through
 * vm__capture_held() (a debugger's breakpoints lifted), release, and write
 * @path atomically (an unnamed O_TMPFILE file in the same directory, or a
 * named temp file where the filesystem lacks it; fsync, link, rename,
 * fsync of the directory). On failure, or if the writer is killed, no
 * temp file remains and an existing @path is untouched. @path must pass
 * snapshot__check_target(). Not on a vCPU thread.
 */
int snapshot__write(struct vm *vm, const char *path,
		    const struct snapshot_meta *m, char *err, size_t err_len);

/*
 * Where a snapshot's vCPU state and RAM come from: the launcher's own VM
 * (snapshot__write()) or a VM another process runs (user/attach/). The
 * writer calls hold, then held(fn) and, inside fn, capture and ram, then
 * release; the file is laid out and written the same way for every
 * source.
 */
#define SNAP_CHUNK		(512 * SNAP_PAGE)	/* RAM read per ram() call */

struct snapshot_source_ops {
	/* Stop every vCPU and keep it stopped: 0, or -errno. */
	int (*hold)(void *ctx);
	/* After hold, whether it succeeded or not. */
	void (*release)(void *ctx);
	/* Held: fn(arg), guest memory as the guest wrote it meanwhile. */
	int (*held)(void *ctx, int (*fn)(void *arg), void *arg);
	/* Held: every vCPU's state (freed with vm_state__free()). */
	int (*capture)(void *ctx, struct vm_state *st);
	/*
	 * Held: guest RAM [gpa, gpa + len) inside one slot, len <= SNAP_CHUNK:
	 * a pointer to it where the source maps it, else a copy in @buf; NULL
	 * and *err = -errno when it cannot be read.
	 */
	const uint8_t *(*ram)(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf,
			      int *err);
	/*
	 * Optional (NULL: every page is read): for n <= SNAP_CHUNK pages from
	 * gpa, maybe[i] false where the page was never touched (zero for sure).
	 */
	void (*touched)(void *ctx, uint64_t gpa, uint64_t n, bool *maybe);
};

struct snapshot_source {
	const struct snapshot_source_ops *ops;
	void *ctx;
	/* SNAP_HDR_FOREIGN: the slots go into a SLOTS section, no devices. */
	bool foreign;
	uint64_t mem_size;		/* CONFIG's mem_size: every slot below it */
	int nr_slots;			/* RAM, in gpa order, apart */
	const struct snap_slot *slots;
};

/*
 * snapshot__write() for any source: the same target checks, atomic
 * write and messages. *size (may be NULL): the file's bytes.
 */
int snapshot__write_from(const struct snapshot_source *src, const char *path,
			 const struct snapshot_meta *m, uint64_t *size, char *err,
			 size_t err_len);

/*
 * May a snapshot be written to @path? Its directory must exist and be
 * writable; an existing @path must be a regular file (a symlink is not
 * followed or replaced) with a write bit the caller may use. 0, or -errno
 * with one line starting "snapshot PATH: " in err.
 */
int snapshot__check_target(const char *path, char *err, size_t err_len);

/* A validated snapshot file (every checksum checked), kept open for mapping. */
struct snapshot;

int snapshot__open(const char *path, struct snapshot **out, char *err,
		   size_t err_len);
void snapshot__close(struct snapshot *s);
/* vm_config.restore: ctx is a struct snapshot *. */
int snapshot__restore(void *ctx, struct vm *vm, char *err, size_t err_len);

const char *snapshot__path(const struct snapshot *s);
const struct snap_config *snapshot__config(const struct snapshot *s);
const char *snapshot__image(const struct snapshot *s);	/* "" if none */
const uint8_t *snapshot__build_id(const struct snapshot *s, uint32_t *len);
uint64_t snapshot__nr_pages(const struct snapshot *s);
/* A Linux guest's snapshot: resume needs the in-kernel irqchip, PIT, UART. */
bool snapshot__irqchip(const struct snapshot *s);
/*
 * A snapshot of a VM another process ran (SNAP_HDR_FOREIGN): its VMM's
 * devices and the vCPU state KVM refuses to another process are not in
 * it, so resume is for inspection under gdb only.
 */
bool snapshot__foreign(const struct snapshot *s);
/* SNAP_HDR_FOREIGN: the VM's memslots (else one slot, all of RAM). */
int snapshot__nr_slots(const struct snapshot *s);
const struct snap_slot *snapshot__slot(const struct snapshot *s, int i);
/* vCPU @vcpu's state as stored (NULL outside 0..nr_vcpus-1). */
const struct vcpu_state *snapshot__vcpu(const struct snapshot *s, int vcpu);
/*
 * Guest RAM as stored: [gpa, gpa + len) into buf, zero where no run is.
 * 0, or -EIO (a read of the file failed) or -EINVAL (beyond mem_size).
 */
int snapshot__read_ram(const struct snapshot *s, uint64_t gpa, void *buf, uint64_t len);
/* Why a foreign snapshot cannot run: one sentence for messages. */
extern const char snapshot_foreign_why[];
uint64_t snapshot__rip(const struct snapshot *s, int vcpu);
/* True when [gpa, gpa+len) overlaps a run stored in @s. */
bool snapshot__maps(const struct snapshot *s, uint64_t gpa, uint64_t len);
/* Metadata lines (monitor info snapshot, the driver's context block). */
void snapshot__describe(const struct snapshot *s,
			void (*print)(void *out, const char *fmt, ...), void *out);

const char *snapshot__trigger_name(uint32_t trigger);
uint32_t snapshot__crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Snapshot service of one VM (user/snapshot/snapshot_service.c): SIGUSR1, guest
 * writes to VM_PORT_SNAPSHOT and a HW breakpoint at an address each write
 * @path; the gdb backend's monitor commands reach it by VM.
 */
struct snapshot_service_cfg {
	const char *path;		/* where triggers write; NULL: none */
	bool exit_after;		/* end the guest after a snapshot */
	bool at_set;			/* --snapshot-at given */
	uint64_t at_addr;
	bool sigusr1;			/* the process's SIGUSR1 triggers */
	bool verbose;			/* report size and time of each write */
	struct snapshot_meta meta;	/* image, build-id, entry, from */
};

struct snap_service;

/* Between vm__create() and vm__start(); installs hooks unless debugging
 * (at_set needs the VM's debug hooks, so not with --gdb). *out: the
 * service's handle for the calls below.
 */
int snapshot_service__start(struct vm *vm, const struct snapshot_service_cfg *c,
			    struct snap_service **out);
/*
 * Before vm__create() when SIGUSR1 will trigger snapshots: threads made
 * there (a Linux guest's UART input thread) inherit the signal mask, and
 * one with SIGUSR1 unblocked would take the signal's default action and
 * end the process instead of the signalfd seeing it.
 */
void snapshot_service__block_sigusr1(void);
/* After vm__wait(): stop the service thread, free. NULL is a no-op. */
void snapshot_service__stop(struct snap_service *s);
/* Snapshots written so far, and the last error (for exit status). */
int snapshot_service__result(struct snap_service *s, int *nr_written);
/* --snapshot-at: a vCPU reached the address (its breakpoint fired). */
bool snapshot_service__at_reached(struct snap_service *s);

/*
 * The service's monitor commands ("snapshot FILE", "info snapshot",
 * "info memory"), for debug__add_monitor() (a debug_monitor_fn with the
 * service as @ctx): 0 handled, -ENOENT not ours, -errno.
 */
int snapshot_service__monitor(void *ctx, const char *cmd, bool help,
			      void (*print)(void *out, const char *fmt, ...), void *out);

#endif /* KVMDBG_USER_SNAPSHOT_H */
