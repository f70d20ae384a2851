// SPDX-License-Identifier: GPL-2.0
/*
 * struct vm: creation, guest RAM and its memslots, teardown, accessors.
 * The vCPU threads and the run state live in vcpu.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm-priv.h"

uint64_t vm__stack_size(int nr_cpus)
{
	uint64_t sz = (VM_RESERVED_END - GPA_STACKS) / (nr_cpus > 0 ? nr_cpus : 1);

	sz &= ~(PAGE_SIZE - 1);
	if (sz > 0x10000)
		sz = 0x10000;
	return sz < PAGE_SIZE ? PAGE_SIZE : sz;
}

uint64_t vm__reserved_end(int nr_cpus)
{
	uint64_t end = GPA_STACKS + (uint64_t)nr_cpus * vm__stack_size(nr_cpus);

	return end > VM_RESERVED_END ? end : VM_RESERVED_END;
}

int vm__regions(struct vm *vm, struct vm_region *r)
{
	int n = vm__core_regions(vm->mem_size, r);

	if (vm->machine->regions)
		n += vm->machine->regions(vm, r + n);
	return n;
}

bool vm__gpa_reserved(struct vm *vm, uint64_t gpa, uint64_t len,
		      const char **what)
{
	struct vm_region r[VM_MAX_REGIONS];
	const char *w = vm__regions_owner(r, vm__regions(vm, r), gpa, len);

	if (what)
		*what = w;
	return w != NULL;
}

const struct vm_machine *vm__machine(struct vm *vm)
{
	return vm->machine;
}

void vm__describe_memory(struct vm *vm, vm_print_fn print, void *out)
{
	struct vm_region r[VM_MAX_REGIONS];
	int n = vm__regions(vm, r);

	print(out, "guest RAM: 0x0-%#" PRIx64 " (%" PRIu64 " MiB), identity-mapped, one memslot\n",
	      vm->mem_size, vm->mem_size >> 20);
	print(out, "  0x00000000-0x00001000  not present (NULL guard)\n");
	for (int i = 0; i < n; i++)
		print(out, "  0x%08" PRIx64 "-0x%08" PRIx64 "  %s\n",
		      r[i].start, r[i].end, r[i].what);
	if (vm->machine->describe)
		vm->machine->describe(vm, print, out);
}

static int vm__check_mem(const struct vm_config *cfg, int nr_cpus, uint64_t mem)
{
	if (mem % PAGE_SIZE || mem < VM_MEM_MIN || mem > VM_MEM_MAX ||
	    mem <= vm__reserved_end(nr_cpus)) {
		errf__set(cfg->err, cfg->err_len,
			 "memory size %#llx: must be a multiple of 4K between 2M and 64G, above the %#llx bytes the VMM reserves",
			 (unsigned long long)mem,
			 (unsigned long long)vm__reserved_end(nr_cpus));
		return -EINVAL;
	}
	return 0;
}

static struct vm *vm__alloc(const struct vm_config *cfg, int nr_cpus)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->vcpus = calloc(nr_cpus, sizeof(*vm->vcpus));
	vm->name = strdup(cfg->name ? cfg->name : cfg->image ? cfg->image : "vm");
	if (!vm->vcpus || !vm->name) {
		free(vm->vcpus);
		free(vm->name);
		free(vm);
		return NULL;
	}
	vm->kvm_fd = vm->vm_fd = -1;
	vm->nr_vcpus = nr_cpus;
	vm->console_fd = cfg->console_fd;
	vm->verbose = cfg->verbose;
	vm->paused = cfg->start_paused;
	vm->inspect_only = cfg->inspect_only;
	vm->machine = cfg->machine ? cfg->machine : &vm_machine_elf;
	for (int i = 0; i < nr_cpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].idx = i;
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].allowed = true;
		pthread_cond_init(&vm->vcpus[i].wake, NULL);
	}
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->slots_lock, NULL);
	pthread_cond_init(&vm->changed, NULL);
	pthread_cond_init(&vm->ended, NULL);
	return vm;
}

static int vm__alloc_ram(struct vm *vm, const struct vm_config *cfg)
{
	/* NORESERVE: a 64 GiB guest that touches 1 MiB costs 1 MiB. */
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		int e = errno;

		vm->mem = NULL;
		errf__set(cfg->err, cfg->err_len, "cannot allocate %llu bytes of guest RAM: %s",
			 (unsigned long long)vm->mem_size, strerror(e));
		return -e;
	}
	return vm__set_slots(vm);
}

static int vm__create_vcpus(struct vm *vm, const struct vm_config *cfg)
{
	int r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (r <= 0)
		goto fail;
	vm->run_size = r;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (vcpu->fd < 0)
			goto fail;
		vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, vcpu->fd, 0);
		if (vcpu->run == MAP_FAILED) {
			vcpu->run = NULL;
			goto fail;
		}
		r = boot__setup_vcpu(vm, vcpu);
		if (r < 0) {
			errno = -r;
			goto fail;
		}
	}
	return 0;
fail:
	r = errno;
	errf__set(cfg->err, cfg->err_len, "cannot create vCPUs: %s", strerror(r));
	return -r;
}

static int vm__open_kvm(struct vm *vm, const struct vm_config *cfg)
{
	int r;

	vm->kvm_fd = kvm__open(cfg->err, cfg->err_len);
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	r = kvm__check_caps(vm->kvm_fd, cfg->err, cfg->err_len);
	if (r < 0)
		return r;
	if (vm->nr_vcpus > kvm__max_cpus(vm->kvm_fd)) {
		errf__set(cfg->err, cfg->err_len, "%d vCPUs requested; KVM allows 1 to %d",
			 vm->nr_vcpus, kvm__max_cpus(vm->kvm_fd));
		return -EINVAL;
	}
	vm->readonly_mem = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				 KVM_CAP_READONLY_MEM) > 0;
	r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	vm->sync_regs = r > 0 && (r & VCPU_SYNC_MASK) == VCPU_SYNC_MASK &&
			!getenv("KVMDBG_NO_SYNC_REGS");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		r = errno;
		errf__set(cfg->err, cfg->err_len, "KVM_CREATE_VM failed: %s", strerror(r));
		return -r;
	}
	/* No session: the userspace path, which gives the same results. */
	kvmdbg_sess__attach(vm->vm_fd, vm__kick_signal(), &vm->kdbg);
	return 0;
}

/*
 * Devices the kind needs before any vCPU (an irqchip), then RAM; with an
 * image also the kind's load (the image was checked and mapped first).
 */
static int vm__build(struct vm *vm, const struct vm_config *cfg)
{
	int r = vm__open_kvm(vm, cfg);

	if (r == 0 && vm->machine->init)
		r = vm->machine->init(vm, cfg);
	if (r == 0)
		r = vm__alloc_ram(vm, cfg);
	if (r == 0 && !cfg->restore)
		r = vm->machine->load(vm, cfg);
	if (r == 0)
		r = vm__create_vcpus(vm, cfg);
	/* No image: RAM and vCPU state come from cfg->restore (a snapshot). */
	if (r == 0 && cfg->restore)
		r = cfg->restore(cfg->restore_ctx, vm, cfg->err, cfg->err_len);
	return r;
}

/*
 * The image is checked first, without KVM, so a bad one is reported on
 * any host; it is copied in once RAM exists.
 */
int vm__create(const struct vm_config *cfg, struct vm **out)
{
	int nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
	struct vm *vm;
	int r;

	if (nr_cpus < 1) {
		errf__set(cfg->err, cfg->err_len, "%d vCPUs requested; need at least 1",
			 nr_cpus);
		return -EINVAL;
	}
	vm = vm__alloc(cfg, nr_cpus);
	if (!vm) {
		errf__set(cfg->err, cfg->err_len, "out of memory");
		return -ENOMEM;
	}
	vm->mem_size = cfg->mem_size ? cfg->mem_size : VM_MEM_DEFAULT;
	r = vm__check_mem(cfg, nr_cpus, vm->mem_size);
	if (r == 0 && !cfg->restore)
		r = vm->machine->open(vm, cfg);
	if (r == 0)
		r = vm__build(vm, cfg);
	if (r < 0) {
		vm__destroy(vm);
		return r;
	}
	*out = vm;
	return 0;
}

static void vm__free_vcpus(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (vcpu->run)
			munmap(vcpu->run, vm->run_size);
		if (vcpu->fd >= 0)
			close(vcpu->fd);
	}
	free(vm->vcpus);
}

void vm__destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->started && !vm->waited) {
		int status;

		vm__kill(vm, 0);
		vm__wait(vm, &status);
	}
	kvmdbg_sess__close(vm->kdbg);
	if (vm->machine->destroy)
		vm->machine->destroy(vm);
	vm__free_vcpus(vm);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->changed);
	pthread_cond_destroy(&vm->ended);
	for (int i = 0; i < vm->nr_vcpus; i++)
		pthread_cond_destroy(&vm->vcpus[i].wake);
	pthread_mutex_destroy(&vm->slots_lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm->ro_pages);
	free(vm->cpuid);
	free(vm->name);
	free(vm);
}

int vm__nr_vcpus(struct vm *vm) { return vm->nr_vcpus; }
int vm__vm_fd(struct vm *vm) { return vm->vm_fd; }
uint64_t vm__entry(struct vm *vm) { return vm->entry; }
uint64_t vm__mem_size(struct vm *vm) { return vm->mem_size; }
const char *vm__inspect_only(struct vm *vm) { return vm->inspect_only; }

int vm__vcpu_fd(struct vm *vm, int i)
{
	return i >= 0 && i < vm->nr_vcpus ? vm->vcpus[i].fd : -1;
}

void vm__vcpu_set_cr8(struct vm *vm, int i, uint64_t cr8)
{
	struct kvm_run *run = i >= 0 && i < vm->nr_vcpus ? vm->vcpus[i].run : NULL;

	if (run)
		run->cr8 = cr8;
}

void *vm__gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return (uint8_t *)vm->mem + gpa;
}

int vm__map_file(struct vm *vm, uint64_t gpa, uint64_t len, int fd, uint64_t off)
{
	void *p;

	if (vm->started || (gpa | len | off) % PAGE_SIZE || !vm__gpa_to_hva(vm, gpa, len))
		return -EINVAL;
	/* MAP_FIXED over our own RAM mapping: KVM's memslot keeps the same
	 * host address and sees the new pages through its MMU notifier.
	 */
	p = mmap((uint8_t *)vm->mem + gpa, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
	return p == MAP_FAILED ? -errno : 0;
}

int vm__set_port_hook(struct vm *vm, uint16_t port, vm_port_fn fn, void *ctx)
{
	if (vm->started)
		return -EBUSY;
	if (port != VM_PORT_SNAPSHOT)
		return -EINVAL;
	vm->snap_port_fn = fn;
	vm->snap_port_ctx = fn ? ctx : NULL;
	return 0;
}

/* vm__capture_held(): the next set's on_capture around the rest. */
struct capture_chain {
	struct vm *vm;
	int next;
	int (*fn)(void *arg);
	void *arg;
};

static int capture_next(void *p)
{
	struct capture_chain *c = p;

	while (c->next < c->vm->nr_hooks) {
		int i = c->next++;

		if (c->vm->hooks[i].h.on_capture)
			return c->vm->hooks[i].h.on_capture(c->vm->hooks[i].ctx,
							     c->vm, capture_next, c);
	}
	return c->fn(c->arg);
}

int vm__capture_held(struct vm *vm, int (*fn)(void *arg), void *arg)
{
	struct capture_chain c = { .vm = vm, .fn = fn, .arg = arg };

	/* hooks change only before vm__start(): no lock. */
	return capture_next(&c);
}

int vm__add_debug_hooks(struct vm *vm, const struct vm_debug_hooks *h, void *ctx)
{
	if (vm->started)
		return -EBUSY;
	if (vm->nr_hooks == VM_MAX_DEBUG_HOOKS)
		return -ENOSPC;
	vm->hooks[vm->nr_hooks].h = *h;
	vm->hooks[vm->nr_hooks++].ctx = ctx;
	return 0;
}

int vm__remove_debug_hooks(struct vm *vm, void *ctx)
{
	if (vm->started)
		return -EBUSY;
	for (int i = 0; i < vm->nr_hooks; i++) {
		if (vm->hooks[i].ctx != ctx)
			continue;
		memmove(&vm->hooks[i], &vm->hooks[i + 1],
			(vm->nr_hooks - i - 1) * sizeof(vm->hooks[0]));
		vm->nr_hooks--;
		return 0;
	}
	return -ENOENT;
}
