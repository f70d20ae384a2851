// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch --attach PID --dump FILE, and the attach session's
 * "monitor dump FILE": an ELF core of a VM another process runs, written
 * by the one core writer (core__write_from(), user/core/core.h) from a
 * foreign source: the freeze's capture record of every vCPU, and guest
 * RAM of the VMM's memslots (address space 0; one PT_LOAD each, p_paddr
 * = gpa, holes between slots absent) read out of its address space with
 * process_vm_readv(2). The layout is the Linux kind's (its VMCOREINFO
 * note, the direct map as p_vaddr) when the guest looks like Linux, else
 * identity (p_vaddr = p_paddr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/attach/attach.h"
#include "user/attach/foreign_vm.h"
#include "user/core/core.h"
#include "user/linux/linux.h"

struct fcore {
	struct fvm *vm;
	bool froze;		/* this dump froze the VM, and thaws it */
	uint64_t t0, thawed_ns;
	int nr_ranges;
	const struct vm_core_range *ranges;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Frozen already: by foreign__dump(), or by the gdb client's stop. */
static int fcore__hold(void *ctx)
{
	return fvm__frozen(((struct fcore *)ctx)->vm) ? 0 : -ESRCH;
}

/* Before the fsync and rename: the guest runs on while the file lands. */
static void fcore__release(void *ctx)
{
	struct fcore *f = ctx;

	if (!f->froze || !fvm__frozen(f->vm))
		return;
	fvm__thaw(f->vm);
	f->thawed_ns = mono_ns();
}

static int fcore__held(void *ctx, int (*fn)(void *arg), void *arg)
{
	(void)ctx;
	return fn(arg);
}

/* What the freeze captured (or the last register write's new capture). */
static int fcore__capture(void *ctx, struct kvmdbg_vcpu_state *st)
{
	struct fvm *v = ((struct fcore *)ctx)->vm;

	for (int i = 0; i < fvm__nr_vcpus(v); i++) {
		const struct kvmdbg_vcpu_state *c = fvm__state(v, i);

		if (!c)
			return -ESRCH;
		st[i] = *c;
	}
	return 0;
}

static const uint8_t *fcore__ram(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf,
				 int *err)
{
	ssize_t n = fvm__read_phys(((struct fcore *)ctx)->vm, gpa, buf, len);

	*err = n == (ssize_t)len ? 0 : -EFAULT;
	return *err ? NULL : buf;
}

static int fcore__read(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
	return fvm__read_phys(ctx, gpa, buf, len) == (ssize_t)len ? 0 : -EFAULT;
}

/*
 * A Linux guest (a VMCOREINFO note, or a direct map) gets the Linux
 * kind's layout; any other guest identity, as the launcher's ELF guests.
 */
static void fcore__layout(void *ctx, const struct kvmdbg_vcpu_state *st,
			  struct vm_core_layout *l)
{
	struct fcore *f = ctx;
	struct vm_core_mem mem = { .ctx = f->vm, .read = fcore__read,
				   .nr_ranges = f->nr_ranges, .ranges = f->ranges };

	linux_machine.core_layout(&mem, &st[0].sregs, l);
	if (l->note_len || l->vaddr_valid)
		return;
	l->vaddr_valid = true;
	l->vaddr_base = 0;
	snprintf(l->what, sizeof(l->what), "not found (no Linux note in guest RAM: not a Linux guest, or one not booted that far); p_vaddr = p_paddr");
}

static const struct core_source_ops fcore_ops = {
	.hold = fcore__hold,
	.release = fcore__release,
	.held = fcore__held,
	.capture = fcore__capture,
	.layout = fcore__layout,
	.ram = fcore__ram,
};

static int by_gpa(const void *a, const void *b)
{
	const struct vm_core_range *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* The memslots of address space 0 that hold bytes, in gpa order. */
static int fcore__ranges(struct fvm *v, struct vm_core_range **out)
{
	struct vm_core_range *rg = calloc(fvm__nr_slots(v) + 1, sizeof(*rg));
	int n = 0;

	if (!rg)
		return -ENOMEM;
	for (int i = 0; i < fvm__nr_slots(v); i++) {
		const struct fvm_slot *s = fvm__slot(v, i);

		if (!(s->id >> 16) && s->size)	/* not SMM's address space, not empty */
			rg[n++] = (struct vm_core_range){ .gpa = s->gpa, .size = s->size };
	}
	qsort(rg, n, sizeof(*rg), by_gpa);
	*out = rg;
	return n;
}

int foreign__dump(struct fvm *v, const char *path, const char *symbols,
		  struct foreign_dump_result *res, char *err, size_t err_len)
{
	const struct foreign_proc *fp = fvm__proc(v);
	struct fcore f = { .vm = v };
	struct core_opts o = { .image = fp->comm, .symbols = symbols, .crash_vcpu = -1 };
	struct core_source src = { .ops = &fcore_ops, .ctx = &f, .nr_vcpus = fvm__nr_vcpus(v) };
	struct vm_core_range *rg;
	int r;

	memset(res, 0, sizeof(*res));
	if (core__check_target(path, err, err_len))
		return -EINVAL;
	r = fcore__ranges(v, &rg);
	if (r <= 0) {
		errf__set(err, err_len, r ? "out of memory" : "the VM has no memslots");
		free(r ? NULL : rg);
		return r ? r : -ENODATA;
	}
	src.nr_ranges = f.nr_ranges = r;
	src.ranges = f.ranges = rg;
	f.t0 = mono_ns();
	f.froze = !fvm__frozen(v);
	r = f.froze ? fvm__freeze(v, err, err_len) : 0;
	if (!r)
		r = core__write_from(&src, path, &o, &res->core, err, err_len);
	fcore__release(&f);
	res->nr_slots = src.nr_ranges;
	res->pause_ns = f.froze ? f.thawed_ns - f.t0 : 0;
	free(rg);
	return r;
}
