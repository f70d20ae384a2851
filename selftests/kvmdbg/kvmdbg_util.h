/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the kvmdbg.ko VM selftests: a tiny long-mode guest built
 * with raw KVM ioctls in the test's own memory, vCPU threads that run it
 * the way a VMM does (kick signal handled, immediate_exit respected), and
 * thin wrappers over the kvmdbg ioctls.
 *
 * Guest physical layout (one 4 MiB memslot at GPA 0):
 *   0x0500 GDT, 0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 PT,
 *   0x5000 PD for GVA 1 GiB, 0x7000 stack top, 0x8000 code,
 *   0xa000 + 64 * i: vCPU i's counter.
 * Guest virtual layout:
 *   0x0 - 0x1fffff   4 KiB pages, identity, except GVA 0x100000 (not
 *                    present) and GVA 0x1ff000 -> GPA 0x300000
 *   0x200000 - 0x3fffff  one 2 MiB page, identity
 *   0x40000000 - 0x401fffff  one 2 MiB page -> GPA 0x200000
 */
#ifndef KVMDBG_UTIL_H
#define KVMDBG_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>

#include <uapi/linux/kvmdbg.h>

#define KVMDBG_DEV	"/dev/" KVMDBG_DEVICE_NAME
#define KICK_SIGNAL	SIGUSR1
#define MAX_VCPUS	8

#define GUEST_MEM	(4UL << 20)
#define GDT_GPA		0x500UL
#define PML4_GPA	0x1000UL
#define CODE_GPA	0x8000UL
#define STACK_GPA	0x7000UL
#define COUNTER_GPA(i)	(0xa000UL + 64 * (i))
#define UNMAPPED_GVA	0x100000UL
#define REMAP_GVA	0x1ff000UL
#define REMAP_GPA	0x300000UL
#define BIG_GPA		0x200000UL
#define BIG_GVA		0x40000000UL
/* Offset of the store in the guest loop: inc rax; mov [rbx],rax; jmp. */
#define LOOP_STORE_OFF	3

_Static_assert(sizeof(struct kvmdbg_attach) == 56, "ABI");
_Static_assert(sizeof(struct kvmdbg_kick_signal) == 32, "ABI");
_Static_assert(sizeof(struct kvmdbg_msrs) == 88, "ABI");
_Static_assert(sizeof(struct kvmdbg_vcpu_state) == 1184, "ABI");
_Static_assert(sizeof(struct kvmdbg_range) == 48, "ABI");
_Static_assert(sizeof(struct kvmdbg_snapshot) == 208, "ABI");
_Static_assert(sizeof(struct kvmdbg_guest_debug) == 104, "ABI");
_Static_assert(sizeof(struct kvmdbg_vcpu_info) == 16, "ABI");
_Static_assert(sizeof(struct kvmdbg_memslot) == 32, "ABI");
_Static_assert(sizeof(struct kvmdbg_vm_info) == 72, "ABI");
_Static_assert(sizeof(struct kvmdbg_set_vcpu_state) == 992, "ABI");

struct vcpu {
	int fd;
	int id;
	struct kvm_run *run;
	pthread_t thread;
	bool running;
	volatile bool stop;
	int error;		/* errno of an unexpected KVM_RUN failure */
	uint32_t bad_exit;	/* unexpected exit reason, 0 if none */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	uint8_t *mem;
	int nr_vcpus;
	struct vcpu vcpus[MAX_VCPUS];
};

static void kick_handler(int sig)
{
	(void)sig;
}

static inline int install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	return sigaction(KICK_SIGNAL, &sa, NULL);
}

static inline void *gpa(struct vm *vm, uint64_t addr)
{
	return vm->mem + addr;
}

static inline void build_page_tables(struct vm *vm)
{
	uint64_t *pml4 = gpa(vm, PML4_GPA), *pdpt = gpa(vm, 0x2000);
	uint64_t *pd = gpa(vm, 0x3000), *pt = gpa(vm, 0x4000);
	uint64_t *pd_hi = gpa(vm, 0x5000);
	int i;

	pml4[0] = 0x2000 | 3;
	pdpt[0] = 0x3000 | 3;
	pdpt[1] = 0x5000 | 3;
	pd[0] = 0x4000 | 3;
	pd[1] = BIG_GPA | 0x83;		/* 2 MiB page, identity */
	pd_hi[0] = BIG_GPA | 0x83;	/* GVA 1 GiB -> GPA 2 MiB */
	for (i = 0; i < 512; i++)
		pt[i] = ((uint64_t)i << 12) | 3;
	pt[UNMAPPED_GVA >> 12 & 511] = 0;
	pt[REMAP_GVA >> 12 & 511] = REMAP_GPA | 3;
}

static inline void build_guest(struct vm *vm)
{
	/* loop: inc rax; mov [rbx], rax; jmp loop */
	static const uint8_t code[] = {
		0x48, 0xff, 0xc0, 0x48, 0x89, 0x03, 0xeb, 0xf8,
	};
	uint64_t *gdt = gpa(vm, GDT_GPA);

	gdt[1] = 0x00209a0000000000ULL;	/* 64-bit code */
	gdt[2] = 0x0000920000000000ULL;	/* data */
	memcpy(gpa(vm, CODE_GPA), code, sizeof(code));
	build_page_tables(vm);
}

static inline int vcpu_setup(struct vm *vm, struct vcpu *v)
{
	struct kvm_segment cs = { .base = 0, .limit = 0xffffffff, .selector = 8,
		.type = 11, .present = 1, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment ds = { .base = 0, .limit = 0xffffffff, .selector = 16,
		.type = 3, .present = 1, .s = 1, .g = 1 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2, .rip = CODE_GPA,
		.rsp = STACK_GPA - 256 * v->id, .rbx = COUNTER_GPA(v->id),
		.rax = 1000 * v->id };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return -1;
	sregs.cs = cs;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = ds;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 23;
	sregs.cr0 = 0x80050033;	/* PG WP NE ET MP PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20;	/* PAE */
	sregs.efer = 0x500;	/* LME LMA */
	*(uint64_t *)gpa(vm, COUNTER_GPA(v->id)) = regs.rax;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		return -1;
	return ioctl(v->fd, KVM_SET_REGS, &regs);
}

/* Creates a VM with @n vCPUs set up to run the counter loop; 0 or -1. */
static inline int vm_create(struct vm *vm, int n)
{
	struct kvm_userspace_memory_region region = { .slot = 0,
		.guest_phys_addr = 0, .memory_size = GUEST_MEM };
	int i, size;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return -1;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return -1;
	vm->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		return -1;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		return -1;
	build_guest(vm);
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	for (i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			return -1;
		v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED || vcpu_setup(vm, v))
			return -1;
		vm->nr_vcpus++;
	}
	return 0;
}

/* A VMM's vCPU loop: stays out of the guest while immediate_exit is set. */
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	while (!v->stop) {
		if (__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE)) {
			usleep(20);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) == 0) {
			v->bad_exit = v->run->exit_reason;
			break;
		}
		if (errno != EINTR) {
			v->error = errno;
			break;
		}
	}
	return NULL;
}

static inline int vm_start(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].stop = false;
		if (pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread,
				   &vm->vcpus[i]))
			return -1;
		vm->vcpus[i].running = true;
	}
	return 0;
}

static inline void vm_stop(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->running)
			continue;
		v->stop = true;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, KICK_SIGNAL);
		pthread_join(v->thread, NULL);
		v->running = false;
		v->run->immediate_exit = 0;
	}
}

static inline void vm_destroy(struct vm *vm)
{
	int i;

	vm_stop(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		close(vm->vcpus[i].fd);
	if (vm->mem && vm->mem != MAP_FAILED)
		munmap(vm->mem, GUEST_MEM);
	if (vm->vm_fd > 0)
		close(vm->vm_fd);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
	memset(vm, 0, sizeof(*vm));
}

/*
 * Session on VM fd @vm_fd attached with @flags (KVMDBG_ATTACH_*), kick
 * signal registered; fd or -1.
 */
static inline int session_open_fd(int dev, int vm_fd, uint32_t flags)
{
	struct kvmdbg_attach at = { .vm_fd = vm_fd, .flags = flags };
	struct kvmdbg_kick_signal ks = { .signo = KICK_SIGNAL };
	int s;

	s = ioctl(dev, KVMDBG_ATTACH, &at);
	if (s < 0)
		return -1;
	if (ioctl(s, KVMDBG_SET_KICK_SIGNAL, &ks)) {
		close(s);
		return -1;
	}
	return s;
}

/* The VMM's own session on @vm; fd or -1. */
static inline int session_open(int dev, struct vm *vm)
{
	return session_open_fd(dev, vm->vm_fd, 0);
}

static inline int snapshot(int s, struct kvmdbg_snapshot *snap,
			   struct kvmdbg_vcpu_state *st, unsigned int nr,
			   struct kvmdbg_range *rg, unsigned int nr_ranges)
{
	memset(snap, 0, sizeof(*snap));
	snap->nr_vcpus = nr;
	snap->vcpu_stride = sizeof(*st);
	snap->vcpus = (uintptr_t)st;
	snap->ranges = (uintptr_t)rg;
	snap->nr_ranges = nr_ranges;
	return ioctl(s, KVMDBG_SNAPSHOT, snap);
}

/*
 * Whether a vCPU's captured registers match its counter in memory read
 * at the end of the same snapshot: rax == counter, or rax == counter + 1
 * with RIP on the store.
 */
static inline bool counter_consistent(const struct kvmdbg_vcpu_state *st,
				      uint64_t mem)
{
	if (st->regs.rip == CODE_GPA + LOOP_STORE_OFF)
		return st->regs.rax == mem + 1;
	return st->regs.rax == mem;
}

/* Skips the test (harness) when KVM or the module is missing. */
#define REQUIRE_KVMDBG(dev)						\
	do {								\
		if (access("/dev/kvm", R_OK | W_OK))			\
			SKIP(return, "no /dev/kvm");			\
		(dev) = open(KVMDBG_DEV, O_RDWR | O_CLOEXEC);		\
		if ((dev) < 0)						\
			SKIP(return, "no " KVMDBG_DEV " (load kvmdbg.ko)"); \
	} while (0)

#endif /* KVMDBG_UTIL_H */
