// SPDX-License-Identifier: GPL-2.0
/*
 * KVMDBG_SNAPSHOT of vCPU state: equal to KVM_GET_* field by field for 1,
 * 2 and 4 vCPUs, argument checks, vCPU masks, and atomicity while the
 * vCPUs run: each vCPU bumps RAX and stores it to its counter in a loop,
 * and every snapshot must show RAX and the counter (read at the end of the
 * same call) in step, with RIP telling which of the two came last.
 */
#include "kselftest_harness.h"
#include "kvmdbg_util.h"

static const uint32_t msr_index[KVMDBG_NR_MSRS] = {
	0xc0000080, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000082,
};

FIXTURE(snap) {
	int dev;
	int s;
	struct vm vm;
	struct kvmdbg_vcpu_state st[MAX_VCPUS];
};

FIXTURE_VARIANT(snap) {
	int nr_vcpus;
};

FIXTURE_VARIANT_ADD(snap, vcpus1) { .nr_vcpus = 1 };
FIXTURE_VARIANT_ADD(snap, vcpus2) { .nr_vcpus = 2 };
FIXTURE_VARIANT_ADD(snap, vcpus4) { .nr_vcpus = 4 };

FIXTURE_SETUP(snap)
{
	self->s = -1;
	REQUIRE_KVMDBG(self->dev);
	ASSERT_EQ(0, install_kick_handler());
	ASSERT_EQ(0, vm_create(&self->vm, variant->nr_vcpus));
	self->s = session_open(self->dev, &self->vm);
	ASSERT_LE(0, self->s) TH_LOG("attach: %s", strerror(errno));
}

FIXTURE_TEARDOWN(snap)
{
	int i;

	vm_stop(&self->vm);
	for (i = 0; i < self->vm.nr_vcpus; i++) {
		EXPECT_EQ(0, self->vm.vcpus[i].error);
		EXPECT_EQ(0, self->vm.vcpus[i].bad_exit);
	}
	if (self->s >= 0)
		close(self->s);
	vm_destroy(&self->vm);
	if (self->dev >= 0)
		close(self->dev);
}

#define EXPECT_SAME(field, a, b)					\
	EXPECT_EQ(0, memcmp(&(a), &(b), sizeof(a)))			\
		TH_LOG("vCPU %d: %s differs from KVM_GET_*", i, field)

/* Frozen, the module's record must equal KVM_GET_* from userspace. */
static void compare_with_kvm(struct __test_metadata *_metadata,
			     struct vm *vm, struct kvmdbg_vcpu_state *st)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[KVMDBG_NR_MSRS];
	} msrs = { .hdr.nmsrs = KVMDBG_NR_MSRS };
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	int i, k;

	for (i = 0; i < vm->nr_vcpus; i++) {
		int fd = vm->vcpus[i].fd;

		for (k = 0; k < KVMDBG_NR_MSRS; k++)
			msrs.e[k].index = msr_index[k];
		ASSERT_EQ(0, ioctl(fd, KVM_GET_REGS, &regs));
		ASSERT_EQ(0, ioctl(fd, KVM_GET_SREGS, &sregs));
		ASSERT_EQ(0, ioctl(fd, KVM_GET_DEBUGREGS, &dregs));
		ASSERT_EQ(0, ioctl(fd, KVM_GET_FPU, &fpu));
		ASSERT_EQ(0, ioctl(fd, KVM_GET_VCPU_EVENTS, &events));
		ASSERT_EQ(KVMDBG_NR_MSRS, ioctl(fd, KVM_GET_MSRS, &msrs));
		EXPECT_EQ(i, st[i].vcpu_id);
		EXPECT_EQ(0, st[i].flags);
		EXPECT_EQ(0, st[i].reserved[0] | st[i].reserved[1] | st[i].reserved[2]);
		EXPECT_EQ(regs.rip, st[i].regs.rip);
		EXPECT_EQ(regs.rax, st[i].regs.rax);
		EXPECT_EQ(regs.rflags, st[i].regs.rflags);
		EXPECT_SAME("regs", regs, st[i].regs);
		EXPECT_EQ(sregs.cr3, st[i].sregs.cr3);
		EXPECT_EQ(sregs.cs.selector, st[i].sregs.cs.selector);
		EXPECT_SAME("sregs", sregs, st[i].sregs);
		EXPECT_SAME("debugregs", dregs, st[i].debugregs);
		EXPECT_SAME("fpu", fpu, st[i].fpu);
		EXPECT_SAME("vcpu_events", events, st[i].events);
		EXPECT_EQ(KVMDBG_NR_MSRS, st[i].msrs.nmsrs);
		for (k = 0; k < KVMDBG_NR_MSRS; k++) {
			EXPECT_EQ(msr_index[k], st[i].msrs.entries[k].index);
			EXPECT_EQ(msrs.e[k].data, st[i].msrs.entries[k].data)
				TH_LOG("vCPU %d MSR %#x", i, msr_index[k]);
		}
		/* The guest set these: make sure they are not just zero. */
		EXPECT_EQ(0x500, st[i].msrs.entries[0].data);
		EXPECT_EQ(PML4_GPA, st[i].sregs.cr3);
	}
}

TEST_F(snap, equals_kvm_get_idle)
{
	struct kvmdbg_snapshot snap;

	ASSERT_EQ(0, snapshot(self->s, &snap, self->st, MAX_VCPUS, NULL, 0));
	EXPECT_EQ(variant->nr_vcpus, snap.nr_vcpus);
	EXPECT_EQ(KVMDBG_NO_RANGE, snap.failed_range);
	compare_with_kvm(_metadata, &self->vm, self->st);
}

TEST_F(snap, equals_kvm_get_running)
{
	struct kvmdbg_snapshot snap;
	int i;

	ASSERT_EQ(0, vm_start(&self->vm));
	/*
	 * Until every vCPU has run its loop once (rax past 1000 * i): under
	 * nested TCG on a loaded host that can take seconds.
	 */
	for (int tries = 0; tries < 600; tries++) {
		bool all = true;

		usleep(30000);
		ASSERT_EQ(0, snapshot(self->s, &snap, self->st, MAX_VCPUS, NULL, 0));
		for (i = 0; i < variant->nr_vcpus; i++)
			all &= self->st[i].regs.rax > 1000ULL * i;
		if (all)
			break;
	}
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_FREEZE, 0));
	ASSERT_EQ(0, snapshot(self->s, &snap, self->st, MAX_VCPUS, NULL, 0));
	EXPECT_EQ(variant->nr_vcpus, snap.nr_vcpus);
	compare_with_kvm(_metadata, &self->vm, self->st);
	for (i = 0; i < variant->nr_vcpus; i++)
		EXPECT_LT(1000ULL * i, self->st[i].regs.rax) TH_LOG("vCPU %d never ran", i);
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_THAW, 0));
}

TEST_F(snap, args)
{
	struct kvmdbg_snapshot snap = { 0 };

	snap.nr_vcpus = MAX_VCPUS;
	snap.vcpu_stride = sizeof(self->st[0]);
	snap.vcpus = (uintptr_t)self->st;
	snap.flags = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(EINVAL, errno);
	snap.flags = 0;
	snap.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(EINVAL, errno);
	snap.reserved[3] = 0;
	snap.vcpu_stride = sizeof(self->st[0]) - 8;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(EINVAL, errno);
	snap.vcpu_stride = sizeof(self->st[0]) + 4;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(EINVAL, errno);
	snap.vcpu_stride = sizeof(self->st[0]);
	snap.vcpus = 8;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* Too few records: -E2BIG and the number needed. */
	snap.vcpus = (uintptr_t)self->st;
	snap.nr_vcpus = variant->nr_vcpus - 1;
	EXPECT_EQ(-1, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(variant->nr_vcpus, snap.nr_vcpus);
}

/* A mask selects vCPUs by id; a larger stride is honoured. */
TEST_F(snap, mask_and_stride)
{
	struct {
		struct kvmdbg_vcpu_state st;
		uint64_t pad[5];
	} wide[MAX_VCPUS];
	struct kvmdbg_snapshot snap = { 0 };
	int last = variant->nr_vcpus - 1;

	memset(wide, 0xaa, sizeof(wide));
	snap.nr_vcpus = 1;
	snap.vcpu_stride = sizeof(wide[0]);
	snap.vcpus = (uintptr_t)wide;
	snap.vcpu_mask[0] = 1ULL << last;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(1, snap.nr_vcpus);
	EXPECT_EQ(last, wide[0].st.vcpu_id);
	EXPECT_EQ(COUNTER_GPA(last), wide[0].st.regs.rbx);
	EXPECT_EQ(0xaaaaaaaaaaaaaaaaULL, wide[0].pad[0]);
	snap.nr_vcpus = MAX_VCPUS;
	snap.vcpu_mask[0] = 0;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(variant->nr_vcpus, snap.nr_vcpus);
	EXPECT_EQ(last, wide[last].st.vcpu_id);
	EXPECT_EQ(0xaaaaaaaaaaaaaaaaULL, wide[last].pad[4]);
	/* A mask naming no existing vCPU captures nothing. */
	snap.vcpu_mask[15] = 1ULL << 63;
	ASSERT_EQ(0, ioctl(self->s, KVMDBG_SNAPSHOT, &snap));
	EXPECT_EQ(0, snap.nr_vcpus);
}

/*
 * @count snapshots while the vCPUs run, each checked for consistency.
 * The mask rotates so that every vCPU is sometimes captured first: its
 * counter, read after the last capture, then proves it did not run
 * between the first and the last capture.
 */
static void check_atomic(struct __test_metadata *_metadata, struct vm *vm,
			 int s, struct kvmdbg_vcpu_state *states, int count)
{
	int nr = vm->nr_vcpus;
	struct kvmdbg_range rg = { .addr = COUNTER_GPA(0), .len = 64 * MAX_VCPUS };
	uint64_t counters[8 * MAX_VCPUS];
	struct kvmdbg_snapshot snap;
	uint64_t retries = 0, stopped = 0;
	int n, i, first, bad = 0;

	rg.buf = (uintptr_t)counters;
	ASSERT_EQ(0, vm_start(vm));
	for (n = 0; n < count && !bad; n++) {
		/* Let the vCPU threads re-enter the guest between snapshots. */
		usleep(200);
		first = n % nr;
		memset(&snap, 0, sizeof(snap));
		snap.nr_vcpus = MAX_VCPUS;
		snap.vcpu_stride = sizeof(states[0]);
		snap.vcpus = (uintptr_t)states;
		snap.ranges = (uintptr_t)&rg;
		snap.nr_ranges = 1;
		for (i = first; i < nr; i++)
			snap.vcpu_mask[0] |= 1ULL << i;
		ASSERT_EQ(0, ioctl(s, KVMDBG_SNAPSHOT, &snap))
			TH_LOG("snapshot %d: %s", n, strerror(errno));
		ASSERT_EQ(nr - first, snap.nr_vcpus);
		retries += snap.nr_retries;
		stopped += snap.stopped_ns;
		for (i = 0; i < nr - first; i++) {
			struct kvmdbg_vcpu_state *st = &states[i];
			uint64_t mem = counters[8 * st->vcpu_id];

			if (counter_consistent(st, mem))
				continue;
			TH_LOG("snapshot %d vCPU %u: rax %llu rip %#llx counter %llu",
			       n, st->vcpu_id, (unsigned long long)st->regs.rax,
			       (unsigned long long)st->regs.rip,
			       (unsigned long long)mem);
			bad++;
		}
	}
	vm_stop(vm);
	EXPECT_EQ(0, bad);
	/* The guest really ran in between. */
	for (i = 0; i < nr; i++)
		EXPECT_LT(1000ULL * i + count / 10,
			  *(uint64_t *)gpa(vm, COUNTER_GPA(i)));
	TH_LOG("%d snapshots, %llu redone, mean stop %llu us", count,
	       (unsigned long long)retries,
	       (unsigned long long)(stopped / count / 1000));
}

TEST_F(snap, atomic_1000)
{
	check_atomic(_metadata, &self->vm, self->s, self->st, 1000);
}

/* 10,000 snapshots of 2 running vCPUs, once (TCG time). */
FIXTURE(load) {
	int unused;
};

FIXTURE_SETUP(load)
{
}

FIXTURE_TEARDOWN(load)
{
}

TEST_F_TIMEOUT(load, atomic_10000_under_load, 600)
{
	struct kvmdbg_vcpu_state st[MAX_VCPUS];
	struct vm vm;
	int dev, s;

	REQUIRE_KVMDBG(dev);
	ASSERT_EQ(0, install_kick_handler());
	ASSERT_EQ(0, vm_create(&vm, 2));
	s = session_open(dev, &vm);
	ASSERT_LE(0, s);
	check_atomic(_metadata, &vm, s, st, 10000);
	EXPECT_EQ(0, vm.vcpus[0].error | vm.vcpus[1].error);
	EXPECT_EQ(0, vm.vcpus[0].bad_exit | vm.vcpus[1].bad_exit);
	close(s);
	vm_destroy(&vm);
	close(dev);
}

TEST_HARNESS_MAIN
