// SPDX-License-Identifier: GPL-2.0
/*
 * The launcher's own VM as a core source (core__write()): held with
 * vm__hold() unless no vCPU thread runs (o->stopped), captured with
 * vm__capture() (MXCSR from XSAVE), its RAM one range [0, mem_size) mapped in this process,
 * the layout from its kind's core_layout hook.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/core/core.h"
#include "user/vmm/ram_scan.h"
#include "user/vmm/vcpu_state.h"
#include "user/vmm/vm.h"

struct vsrc {
	struct vm *vm;
	bool stopped;
	struct vm_core_range ram;
	struct vm_ram_scan scan;
};

static int vsrc__hold(void *ctx)
{
	struct vsrc *v = ctx;

	return v->stopped ? 0 : vm__hold(v->vm);
}

static void vsrc__release(void *ctx)
{
	struct vsrc *v = ctx;

	if (!v->stopped)
		vm__release(v->vm);
}

/* The debugger's int3s are out meanwhile (vm__capture_held). */
static int vsrc__held(void *ctx, int (*fn)(void *arg), void *arg)
{
	return vm__capture_held(((struct vsrc *)ctx)->vm, fn, arg);
}

/*
 * KVM_GET_FPU (and so the capture record) leaves MXCSR out: take it from
 * each vCPU's XSAVE area, whose legacy part is the FXSAVE image (MXCSR
 * at byte 24), where KVM has XSAVE.
 */
#define FXSAVE_MXCSR	24

static int vsrc__mxcsr(struct vm *vm, struct kvmdbg_vcpu_state *st)
{
	bool xsave2;
	uint32_t size = vm__xsave_size(vm, &xsave2);
	uint8_t *x = size ? calloc(1, size) : NULL;
	int r = 0;

	if (!size)
		return 0;
	if (!x)
		return -ENOMEM;
	for (int i = 0; i < vm__nr_vcpus(vm) && !r; i++) {
		r = vcpu__get_fpu(vm__vcpu_fd(vm, i), xsave2, x, NULL);
		if (!r)
			memcpy(&st[i].fpu.mxcsr, x + FXSAVE_MXCSR, sizeof(st[i].fpu.mxcsr));
	}
	free(x);
	return r;
}

static int vsrc__capture(void *ctx, struct kvmdbg_vcpu_state *st)
{
	struct vm *vm = ((struct vsrc *)ctx)->vm;
	int r = vm__capture(vm, VM_ALL_VCPUS, st);

	return r < 0 ? r : vsrc__mxcsr(vm, st);
}

static const uint8_t *vsrc__ram(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf,
				int *err)
{
	const uint8_t *p = vm__gpa_to_hva(((struct vsrc *)ctx)->vm, gpa, len);

	(void)buf;
	*err = p ? 0 : -EFAULT;
	return p;
}

static int vsrc__read(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
	const void *p = vm__gpa_to_hva(ctx, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static void vsrc__layout(void *ctx, const struct kvmdbg_vcpu_state *st,
			 struct vm_core_layout *l)
{
	struct vsrc *v = ctx;
	const struct vm_machine *m = vm__machine(v->vm);
	struct vm_core_mem mem = { .ctx = v->vm, .read = vsrc__read, .nr_ranges = 1,
				   .ranges = &v->ram };

	if (m->core_layout)
		m->core_layout(&mem, &st[0].sregs, l);
	else
		snprintf(l->what, sizeof(l->what), "none (the %s kind has no core layout)",
			 m->name);
}

static void vsrc__touched(void *ctx, uint64_t gpa, uint64_t n, bool *maybe)
{
	vm__ram_touched(&((struct vsrc *)ctx)->scan, gpa, n, maybe);
}

static const struct core_source_ops vsrc_ops = {
	.hold = vsrc__hold,
	.release = vsrc__release,
	.held = vsrc__held,
	.capture = vsrc__capture,
	.layout = vsrc__layout,
	.ram = vsrc__ram,
	.touched = vsrc__touched,
};

int core__write(struct vm *vm, const char *path, const struct core_opts *o,
		struct core_result *res, char *err, size_t err_len)
{
	struct vsrc v = { .vm = vm, .stopped = o->stopped,
			  .ram = { .gpa = 0, .size = vm__mem_size(vm) } };
	struct core_source src = { .ops = &vsrc_ops, .ctx = &v, .nr_vcpus = vm__nr_vcpus(vm),
				   .nr_ranges = 1, .ranges = &v.ram };
	int r;

	vm__ram_scan_open(vm, &v.scan);
	r = core__write_from(&src, path, o, res, err, err_len);
	vm__ram_scan_close(&v.scan);
	return r;
}
