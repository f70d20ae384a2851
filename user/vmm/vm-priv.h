/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the VMM core (user/vmm/), shared by its files and by the
 * guest kinds that implement struct vm_machine (user/vmm/machine_elf.c,
 * user/linux/). Everything else uses user/vmm/vm.h and machine.h.
 */
#ifndef KVMDBG_USER_VM_PRIV_H
#define KVMDBG_USER_VM_PRIV_H

#include <pthread.h>
#include <stdarg.h>
#include <sys/types.h>

#include "user/lib/errf.h"
#include "user/vmm/guest_debug.h"
#include "user/vmm/machine.h"
#include "user/vmm/vm.h"

#define PAGE_SIZE		0x1000ULL
#define HUGE_SIZE		(2ULL << 20)
/* What the debugger reads back through kvm_run (KVM_CAP_SYNC_REGS). */
#define VCPU_SYNC_MASK		(KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

/* Guest-physical layout; see the table in user/vmm/vm.h. */
#define GPA_GDT			0x1000ULL
#define GPA_PML4		0x2000ULL
#define GPA_PDPT		0x3000ULL
#define GPA_PT0			0x4000ULL
#define GPA_TSS			0x5000ULL
#define GPA_PD			0x6000ULL	/* one page per GiB of RAM */
#define GPA_STACKS		0x80000ULL

#define SEL_CODE		0x08
#define SEL_DATA		0x10
#define SEL_TSS			0x18

struct vcpu {
	struct vm *vm;
	int idx;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;		/* thread exists (joinable) */
	pid_t tid;
	/* The fields below are protected by vm->lock. */
	bool parked;		/* outside KVM_RUN, waiting for wake */
	/* Let go by vm__resume_first() but not started yet (vm__resume_rest). */
	bool deferred;
	pthread_cond_t wake;	/* with vm->lock: it may run, or the VM ends */
	bool allowed;		/* debugger's run set (vm__resume) */
	bool halted;
	/* Last exit needs KVM_RUN to complete it (PIO/MMIO); vCPU thread only. */
	bool need_complete;
	/* The hook set whose stop (VM_HOOK_STOP, on_crash) this is; vCPU thread. */
	int stop_hooks;
	/* Guest debugging wished and programmed (guest_debug.c, its lock). */
	struct guest_debug_vcpu gd;
	/*
	 * KVM_CAP_SYNC_REGS (vcpu_state.c). sync_want: guest debugging is on,
	 * so KVM_RUN should leave regs and sregs in run->s.regs (set by
	 * guest_debug.c, read by the vCPU thread; atomic). sync_valid:
	 * run->s.regs holds what KVM has: the vCPU thread sets it after a
	 * KVM_RUN that filled it, vm__vcpu_regs_written() clears it; only
	 * read or cleared while the vCPU is parked (or on its own thread).
	 */
	bool sync_want;
	bool sync_valid;
};

struct vm {
	char *name;
	int kvm_fd, vm_fd;
	void *mem;
	uint64_t mem_size;
	uint64_t entry;
	int nr_vcpus;
	struct vcpu *vcpus;
	size_t run_size;
	int console_fd;
	bool verbose;
	const char *inspect_only;	/* vm_config's: never enters the guest */
	bool readonly_mem;	/* KVM_CAP_READONLY_MEM */
	bool sync_regs;		/* KVM_CAP_SYNC_REGS covers regs and sregs */
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, fetched once */

	/*
	 * lock protects the run state: paused, quiesce, exiting, status,
	 * nr_parked, nr_halted, stop_gen and every vcpu's parked / allowed /
	 * halted / deferred. vCPU threads wait on their own vcpu->wake for
	 * permission to run (one thread woken per vCPU let go, not all);
	 * pause, quiesce, stop and wait sleep on changed for vCPUs to park
	 * or exit.
	 */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	pthread_cond_t ended;		/* vm__wait(): broadcast once, at the end */
	bool started;
	bool waited;
	bool paused;		/* vm__pause() or a reported stop */
	int quiesce;		/* VMM-internal short pauses (memslot rewrite) */
	bool exiting;
	int status;
	int nr_started;		/* vCPU threads spawned */
	int nr_parked;
	int nr_halted;
	unsigned int stop_gen;	/* bumped by each stop; detects a racing resume */

	/* Debug hook sets in the order added; change only before vm__start(). */
	struct vm_hook_set {
		struct vm_debug_hooks h;
		void *ctx;
	} hooks[VM_MAX_DEBUG_HOOKS];
	int nr_hooks;
	/* Execute-breakpoint slots held for other users (guest_debug.c). */
	struct x86_hw_slots gd_reserved;

	/* Read-only pages (sorted GPAs) and the memslots they split RAM into;
	 * protected by slots_lock, rewritten only while quiesced.
	 */
	pthread_mutex_t slots_lock;
	uint64_t *ro_pages;
	size_t nr_ro, cap_ro;
	int nr_slots;

	/* kvmdbg.ko session (user/vmm/kvmdbg_mod.c), NULL on the userspace path.
	 * kfrozen (under lock): a debugger's all-stop froze the VM through
	 * it; vm__resume() thaws.
	 */
	struct kvmdbg_sess *kdbg;
	bool kfrozen;

	/* The guest kind (user/vmm/machine.h) and its own state. */
	const struct vm_machine *machine;
	void *machine_data;

	/* VM_PORT_SNAPSHOT writes go here (vm__set_port_hook). */
	vm_port_fn snap_port_fn;
	void *snap_port_ctx;

	/* Ports already reported as unhandled (--verbose), one bit each. */
	uint8_t warned_ports[65536 / 8];
};

/* kvm.c */
const char *kvm__device(void);
int kvm__open(char *err, size_t err_len);
int kvm__check_caps(int kvm_fd, char *err, size_t err_len);
int kvm__max_cpus(int kvm_fd);

/* boot.c: long-mode page tables, GDT; CPUID then the kind's registers. */
void boot__build_tables(struct vm *vm);
int boot__setup_vcpu(struct vm *vm, struct vcpu *vcpu);

/* loader.c: an image file, mapped and checked before KVM is touched. */
struct image {
	const char *path;
	int fd;
	const uint8_t *data;
	size_t size;
	char *err;
	size_t err_len;
};

int loader__open(struct vm *vm, const struct vm_config *cfg, struct image *img);
void loader__copy(struct vm *vm, const struct vm_config *cfg, struct image *img);
void loader__close(struct image *img);

/* ioport.c: the one port dispatcher (the snapshot port, then the kind's
 * ports, then an empty bus). Returns 0, or > 0: guest exit status + 1.
 */
int ioport__handle(struct vcpu *vcpu);
void mmio__handle(struct vcpu *vcpu);

/* vm.c */
int vm__set_slots(struct vm *vm);

/*
 * The structures the core builds in guest RAM, in address order: GDT,
 * page tables, TSS (returns 6). Pure, over the layout constants above,
 * so that unit tests check it without a VM.
 */
static inline int vm__core_regions(uint64_t mem_size, struct vm_region *r)
{
	uint64_t nr_gib = (mem_size + (1ULL << 30) - 1) >> 30;
	int n = 0;

	r[n++] = (struct vm_region){ GPA_GDT, GPA_GDT + PAGE_SIZE, "GDT" };
	r[n++] = (struct vm_region){ GPA_PML4, GPA_PML4 + PAGE_SIZE, "page table (PML4)" };
	r[n++] = (struct vm_region){ GPA_PDPT, GPA_PDPT + PAGE_SIZE, "page table (PDPT)" };
	r[n++] = (struct vm_region){ GPA_PT0, GPA_PT0 + PAGE_SIZE,
				     "page table (PT of the first 2 MiB)" };
	r[n++] = (struct vm_region){ GPA_TSS, GPA_TSS + PAGE_SIZE, "TSS" };
	r[n++] = (struct vm_region){ GPA_PD, GPA_PD + nr_gib * PAGE_SIZE,
				     "page table (page directory)" };
	return n;
}

/* The first of @n regions [gpa, gpa+len) touches, or NULL. No overflow for any len. */
static inline const char *vm__regions_owner(const struct vm_region *r, int n,
					    uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < n; i++)
		if (gpa < r[i].end &&
		    (gpa >= r[i].start ? len > 0 : r[i].start - gpa < len))
			return r[i].what;
	return NULL;
}

/* The core's regions then the kind's; returns how many (<= VM_MAX_REGIONS). */
int vm__regions(struct vm *vm, struct vm_region *r);

/* vcpu.c */
int vcpu__start(struct vcpu *vcpu);


#endif /* KVMDBG_USER_VM_PRIV_H */
