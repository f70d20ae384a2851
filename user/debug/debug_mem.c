// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory as the client sees it: by guest-virtual address through a
 * vCPU's own page tables (walked in software, so any vCPU in any paging
 * mode works), or guest-physical in phys mode. Transfers go page by page
 * and stop short at the first unmapped page. Reads show the original
 * bytes under our int3s; writes there update the saved byte instead, so
 * the breakpoint stays armed and its removal restores what gdb wrote.
 * Writes by guest-virtual address into the VMM's own structures (its page
 * tables, GDT, ...: vm__gpa_reserved) are refused whole: one stray byte
 * there breaks every vCPU at once. Phys mode is the way to write them.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "user/debug/debug_priv.h"

static int read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	struct debug *d = ctx;
	void *hva = vm__gpa_to_hva(d->vm, gpa, size);

	if (!hva)
		return -EFAULT;
	memcpy(buf, hva, size);
	return 0;
}

int debug_mem__walk(struct debug *d, const struct x86_paging *p,
		    uint64_t addr, struct x86_walk *w)
{
	return x86_pagewalk(p, addr, read_phys, d, w);
}

int debug_mem__translate(struct debug *d, const struct x86_paging *p,
			 uint64_t addr, uint64_t *gpa)
{
	struct x86_walk w;
	int r = debug_mem__walk(d, p, addr, &w);

	if (r)
		return r;
	*gpa = w.gpa;
	return 0;
}

int debug_mem__guard(struct debug *d, const char *op, uint64_t addr,
		     uint64_t gpa, uint64_t len)
{
	const char *what;

	if (!vm__gpa_reserved(d->vm, gpa, len, &what))
		return 0;
	debug__log(d, "%s at %#" PRIx64 ": guest-physical %#" PRIx64
		   " is the VMM's %s; use 'monitor phys on' to write VMM structures anyway",
		   op, addr, gpa, what);
	return -EACCES;
}

int debug_mem__store_phys(struct debug *d, uint64_t gpa, const void *buf,
			  size_t len)
{
	uint8_t *hva = vm__gpa_to_hva(d->vm, gpa, len);
	const uint8_t *src = buf;

	if (!hva)
		return -EFAULT;
	memcpy(hva, src, len);
	for (size_t i = 0; i < d->sw.n; i++) {
		struct swbp *b = &d->sw.v[i];

		if (b->gpa - gpa < len) {
			b->orig = src[b->gpa - gpa];
			hva[b->gpa - gpa] = X86_INT3;
		}
	}
	return 0;
}

struct xfer {
	bool write;
	uint8_t *buf;		/* read destination */
	const uint8_t *src;	/* write source */
};

static int xfer_page(struct debug *d, uint64_t gpa, size_t n, struct xfer *x,
		     size_t done)
{
	uint8_t *hva = vm__gpa_to_hva(d->vm, gpa, n);
	int r = 0;

	if (!hva)
		return -EFAULT;
	if (x->write) {
		pthread_mutex_lock(&d->lock);
		r = debug_mem__store_phys(d, gpa, x->src + done, n);
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	memcpy(x->buf + done, hva, n);
	swbp__overlay(&d->sw, gpa, x->buf + done, n);
	return 0;
}

/* Page by page as xfer() goes; up to the first unmapped page, where it stops. */
static int guard_write(struct debug *d, const struct x86_paging *p,
		       uint64_t addr, size_t len)
{
	size_t done = 0;
	int r = 0;

	while (!r && done < len) {
		uint64_t va = addr + done, gpa;
		size_t n = DEBUG_PAGE - (va & (DEBUG_PAGE - 1));

		if (n > len - done)
			n = len - done;
		if (debug_mem__translate(d, p, va, &gpa))
			break;
		r = debug_mem__guard(d, "memory write", va, gpa, n);
		done += n;
	}
	return r;
}

static int xfer(struct debug *d, int vcpu, bool phys, uint64_t addr,
		size_t len, struct xfer *x)
{
	struct x86_paging p = { 0 };	/* unpaged: identity */
	size_t done = 0;
	int r;

	if (!phys) {
		r = debug_regs__paging(d, vcpu, &p);
		if (!r && x->write)
			r = guard_write(d, &p, addr, len);
		if (r)
			return r;
	}
	while (done < len) {
		uint64_t va = addr + done, gpa;
		size_t n = DEBUG_PAGE - (va & (DEBUG_PAGE - 1));

		if (n > len - done)
			n = len - done;
		if (debug_mem__translate(d, &p, va, &gpa) ||
		    xfer_page(d, gpa, n, x, done))
			break;
		done += n;
	}
	return done ? (int)done : -EFAULT;
}

int debug_mem__read(struct debug *d, int vcpu, bool phys, uint64_t addr,
		    void *buf, size_t len)
{
	struct xfer x = { .write = false, .buf = buf };

	return len ? xfer(d, vcpu, phys, addr, len, &x) : 0;
}

int debug_mem__write(struct debug *d, int vcpu, bool phys, uint64_t addr,
		     const void *buf, size_t len)
{
	struct xfer x = { .write = true, .src = buf };

	return len ? xfer(d, vcpu, phys, addr, len, &x) : 0;
}
