// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture: turn a snapshot of the launcher's own VM into one "of a
 * VM another VMM runs" (SNAP_HDR_FOREIGN) through the real writer
 * (snapshot__write_from() with a source, as user/attach/ drives it), so
 * that resuming a foreign snapshot under gdb is tested on a host without
 * kvmdbg.ko. The source gives what kvmdbg.ko's capture record would:
 * regs, sregs, FPU, debug registers, events and the record's 5 MSRs (the
 * own file's XSAVE, XCRS, MP state are dropped; the events carry
 * KVM_VCPUEVENT_VALID_PAYLOAD, as a QEMU's do), and RAM in two slots
 * with a hole at [0xa0000, 0x100000) as QEMU lays low RAM out.
 *
 * Usage: foreign_fixture OWN.snap FOREIGN.snap   (status 0, or 1 and one line)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uapi/linux/kvmdbg.h>

#include "user/snapshot/snapshot.h"

static const uint32_t record_msrs[KVMDBG_NR_MSRS] = {
	0xc0000080, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000082,
};

static int nop_hold(void *ctx) { (void)ctx; return 0; }
static void nop_release(void *ctx) { (void)ctx; }
static int call_held(void *ctx, int (*fn)(void *), void *arg) { (void)ctx; return fn(arg); }

static void pick_msrs(const struct vcpu_state *from, struct vcpu_state *to)
{
	for (uint32_t k = 0; k < KVMDBG_NR_MSRS; k++) {
		to->msrs[k].index = record_msrs[k];
		for (uint32_t j = 0; j < from->nr_msrs; j++)
			if (from->msrs[j].index == record_msrs[k])
				to->msrs[k].data = from->msrs[j].data;
	}
	to->nr_msrs = KVMDBG_NR_MSRS;
}

static int capture(void *ctx, struct vm_state *st)
{
	const struct snapshot *s = ctx;
	int n = (int)snapshot__config(s)->nr_vcpus;

	memset(st, 0, sizeof(*st));
	st->vcpu = calloc(n, sizeof(*st->vcpu));
	if (!st->vcpu)
		return -ENOMEM;
	st->nr_vcpus = n;
	st->capture_path = 1;
	for (int i = 0; i < n; i++) {
		const struct vcpu_state *v = snapshot__vcpu(s, i);

		st->vcpu[i].regs = v->regs;
		st->vcpu[i].sregs = v->sregs;
		st->vcpu[i].fpu = v->fpu;
		st->vcpu[i].dregs = v->dregs;
		st->vcpu[i].events = v->events;
		/* As QEMU's events come: it enables exception payloads. */
		st->vcpu[i].events.flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
		pick_msrs(v, &st->vcpu[i]);
	}
	return 0;
}

static const uint8_t *ram(void *ctx, uint64_t gpa, uint64_t len, uint8_t *buf, int *err)
{
	*err = snapshot__read_ram(ctx, gpa, buf, len);
	return *err ? NULL : buf;
}

static const struct snapshot_source_ops ops = {
	.hold = nop_hold, .release = nop_release, .held = call_held,
	.capture = capture, .ram = ram,
};

int main(int argc, char **argv)
{
	struct snapshot_meta m = { .trigger = SNAP_TRIG_ATTACH };
	struct snapshot *s;
	char err[1024];
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OWN.snap FOREIGN.snap\n", argv[0]);
		return 2;
	}
	if (snapshot__open(argv[1], &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	{
		uint64_t mem = snapshot__config(s)->mem_size;
		struct snap_slot slots[2] = {
			{ .gpa = 0, .size = 0xa0000, .id = 0 },
			{ .gpa = 0x100000, .size = mem - 0x100000, .id = 1 },
		};
		struct snapshot_source src = {
			.ops = &ops, .ctx = s, .foreign = true, .mem_size = mem,
			.nr_slots = 2, .slots = slots,
		};

		r = snapshot__write_from(&src, argv[2], &m, NULL, err, sizeof(err));
	}
	if (r)
		fprintf(stderr, "%s\n", err);
	snapshot__close(s);
	return r ? 1 : 0;
}
