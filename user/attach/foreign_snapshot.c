// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch --attach PID --snapshot FILE: a snapshot of a VM another
 * process runs, written by the same writer as the launcher's own
 * (snapshot__write_from(), user/snapshot/snapshot.h) from a foreign
 * source: the freeze's capture record of every vCPU, and guest RAM read
 * out of the VMM's address space by process_vm_readv(2) in SNAP_CHUNK
 * pieces, slot by slot (address space 0; holes between slots are not
 * stored). The file says what it lacks (SNAP_HDR_FOREIGN): KVM refuses
 * XSAVE, MP state, LAPIC and further MSRs to another process, and the
 * VMM's devices are its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/attach/attach.h"
#include "user/attach/foreign_vm.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vm.h"

struct fsrc {
	struct fvm *vm;
	uint64_t thawed_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Frozen already (foreign__snapshot() froze it, with its own message). */
static int fsrc__hold(void *ctx)
{
	return fvm__frozen(((struct fsrc *)ctx)->vm) ? 0 : -ESRCH;
}

static void fsrc__release(void *ctx)
{
	struct fsrc *f = ctx;

	fvm__thaw(f->vm);
	f->thawed_ns = mono_ns();
}

static int fsrc__held(void *ctx, int (*fn)(void *arg), void *arg)
{
	(void)ctx;
	return fn(arg);
}

/* What the freeze captured, and nothing else: the rest is not ours to read. */
static int fsrc__capture(void *ctx, struct vm_state *st)
{
	struct fvm *v = ((struct fsrc *)ctx)->vm;
	int n = fvm__nr_vcpus(v);

	memset(st, 0, sizeof(*st));
	st->vcpu = calloc(n, sizeof(*st->vcpu));
	if (!st->vcpu)
		return -ENOMEM;
	st->nr_vcpus = n;
	st->capture_path = 1;
	for (int i = 0; i < n; i++) {
		const struct kvmdbg_vcpu_state *c = fvm__state(v, i);
		struct vcpu_state *s = &st->vcpu[i];

		if (!c)
			return -ESRCH;
		s->regs = c->regs;
		s->sregs = c->sregs;
		s->fpu = c->fpu;
		s->dregs = c->debugregs;
		s->events = c->events;
		s->nr_msrs = c->msrs.nmsrs < KVMDBG_NR_MSRS ? c->msrs.nmsrs : KVMDBG_NR_MSRS;
		memcpy(s->msrs, c->msrs.entries, s->nr_msrs * sizeof(s->msrs[0]));
	}
	return 0;
}

static const uint8_t *fsrc__ram(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf,
				int *err)
{
	ssize_t n = fvm__read_phys(((struct fsrc *)ctx)->vm, gpa, buf, len);

	*err = n == (ssize_t)len ? 0 : -EFAULT;
	return *err ? NULL : buf;
}

static const struct snapshot_source_ops fsrc_ops = {
	.hold = fsrc__hold,
	.release = fsrc__release,
	.held = fsrc__held,
	.capture = fsrc__capture,
	.ram = fsrc__ram,
};

static int by_gpa(const void *a, const void *b)
{
	const struct snap_slot *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/*
 * The VM's memslots of address space 0 in gpa order, and the RAM size a
 * resume needs to hold them all (at least what vm__create() accepts).
 */
static int fsrc__slots(struct fvm *v, struct snapshot_source *src, struct snap_slot **out,
		       char *err, size_t err_len)
{
	const uint32_t known = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
	struct snap_slot *sl = calloc(fvm__nr_slots(v) + 1, sizeof(*sl));
	uint64_t end = 0, min = vm__reserved_end(fvm__nr_vcpus(v)) + 4096;
	int n = 0;

	if (!sl)
		return -ENOMEM;
	for (int i = 0; i < fvm__nr_slots(v); i++) {
		const struct fvm_slot *s = fvm__slot(v, i);

		if (s->id >> 16 || !s->size)
			continue;	/* SMM's address space; an empty slot */
		if (s->flags & ~known) {
			errf__set(err, err_len, "memslot %u has flags %#x a snapshot cannot record (guest RAM not readable from the VMM's address space)",
				      s->id, s->flags);
			free(sl);
			return -EOPNOTSUPP;
		}
		sl[n++] = (struct snap_slot){ .gpa = s->gpa, .size = s->size,
					      .id = s->id, .flags = s->flags };
		if (s->gpa + s->size > end)
			end = s->gpa + s->size;
	}
	qsort(sl, n, sizeof(*sl), by_gpa);
	if (!n || end > VM_MEM_MAX) {
		errf__set(err, err_len, n ? "its guest-physical memory ends at %#llx, above the 64 GiB a snapshot holds" :
			      "the VM has no memslots", (unsigned long long)end);
		free(sl);
		return -E2BIG;
	}
	end = end > VM_MEM_MIN ? end : VM_MEM_MIN;
	src->mem_size = end > min ? end : min;
	src->nr_slots = n;
	src->slots = sl;
	*out = sl;
	return 0;
}

int foreign__snapshot(struct fvm *v, const char *path, struct foreign_snap_result *res,
		      char *err, size_t err_len)
{
	struct fsrc f = { .vm = v };
	struct snapshot_source src = { .ops = &fsrc_ops, .ctx = &f, .foreign = true };
	struct snapshot_meta m = { .trigger = SNAP_TRIG_ATTACH };
	struct snap_slot *slots = NULL;
	uint64_t t0;
	int r;

	memset(res, 0, sizeof(*res));
	r = fsrc__slots(v, &src, &slots, err, err_len);
	if (r)
		return r;
	t0 = mono_ns();
	r = fvm__freeze(v, err, err_len);
	if (!r) {
		r = snapshot__write_from(&src, path, &m, &res->bytes, err, err_len);
		if (fvm__frozen(v))
			fsrc__release(&f);
		res->pause_ns = f.thawed_ns - t0;
	}
	res->nr_vcpus = fvm__nr_vcpus(v);
	res->nr_slots = src.nr_slots;
	free(slots);
	return r;
}
