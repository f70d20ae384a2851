// SPDX-License-Identifier: GPL-2.0
/*
 * Breakpoints and watchpoints (the Z/z packets).
 *
 * Z0: int3 patched into guest memory, any number; the table keeps the
 *     original byte for reads, removal and detach. Not into the VMM's
 *     own structures (vm__gpa_reserved) unless "monitor phys on".
 * Z1, Z4: DR0-DR3 slots (4 in all, shared; fewer while --snapshot-at holds
 *     one, user/vmm/guest_debug.h), programmed into every vCPU at resume
 *     (debug_regs__guest_debug); none free: E28. DR7 data breakpoints do not fire
 *     on the CPL0-emulating KVM of our test hosts: Z4 is unproven there.
 * Z2: page protection instead of DR7. Each watched page is made read-only
 *     for the guest (vm__protect_page: a KVM_MEM_READONLY memslot), so
 *     every store to it exits as KVM_EXIT_MMIO with RIP past the store.
 *     debug_exit.c applies the store and stops only when it touches a
 *     watched range. No count limit, no debug registers, and it works on
 *     hosts where DR7 watchpoints do not.
 * Z3: x86 has no read-only data breakpoint. We answer "not supported",
 *     and gdb then falls back to an access watchpoint (Z4) and reports
 *     only the hits where the value did not change.
 *
 * All of these run on the gdb thread with the world stopped; the tables
 * change under d->lock because on_exit reads them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "user/debug/debug_priv.h"
#include "user/vmm/guest_debug.h"

/* Breakpoint addresses are translated through vCPU 0's page tables. */
#define BP_VCPU		0

static int sw_insert(struct debug *d, uint64_t addr)
{
	struct x86_paging p;
	uint64_t gpa;
	uint8_t *hva;
	int r;

	if (swbp__find(&d->sw, addr))
		return 0;	/* already there: gdb may re-send */
	r = debug_regs__paging(d, BP_VCPU, &p);
	if (!r)
		r = debug_mem__translate(d, &p, addr, &gpa);
	/* An int3 in the VMM's page tables or GDT breaks every vCPU. */
	if (!r && !gdb_stub_phys(d->stub))
		r = debug_mem__guard(d, "Z0", addr, gpa, 1);
	if (r)
		return r;
	hva = vm__gpa_to_hva(d->vm, gpa, 1);
	if (!hva)
		return -EFAULT;
	pthread_mutex_lock(&d->lock);
	r = swbp__add(&d->sw, addr, gpa, *hva);
	if (!r)
		*hva = X86_INT3;
	pthread_mutex_unlock(&d->lock);
	return r == -EEXIST ? -EINVAL : r;	/* another alias of that byte */
}

static int sw_remove(struct debug *d, uint64_t addr)
{
	struct swbp b;
	uint8_t *hva;
	int r;

	pthread_mutex_lock(&d->lock);
	r = swbp__del(&d->sw, addr, &b);
	if (!r) {
		hva = vm__gpa_to_hva(d->vm, b.gpa, 1);
		if (hva)
			*hva = b.orig;
		/* For a hit in flight (debug_exit.c); -EEXIST: kept already.
		 * Out of memory, such a hit ends the guest as it did before.
		 */
		swbp__add(&d->gone, b.addr, b.gpa, b.orig);
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

static int hw_insert(struct debug *d, enum x86_hw_type type, uint64_t addr,
		     uint64_t len)
{
	struct x86_hw_slots tmp;
	unsigned int reserved;
	int r;

	if (len > 8)
		return -EINVAL;
	reserved = guest_debug__reserved(d->vm);
	pthread_mutex_lock(&d->lock);
	/* Into a copy where the reserved slots look taken, so ours avoid them. */
	tmp = d->hw;
	for (int i = 0; i < X86_HW_SLOTS; i++)
		if (reserved & (1u << i))
			tmp.slot[i].used = true;
	r = x86_hw__insert(&tmp, type, addr, (unsigned int)len);
	if (r >= 0)
		d->hw.slot[r] = tmp.slot[r];
	pthread_mutex_unlock(&d->lock);
	if (r == -ENOSPC && reserved)
		debug__log(d, "no free debug register for a hardware breakpoint or watchpoint at %#llx: "
			   "--snapshot-at holds %d of the %d until it fires",
			   (unsigned long long)addr, __builtin_popcount(reserved), X86_HW_SLOTS);
	return r < 0 ? r : 0;
}

static int hw_remove(struct debug *d, enum x86_hw_type type, uint64_t addr,
		     uint64_t len)
{
	int r;

	if (len > 8)
		return -ENOENT;
	pthread_mutex_lock(&d->lock);
	r = x86_hw__remove(&d->hw, type, addr, (unsigned int)len);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* ---- write watchpoints by page protection ---- */

static struct debug_ro_page *ro_find(struct debug *d, uint64_t gpa)
{
	for (size_t i = 0; i < d->nr_ro; i++)
		if (d->ro[i].gpa == gpa)
			return &d->ro[i];
	return NULL;
}

bool debug_bp__page_protected(struct debug *d, uint64_t gpa)
{
	return ro_find(d, gpa & ~(DEBUG_PAGE - 1)) != NULL;
}

/* Take a reference on the read-only page @gpa, protecting it on the first. */
static int ro_get(struct debug *d, uint64_t gpa)
{
	struct debug_ro_page *p = ro_find(d, gpa), *v;
	int r;

	if (p) {
		p->refs++;
		return 0;
	}
	r = vm__protect_page(d->vm, gpa, true);
	if (r)
		return r;
	pthread_mutex_lock(&d->lock);
	v = realloc(d->ro, (d->nr_ro + 1) * sizeof(*v));
	if (v) {
		d->ro = v;
		d->ro[d->nr_ro++] = (struct debug_ro_page){ .gpa = gpa, .refs = 1 };
	}
	pthread_mutex_unlock(&d->lock);
	if (!v) {
		vm__protect_page(d->vm, gpa, false);
		return -ENOMEM;
	}
	return 0;
}

static void ro_put(struct debug *d, uint64_t gpa)
{
	struct debug_ro_page *p = ro_find(d, gpa);

	if (!p || --p->refs > 0)
		return;
	pthread_mutex_lock(&d->lock);
	*p = d->ro[--d->nr_ro];
	pthread_mutex_unlock(&d->lock);
	vm__protect_page(d->vm, gpa, false);
}

static int watch_pages(struct debug *d, struct debug_watch *w)
{
	uint64_t first = w->addr & ~(DEBUG_PAGE - 1);
	struct x86_paging p;
	int r = debug_regs__paging(d, BP_VCPU, &p);

	w->nr_pages = ((w->addr + w->len - 1 - first) / DEBUG_PAGE) + 1;
	w->gpa = calloc(w->nr_pages, sizeof(*w->gpa));
	if (!w->gpa)
		return -ENOMEM;
	for (size_t i = 0; !r && i < w->nr_pages; i++)
		r = debug_mem__translate(d, &p, first + i * DEBUG_PAGE,
					 &w->gpa[i]);
	for (size_t i = 0; !r && i < w->nr_pages; i++)
		if (!vm__gpa_to_hva(d->vm, w->gpa[i], DEBUG_PAGE))
			r = -EFAULT;
	return r;
}

static int watch_protect(struct debug *d, struct debug_watch *w)
{
	size_t i;
	int r = 0;

	for (i = 0; i < w->nr_pages && !r; i++)
		r = ro_get(d, w->gpa[i]);
	if (!r)
		return 0;
	while (--i > 0)
		ro_put(d, w->gpa[i - 1]);
	return r;
}

static int watch_add(struct debug *d, const struct debug_watch *w)
{
	struct debug_watch *v;

	pthread_mutex_lock(&d->lock);
	v = realloc(d->watches, (d->nr_watches + 1) * sizeof(*v));
	if (v) {
		d->watches = v;
		d->watches[d->nr_watches++] = *w;
	}
	pthread_mutex_unlock(&d->lock);
	return v ? 0 : -ENOMEM;
}

static void watch_release(struct debug *d, struct debug_watch *w)
{
	if (w->hw)
		hw_remove(d, X86_HW_WRITE, w->addr, w->len);
	else
		for (size_t i = 0; i < w->nr_pages; i++)
			ro_put(d, w->gpa[i]);
	free(w->gpa);
}

static int watch_insert(struct debug *d, uint64_t addr, uint64_t len)
{
	struct debug_watch w = { .addr = addr, .len = len };
	int r;

	if (!len || len > DEBUG_WATCH_MAX || addr + len < addr)
		return -EINVAL;
	r = watch_pages(d, &w);
	if (!r)
		r = watch_protect(d, &w);
	if (r == -EOPNOTSUPP) {
		/* No KVM_CAP_READONLY_MEM: a DR7 write slot, where it fits. */
		w.hw = true;
		r = hw_insert(d, X86_HW_WRITE, addr, len);
	}
	if (r) {
		free(w.gpa);
		return r;
	}
	r = watch_add(d, &w);
	if (r)
		watch_release(d, &w);
	return r;
}

static int watch_remove(struct debug *d, uint64_t addr, uint64_t len)
{
	struct debug_watch w;

	for (size_t i = 0; i < d->nr_watches; i++) {
		if (d->watches[i].addr != addr || d->watches[i].len != len)
			continue;
		pthread_mutex_lock(&d->lock);
		w = d->watches[i];
		d->watches[i] = d->watches[--d->nr_watches];
		pthread_mutex_unlock(&d->lock);
		watch_release(d, &w);
		return 0;
	}
	return -ENOENT;
}

/* Does a store to [gpa, gpa+len) touch watched page k of @w? */
static bool watch_page_hit(const struct debug_watch *w, size_t k,
			   uint64_t gpa, uint64_t len, uint64_t *addr)
{
	uint64_t vpage = (w->addr & ~(DEBUG_PAGE - 1)) + k * DEBUG_PAGE;
	uint64_t lo = w->addr > vpage ? w->addr : vpage;
	uint64_t hi = w->addr + w->len < vpage + DEBUG_PAGE ?
		      w->addr + w->len : vpage + DEBUG_PAGE;
	uint64_t glo = w->gpa[k] + (lo - vpage), ghi = w->gpa[k] + (hi - vpage);

	if (gpa >= ghi || gpa + len <= glo)
		return false;
	*addr = vpage + ((gpa > glo ? gpa : glo) - w->gpa[k]);
	return true;
}

bool debug_bp__watch_hit(struct debug *d, uint64_t gpa, uint64_t len,
			 uint64_t *addr)
{
	for (size_t i = 0; i < d->nr_watches; i++) {
		const struct debug_watch *w = &d->watches[i];

		for (size_t k = 0; !w->hw && k < w->nr_pages; k++)
			if (watch_page_hit(w, k, gpa, len, addr))
				return true;
	}
	return false;
}

/* Z/z: each kind to its own table. x86 has no read-only watchpoint (Z3). */
static int bp_change(struct debug *d, enum gdb_bp_type type, uint64_t addr,
		     uint64_t kind, bool add)
{
	switch (type) {
	case GDB_BP_SW:
		return add ? sw_insert(d, addr) : sw_remove(d, addr);
	case GDB_BP_HW:
		return add ? hw_insert(d, X86_HW_EXEC, addr, 1) :
			     hw_remove(d, X86_HW_EXEC, addr, 1);
	case GDB_WP_WRITE:
		return add ? watch_insert(d, addr, kind) : watch_remove(d, addr, kind);
	case GDB_WP_ACCESS:
		return add ? hw_insert(d, X86_HW_ACCESS, addr, kind) :
			     hw_remove(d, X86_HW_ACCESS, addr, kind);
	default:
		return -EOPNOTSUPP;
	}
}

int debug_bp__insert(void *ctx, enum gdb_bp_type type, uint64_t addr,
		     uint64_t kind)
{
	return bp_change(ctx, type, addr, kind, true);
}

int debug_bp__remove(void *ctx, enum gdb_bp_type type, uint64_t addr,
		     uint64_t kind)
{
	return bp_change(ctx, type, addr, kind, false);
}

/*
 * on_capture hook, on the snapshot writer's thread (SIGUSR1, port 0xF5,
 * monitor snapshot) with every vCPU held: the guest's own bytes go back
 * under every int3 for the capture, and whatever was there before (our
 * int3, or the original byte while step_off() has it out) comes back
 * after. d->lock is held throughout, so the gdb thread cannot insert,
 * remove or write over a breakpoint meanwhile; nothing here waits for it.
 */
int debug_bp__capture(void *ctx, struct vm *vm, int (*capture)(void *arg),
		      void *arg)
{
	struct debug *d = ctx;
	uint8_t *saved;
	int r;

	pthread_mutex_lock(&d->lock);
	saved = malloc(d->sw.n ? d->sw.n : 1);
	if (!saved) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;	/* no snapshot with our int3s in it */
	}
	for (size_t i = 0; i < d->sw.n; i++) {
		uint8_t *hva = vm__gpa_to_hva(vm, d->sw.v[i].gpa, 1);

		saved[i] = hva ? *hva : 0;
		if (hva)
			*hva = d->sw.v[i].orig;
	}
	r = capture(arg);
	for (size_t i = 0; i < d->sw.n; i++) {
		uint8_t *hva = vm__gpa_to_hva(vm, d->sw.v[i].gpa, 1);

		if (hva)
			*hva = saved[i];
	}
	pthread_mutex_unlock(&d->lock);
	free(saved);
	return r;
}

/* Detach: the guest runs on exactly as if we had never been there. */
void debug_bp__remove_all(struct debug *d)
{
	while (d->sw.n)
		sw_remove(d, d->sw.v[0].addr);
	swbp__free(&d->sw);
	pthread_mutex_lock(&d->lock);
	memset(&d->hw, 0, sizeof(d->hw));
	pthread_mutex_unlock(&d->lock);
	while (d->nr_watches)
		watch_remove(d, d->watches[0].addr, d->watches[0].len);
	free(d->watches);
	d->watches = NULL;
	free(d->ro);
	d->ro = NULL;
	d->nr_ro = 0;
}
