// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM as KVM memslots. RAM is one host mapping; it is cut into
 * slots only around the pages a debugger made read-only (write
 * watchpoints by page protection, see docs/debugging.md), so a guest store to
 * such a page exits as KVM_EXIT_MMIO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "user/vmm/vm-priv.h"

static int memslot__set(struct vm *vm, int slot, uint64_t gpa, uint64_t size,
			bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)vm->mem + gpa,
	};

	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

/* Length of the run of consecutive read-only pages starting at ro_pages[i]. */
static size_t memslot__ro_run(struct vm *vm, size_t i)
{
	size_t n = 1;

	while (i + n < vm->nr_ro &&
	       vm->ro_pages[i + n] == vm->ro_pages[i] + n * PAGE_SIZE)
		n++;
	return n;
}

/*
 * Replace every slot by the layout ro_pages asks for. Slots may not
 * overlap, so the old ones go first; the caller keeps the vCPUs out of
 * the guest meanwhile (quiesced, or not started yet).
 */
int vm__set_slots(struct vm *vm)
{
	uint64_t start = 0;
	int slot = 0, r;

	for (int i = 0; i < vm->nr_slots; i++)
		memslot__set(vm, i, 0, 0, false);
	vm->nr_slots = 0;
	for (size_t i = 0; i < vm->nr_ro;) {
		size_t n = memslot__ro_run(vm, i);
		uint64_t page = vm->ro_pages[i];

		if (page > start) {
			r = memslot__set(vm, slot++, start, page - start, false);
			if (r < 0)
				goto out;
		}
		r = memslot__set(vm, slot++, page, n * PAGE_SIZE, true);
		if (r < 0)
			goto out;
		start = page + n * PAGE_SIZE;
		i += n;
	}
	r = start < vm->mem_size ?
		memslot__set(vm, slot++, start, vm->mem_size - start, false) : 0;
out:
	vm->nr_slots = slot;
	return r;
}

/* Index of the first read-only page >= gpa. */
static size_t memslot__find(struct vm *vm, uint64_t gpa)
{
	size_t lo = 0, hi = vm->nr_ro;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vm->ro_pages[mid] < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int memslot__insert(struct vm *vm, size_t pos, uint64_t gpa)
{
	if (vm->nr_ro == vm->cap_ro) {
		size_t cap = vm->cap_ro ? vm->cap_ro * 2 : 16;
		uint64_t *p = realloc(vm->ro_pages, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		vm->ro_pages = p;
		vm->cap_ro = cap;
	}
	memmove(&vm->ro_pages[pos + 1], &vm->ro_pages[pos],
		(vm->nr_ro - pos) * sizeof(*vm->ro_pages));
	vm->ro_pages[pos] = gpa;
	vm->nr_ro++;
	return 0;
}

static void memslot__remove(struct vm *vm, size_t pos)
{
	memmove(&vm->ro_pages[pos], &vm->ro_pages[pos + 1],
		(vm->nr_ro - pos - 1) * sizeof(*vm->ro_pages));
	vm->nr_ro--;
}

/* Toggle one page in ro_pages; 1 if it changed, 0 if already so. */
static int memslot__toggle(struct vm *vm, uint64_t gpa, bool readonly)
{
	size_t pos = memslot__find(vm, gpa);
	bool present = pos < vm->nr_ro && vm->ro_pages[pos] == gpa;
	int r;

	if (present == readonly)
		return 0;
	if (!readonly) {
		memslot__remove(vm, pos);
		return 1;
	}
	r = memslot__insert(vm, pos, gpa);
	return r < 0 ? r : 1;
}

int vm__protect_page(struct vm *vm, uint64_t gpa, bool readonly)
{
	int r;

	if (!vm->readonly_mem)
		return -EOPNOTSUPP;
	gpa &= ~(PAGE_SIZE - 1);
	if (gpa >= vm->mem_size)
		return -EINVAL;
	pthread_mutex_lock(&vm->slots_lock);
	r = memslot__toggle(vm, gpa, readonly);
	if (r <= 0)
		goto unlock;
	vm__hold(vm);	/* a guest that is ending still takes the new slots */
	r = vm__set_slots(vm);
	if (r < 0) {
		/* Undo, so the slots match ro_pages again. */
		memslot__toggle(vm, gpa, !readonly);
		vm__set_slots(vm);
	}
	vm__release(vm);
unlock:
	pthread_mutex_unlock(&vm->slots_lock);
	return r < 0 ? r : 0;
}
